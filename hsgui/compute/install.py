"""The compute feature: the Tools dock (left, tabbed with the Streams) and the Run history (bottom); Run tool
(Ctrl+R), Compute with… / Compute missing… / Purge… on streams, Run again from the history."""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt

from hsgui.common.background import JobKind
from hsgui.common.deferred_dock import DeferredDock, Views
from hsgui.shell import follow


class Compute(QObject):
    def __init__(self, shell):
        super().__init__(shell.widget)
        self.shell = shell
        # both docks start behind others' tabs: their contents are built when first shown (or asked for)
        self.tools = DeferredDock(shell, "tools", "Tools", self._make_tools_dock, "left", tabify_with="streams")
        self.runs = DeferredDock(shell, "runs", "Run history", self._make_run_history, "bottom", tabify_with="log",
                                 scroll=True)
        shell.runner.jobFinished.connect(self._job_finished)
        self.last_compute_missing = None
        self.views = Views(tools_dock=self.tools, run_history=self.runs)

    @property
    def tools_dock(self):
        return self.tools.widget()

    @property
    def run_history(self):
        return self.runs.widget()

    def _make_tools_dock(self):
        from hsgui.compute.tools_dock import ToolsDock
        dock = ToolsDock(None)
        dock.sigRunTool.connect(lambda c, n, v: self.open_run_dialog(c, n, version=v or None))
        follow(dock, self.shell.state, "manager", dock.set_manager)
        return dock

    def _make_run_history(self):
        from hsgui.compute.run_history import RunHistoryWidget
        history = RunHistoryWidget(None, self.shell.runner)
        history.sigRunAgain.connect(self.run_again)
        follow(history, self.shell.state, "manager", history.set_manager)
        return history

    def _job_finished(self, job):
        history = self.runs.if_built()
        if job.kind is JobKind.TOOL and history is not None:
            history.refresh()

    def open_run_dialog(self, channel_id, tool_name, version=None, inputs=()):
        from hsgui.compute.run_tool_dialog import RunToolDialog
        state = self.shell.state
        dlg = RunToolDialog(state.manager, self.shell.runner, self.shell.resolve_stream, channel_id, tool_name,
                            version, state.interval, state.time_zone, inputs, self.shell.widget)
        return self.shell.show_dialog(dlg)  # non-modal, so streams can be dragged in from the tree

    def run_again(self, record):
        try:
            channel, _tv = self.shell.state.manager.find_tool(record.tool, record.tool_version)
        except Exception as e:  # noqa: BLE001 - a tool removed since the run
            return self.shell.show_error(str(e))
        dlg = self.open_run_dialog(channel.channel_id, record.tool, record.tool_version)
        dlg.set_from_run(record)
        return dlg

    def run_selected_tool(self, _ctx=None):
        from hsgui.compute.tools_dock import ROLE_KIND
        item = self.tools_dock.tree.currentItem()
        if item is not None and item.data(0, ROLE_KIND) in ("tool", "version"):
            self.tools_dock.run_selected()
            return
        self.shell.show_dock("tools")
        self.tools_dock.tree.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.shell.show_status("Choose a tool (Up/Down), then Ctrl+R or Enter to run it", 6000)

    def compute_with_entries(self, ctx):
        """"Compute with…": the tools that take input streams, each opening the Run dialog with ``ctx``'s."""
        manager = self.shell.state.manager
        if manager is None:
            return []
        several = len(manager.tool_channels) > 1
        inputs = [(s.channel.channel_id, s.stream_id) for s in ctx.streams]
        return [(f"{name}  ({ch.channel_id})" if several else name,
                 lambda c=ch.channel_id, n=name: self.open_run_dialog(c, n, inputs=inputs))
                for ch in manager.tool_channels for name in ch.list_tools() if _takes_input(ch, name)]

    def compute_missing_for(self, stream):
        """"Compute missing…": find the run that made ``stream`` (a job), offer the visible range or the
        whole calculated span with the gaps each would fill, run the chosen one."""
        from hsgui.compute.compute_missing_dialog import start_compute_missing
        return start_compute_missing(self.shell, stream, on_job=lambda job: setattr(self, "last_compute_missing", job))

    def open_purge_dialog(self, streams):
        from hsgui.compute.purge_dialog import PurgeDialog
        state = self.shell.state
        dlg = PurgeDialog(self.shell.runner, streams, state.interval, self.shell.widget, tz=state.time_zone)
        return self.shell.show_dialog(dlg)


def _takes_input(tool_channel, name) -> bool:
    """Whether the tool can take the chosen streams as input: not a source tool that declares none (clock,
    random values, windows, file readers). A tool that cannot be loaded is kept: its dialog says why."""
    from hsgui.compute.dialog_text import expected_input_count     # the Run Tool dialog's text module: not at start
    try:
        cls = tool_channel.get_tool_class(name)
    except Exception:  # noqa: BLE001 - a broken tool file is shown by the dialog, never a crash here
        return True
    return expected_input_count(cls) != 0


def _writable(ctx) -> bool:
    return bool(ctx.streams) and all(not getattr(s.channel, "read_only", False) for s in ctx.streams)


def install(shell) -> Compute:
    c = Compute(shell)
    add = shell.actions.add
    add("tools.run", "Run tool…", c.run_selected_tool, menu="tools", order=100, shortcut="Ctrl+R",
        tip="Run the tool selected in the Tools dock (or open the Tools dock)")
    add("tools.history", "Run history", lambda ctx: shell.show_dock("runs"), menu="tools", order=810)
    add("compute.purge", lambda ctx: "Purge" + (f" {len(ctx.streams)} streams" if len(ctx.streams) > 1 else "") + "…",
        lambda ctx: c.open_purge_dialog(ctx.streams), scopes=("streams",), order=260, when=_writable)
    add("compute.with", "Compute with…", scopes=("streams",), order=600, submenu=c.compute_with_entries,
        when=lambda ctx: bool(ctx.streams) and shell.state.manager is not None)
    add("compute.missing", "Compute missing…", lambda ctx: c.compute_missing_for(ctx.stream), scopes=("streams",),
        order=610, when=lambda ctx: ctx.stream is not None and _writable(ctx),
        tip="compute the gaps of the calculated intervals (in the visible range or over the whole calculated "
            "span) with the run that made this stream")
    return c


__all__ = ["Compute", "install"]
