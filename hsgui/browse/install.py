"""The browse feature: the Streams, Inspector and Instances docks, following the state (connection, range,
zone, selected stream, restriction), re-reading when a job wrote, and the actions Find (Ctrl+F), Refresh (F5),
Show instances, Copy stream ids/keys."""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication

from channels.time_interval import TimeInterval
from hsgui.browse.inspector import InspectorDock
from hsgui.browse.instances_table import InstancesTable
from hsgui.browse.stream_tree import StreamTreeWidget
from hsgui.common.background import JobKind
from hsgui.common.connection import refresh_manager
from hsgui.shell import follow
from hsgui.actions import Context

#: the stream definitions are re-read this often (other processes may add streams)
AUTO_REFRESH_MS = 30_000


class Browse(QObject):
    def __init__(self, shell):
        super().__init__(shell.widget)
        self.shell = shell
        state = shell.state
        self.tree = StreamTreeWidget(shell.runner, shell.widget)
        self.inspector = InspectorDock(shell.runner, shell.widget)
        self.instances = InstancesTable(shell.runner, shell.widget)
        self.views = {"tree": self.tree, "inspector": self.inspector, "instances": self.instances}
        shell.add_dock("streams", "Streams", self.tree, "left")
        shell.add_dock("inspector", "Inspector", self.inspector, "right")
        shell.add_dock("instances", "Instances", self.instances, "bottom")
        self._refresh_job = None

        self.tree.menu_provider = lambda scope, streams, channel: shell.context_menu(
            scope, Context(list(streams), channel), self.tree)
        shell.set_selection_source(self.tree.selected_streams)
        self.tree.currentStreamChanged.connect(self._tree_current)
        self.tree.plotRequested.connect(lambda streams: shell.actions.trigger("plot.plot", Context(list(streams))))
        follow(self, state, "manager", self.tree.set_manager)
        follow(self, state, "restriction", self._restrict)
        follow(self, state, "current_stream", self._show_stream)
        follow(self, state, "interval", self._interval)
        follow(self, state, "time_zone", self._time_zone)
        shell.runner.jobFinished.connect(self._job_finished)
        self._auto = QTimer(self)
        self._auto.setInterval(AUTO_REFRESH_MS)
        self._auto.timeout.connect(lambda: self.refresh(auto=True))
        self._auto.start()
        shell.on_close(self._auto.stop)

    # -- following the state ---------------------------------------------------------------
    def _tree_current(self, stream):
        if stream is None and self.inspector.removed:
            return  # keep the deleted stream's last view and its message until the user picks another
        self.shell.state.current_stream = stream

    def _restrict(self, restriction):
        if restriction is None:
            self.tree.set_restriction(None)
        else:
            self.tree.set_restriction(*restriction)

    def _is_asset(self, stream) -> bool:
        manager = self.shell.state.manager
        return manager is not None and stream.channel in manager.asset_channels

    def _show_stream(self, stream):
        if stream is not None and self.tree.current_stream() != stream:
            self.tree.select_stream(stream.channel.channel_id, stream.stream_id)
        self.inspector.set_stream(stream)
        if stream is None:
            self.instances.set_stream(None)
        elif self._is_asset(stream):
            self.instances.set_stream(stream, TimeInterval.all_time())  # every version, not just the range's
        else:
            self.instances.set_stream(stream, self.shell.state.interval)

    def _interval(self, iv):
        if iv is not None:
            self.inspector.set_interval(iv)
            self.instances.set_interval(iv)

    def _time_zone(self, tz):
        self.inspector.set_time_zone(tz)
        self.instances.set_time_zone(tz)
        self.tree.model.time_zone = tz
        self.tree.view.viewport().update()

    # -- data changed ------------------------------------------------------------------------
    def _job_finished(self, job):
        if job.kind.writes_data and self.shell.state.manager is not None:
            self.streams_changed()

    def streams_changed(self):
        """A job wrote or purged: re-read the counts, the inspector and the instances shown."""
        if not self.tree.model.refresh_data():
            self.tree.view.viewport().update()
        if self.inspector.stream is not None:
            self.inspector.refresh()
            self._check_shown_stream()
        if self.instances.model.stream is not None:
            self.instances.model.reload()

    def _check_shown_stream(self):
        s = self.inspector.stream
        if s is not None and s.stream_id not in s.channel:   # lists nothing (one read before it is listed)
            self.inspector.stream_removed()
            if self.instances.model.stream is s:
                self.instances.set_stream(None)
                self.instances.status.setText(f"Stream {s.stream_id} was deleted.")

    def refresh(self, auto: bool = False):
        """Re-read stream definitions in a job; rebuild the tree if streams came or went."""
        manager = self.shell.state.manager
        if manager is None or self._refresh_job is not None:
            return None
        before = self.tree.model.snapshot()

        def done(_result):
            self._refresh_job = None
            if manager is not self.shell.state.manager:
                return
            after = self.tree.model.snapshot()
            self._check_shown_stream()
            if after != before or not auto:
                self.tree.model.reload()
            else:
                self.tree.view.viewport().update()
            if not auto:
                self.inspector.refresh()
                if self.instances.model.stream is not None:
                    self.instances.model.reload()

        def ended(*_):
            self._refresh_job = None

        self._refresh_job = self.shell.runner.submit(
            "Refresh stream definitions", refresh_manager, manager, recent=auto,
            kind=JobKind.COUNT if auto else JobKind.REFRESH,
            owner=self, on_result=done, on_error=ended, on_cancel=ended)
        return self._refresh_job

    @property
    def refreshing(self) -> bool:
        """A re-read of the stream definitions is running."""
        return self._refresh_job is not None

    # -- actions ----------------------------------------------------------------------------------
    def focus_filter(self, _ctx=None):
        self.shell.show_dock("streams")
        self.tree.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.tree.filter_edit.selectAll()

    def show_instances(self, ctx):
        self.instances.set_stream(ctx.stream, self.shell.state.interval)
        self.shell.show_dock("instances")

    def busy(self) -> bool:
        return self.tree.model.counts_pending() or self.instances.model.pending()


def _copy(text: str) -> None:
    QGuiApplication.clipboard().setText(text)


def _plural(ctx) -> str:
    return "s" if len(ctx.streams) != 1 else ""


def install(shell) -> Browse:
    b = Browse(shell)
    add = shell.actions.add
    add("file.refresh", "&Refresh", lambda ctx: b.refresh(), menu="file", order=300, shortcut="F5", toolbar=True,
        tip="Re-read the stream definitions (other processes may have added streams)")
    add("view.find", "Find streams", b.focus_filter, menu="view", order=100, shortcut="Ctrl+F",
        tip="Put the cursor in the Streams filter")
    add("browse.instances", "Show instances", b.show_instances, scopes=("streams",), order=250,
        when=lambda ctx: ctx.stream is not None)
    add("browse.copy_ids", lambda ctx: f"Copy stream id{_plural(ctx)}",
        lambda ctx: _copy("\n".join(str(s.stream_id) for s in ctx.streams)), scopes=("streams",), order=400,
        when=lambda ctx: bool(ctx.streams))
    add("browse.copy_keys", lambda ctx: f"Copy stream key{_plural(ctx)} (JSON)",
        lambda ctx: _copy("\n".join(s.stream_id.key for s in ctx.streams)), scopes=("streams",), order=410,
        when=lambda ctx: bool(ctx.streams))
    return b


__all__ = ["Browse", "install"]
