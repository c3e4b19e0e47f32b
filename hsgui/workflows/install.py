"""The workflows feature: the Workflows, Meta-data and Lineage docks, following the connection, the range, the
zone, the selected stream and finished jobs; a plate chosen in the Meta-data dock restricts the Streams dock."""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt

from hsgui.actions import Context
from hsgui.common.background import JobKind
from hsgui.common.deferred_dock import DeferredDock, Views
from hsgui.shell import follow


def has_workflows_job(ctx, manager) -> bool:
    """Whether ``manager``'s store holds a workflow that loads (what the Workflows dock would list)."""
    from channels.workflows.definitions import load_workflows
    try:
        documents = manager.store.list_documents("workflow_definitions") if manager.store is not None else []
    except NotImplementedError:
        return False
    return bool(load_workflows(documents)[0])


class Workflows(QObject):
    def __init__(self, shell):
        super().__init__(shell.widget)
        self.shell = shell
        # the three docks start behind others' tabs: their contents are built when first shown (or asked for)
        self.workflows_dock = DeferredDock(shell, "workflows", "Workflows", self._make_workflows, "bottom",
                                           tabify_with="instances")
        self.meta_data_dock = DeferredDock(shell, "metadata", "Meta-data", self._make_meta_data, "left",
                                           tabify_with="tools")
        self.lineage_dock = DeferredDock(shell, "lineage", "Lineage", self._make_lineage, "right",
                                         tabify_with="inspector")
        self.views = Views(workflows=self.workflows_dock, meta_data=self.meta_data_dock, lineage=self.lineage_dock)
        self._shown_first = False
        follow(self, shell.state, "manager", self._connected)
        shell.runner.jobFinished.connect(self._job_finished)

    # the docks' widgets, built now if they were not yet
    @property
    def workflows(self):
        return self.workflows_dock.widget()

    @property
    def meta_data(self):
        return self.meta_data_dock.widget()

    @property
    def lineage(self):
        return self.lineage_dock.widget()

    def _make_workflows(self):
        from hsgui.workflows.workflows_dock import WorkflowsDock
        dock, state = WorkflowsDock(self.shell.runner, None), self.shell.state
        follow(dock, state, "manager", dock.set_manager)
        follow(dock, state, "interval", lambda iv: iv is not None and dock.set_interval(iv))
        follow(dock, state, "time_zone", dock.set_time_zone)
        dock.sigStatus.connect(lambda text: self.shell.show_status(text, 10000))
        dock.sigStreamsActivated.connect(self._node_streams)
        return dock

    def _make_meta_data(self):
        from hsgui.workflows.meta_data_dock import MetaDataDock
        meta = MetaDataDock(None)
        workflows = self.workflows_dock.widget()      # it reads the model; its graph is drawn first, then this fills
        workflows.sigModelShown.connect(meta.set_model, Qt.ConnectionType.QueuedConnection)
        if workflows.model is not None:
            meta.set_model(workflows.model)
        meta.sigPlateSelected.connect(self._plate_selected)
        return meta

    def _make_lineage(self):
        from hsgui.workflows.lineage_view import LineageView
        lineage, state = LineageView(self.shell.runner, None), self.shell.state
        follow(lineage, state, "manager", lineage.set_manager)
        follow(lineage, state, "time_zone", lineage.set_time_zone)
        follow(lineage, state, "current_stream", lineage.set_stream)
        lineage.sigStatus.connect(lambda text: self.shell.show_status(text, 10000))
        lineage.sigStreamActivated.connect(self._select)
        return lineage

    def _connected(self, manager):
        # once per window: the first store with workflows shows them, unless plots are already up
        if manager is not None and not self._shown_first:
            self.shell.runner.submit("Look for workflows", has_workflows_job, manager, kind=JobKind.COUNT, owner=self,
                                     on_result=lambda found, m=manager: self._first_workflows(m, found))

    def _first_workflows(self, manager, found):
        if found and manager is self.shell.state.manager and not self._shown_first:
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
            if (workflows := self.workflows_dock.if_built()) is not None:
                workflows.refresh_states()
            if (lineage := self.lineage_dock.if_built()) is not None:
                lineage.refresh()


def install(shell) -> Workflows:
    w = Workflows(shell)
    shell.actions.add("workflows.show", "Workflows", lambda ctx: shell.show_dock("workflows"), menu="tools",
                      order=400)
    shell.actions.add("workflows.lineage", "Lineage of the selected stream", lambda ctx: shell.show_dock("lineage"),
                      menu="tools", order=410)
    return w


__all__ = ["Workflows", "install"]
