"""The workflows feature: the Workflows, Meta-data and Lineage docks, following the connection, the range, the
zone, the selected stream and finished jobs; a plate chosen in the Meta-data dock restricts the Streams dock."""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt

from hsgui.actions import Context
from hsgui.shell import follow
from hsgui.workflows.lineage_view import LineageView
from hsgui.workflows.meta_data_dock import MetaDataDock
from hsgui.workflows.workflows_dock import WorkflowsDock



class Workflows(QObject):
    def __init__(self, shell):
        super().__init__(shell.widget)
        self.shell = shell
        state = shell.state
        self.workflows = WorkflowsDock(shell.runner, shell.widget)
        shell.add_dock("workflows", "Workflows", self.workflows, "bottom", tabify_with="instances")
        self.meta_data = MetaDataDock(shell.widget)
        shell.add_dock("metadata", "Meta-data", self.meta_data, "left", tabify_with="tools")
        self.lineage = LineageView(shell.runner, shell.widget)
        shell.add_dock("lineage", "Lineage", self.lineage, "right", tabify_with="inspector")
        self.views = {"workflows": self.workflows, "meta_data": self.meta_data, "lineage": self.lineage}
        self._shown_first = False

        follow(self, state, "manager", self._connected)
        follow(self, state, "interval", lambda iv: iv is not None and self.workflows.set_interval(iv))
        follow(self, state, "time_zone", self._time_zone)
        follow(self, state, "current_stream", self.lineage.set_stream, now=False)
        # the graph is drawn first (in slices between events), the Meta-data dock fills in a pass of its own after
        self.workflows.sigModelShown.connect(self.meta_data.set_model, Qt.ConnectionType.QueuedConnection)
        self.workflows.sigModelLoaded.connect(self._first_model)
        self.workflows.sigStatus.connect(lambda text: shell.show_status(text, 10000))
        self.lineage.sigStatus.connect(lambda text: shell.show_status(text, 10000))
        self.meta_data.sigPlateSelected.connect(self._plate_selected)
        self.workflows.sigStreamsActivated.connect(self._node_streams)
        self.lineage.sigStreamActivated.connect(self._select)
        shell.runner.jobFinished.connect(self._job_finished)

    def _connected(self, manager):
        self.workflows.set_manager(manager)
        self.lineage.set_manager(manager)

    def _time_zone(self, tz):
        self.workflows.set_time_zone(tz)
        self.lineage.set_time_zone(tz)

    def _first_model(self, model):
        # once per window: the first store with workflows shows them, unless plots are already up
        if model is not None and model.workflows and not self._shown_first:
            self._shown_first = True
            if not self.shell.plots.curves():
                self.shell.show_dock("workflows")

    def _plate_selected(self, pid, sets):
        self.shell.state.restriction = (sets, f"streams over plate {pid}") if pid else None

    def _select(self, cid, sid):
        try:
            self.shell.state.current_stream = self.shell.resolve_stream(cid, sid)
        except Exception:  # noqa: BLE001 - a stream that is gone since
            self.shell.show_status(f"{sid} is not in this store (any more)", 8000)

    def _node_streams(self, pairs):
        streams = []
        for cid, sid in pairs:
            try:
                streams.append(self.shell.resolve_stream(cid, sid))
            except Exception:  # noqa: BLE001 - a node's stream that was never computed
                continue
        if not streams:
            self.shell.show_status("none of this node's streams exists yet: run the workflow first", 10000)
            return
        self.shell.state.current_stream = streams[0]
        self.shell.actions.trigger("plot.plot", Context(streams[:12]))

    def _job_finished(self, job):
        if job.kind.writes_data:   # what the docks show may have changed
            self.workflows.refresh_states()
            self.lineage.refresh()


def install(shell) -> Workflows:
    w = Workflows(shell)
    shell.actions.add("workflows.show", "Workflows", lambda ctx: shell.show_dock("workflows"), menu="tools",
                      order=400)
    shell.actions.add("workflows.lineage", "Lineage of the selected stream", lambda ctx: shell.show_dock("lineage"),
                      menu="tools", order=410)
    return w


__all__ = ["Workflows", "install"]
