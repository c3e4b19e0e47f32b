"""Shell wiring of the Workflows feature: the Workflows, Meta-data and Lineage docks and how they follow
the connection, the time range, the selection and finished jobs (kept out of ``main_window`` so each
feature's wiring reads in one place)."""
from __future__ import annotations

from PySide6.QtCore import Qt

from hsgui.workflows.lineage_view import LineageView
from hsgui.workflows.meta_data_dock import MetaDataDock
from hsgui.workflows.workflows_dock import WorkflowsDock


def install_workflow_docks(window) -> None:
    """Add the docks to ``window`` (a MainWindow) and connect them."""
    status = lambda text: window.statusBar().showMessage(text, 10000)  # noqa: E731
    window.workflows = WorkflowsDock(window.runner, window)
    window.add_dock("workflows", "Workflows", window.workflows, Qt.DockWidgetArea.BottomDockWidgetArea,
                    tabify_with="instances")
    window.meta_data = MetaDataDock(window)
    window.add_dock("metadata", "Meta-data", window.meta_data, Qt.DockWidgetArea.LeftDockWidgetArea,
                    tabify_with="tools")
    window.lineage = LineageView(window.runner, window)
    window.add_dock("lineage", "Lineage", window.lineage, Qt.DockWidgetArea.RightDockWidgetArea,
                    tabify_with="inspector")

    window.managerChanged.connect(window.workflows.set_manager)
    window.managerChanged.connect(window.lineage.set_manager)
    window.managerChanged.connect(lambda _m: window.tree.set_restriction(None))
    window.workflows.sigModelLoaded.connect(window.meta_data.set_model)

    def first_model(model, shown=[]):  # noqa: B006 - once per window: the first store with workflows shows them
        if model is not None and model.workflows and not shown:
            shown.append(True)
            if not window.plot_area.curves():
                window.docks["workflows"].raise_()

    window.workflows.sigModelLoaded.connect(first_model)
    window.workflows.sigStatus.connect(status)
    window.lineage.sigStatus.connect(status)
    window.meta_data.sigPlateSelected.connect(
        lambda pid, sets: window.tree.set_restriction(sets, f"streams over plate {pid}") if pid else
        window.tree.set_restriction(None))
    window.tree.currentStreamChanged.connect(window.lineage.set_stream)
    window.picker.sigRangeChanged.connect(window.workflows.set_interval)
    window.picker.sigTimeZoneChanged.connect(window.workflows.set_time_zone)
    window.picker.sigTimeZoneChanged.connect(window.lineage.set_time_zone)
    window.workflows.set_interval(window.picker.interval())

    def node_streams(pairs):
        streams = []
        for cid, sid in pairs:
            try:
                streams.append(window.resolve_stream(cid, sid))
            except (KeyError, LookupError, Exception):  # noqa: BLE001 - a node's stream that was never computed
                continue
        if not streams:
            status("none of this node's streams exists yet: run the workflow first")
            return
        window.tree.select_stream(streams[0].channel.channel_id, streams[0].stream_id)
        window.plot_streams(streams[:12])

    window.workflows.sigStreamsActivated.connect(node_streams)
    window.lineage.sigStreamActivated.connect(lambda cid, sid: window.tree.select_stream(cid, sid))

    def job_finished(job):
        if job.kind.writes_data:   # what the docks show may have changed
            window.workflows.refresh_states()
            window.lineage.refresh()

    window.runner.jobFinished.connect(job_finished)
    window.menus["tools"].addAction("Workflows", lambda: (window.docks["workflows"].show(),
                                                          window.docks["workflows"].raise_()))
    window.menus["tools"].addAction("Lineage of the selected stream", lambda: (window.docks["lineage"].show(),
                                                                               window.docks["lineage"].raise_()))


__all__ = ["install_workflow_docks"]
