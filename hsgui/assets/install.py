"""The assets feature: the Asset dock (bottom, tabbed with the Run history) shows the selected asset stream;
New asset… (Tools menu and a writable assets channel's menu) and Edit asset… (on an asset stream)."""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from hsgui.common.background import guarded
from hsgui.common.deferred_dock import DeferredDock, Views
from hsgui.shell import follow


class Assets(QObject):
    def __init__(self, shell):
        super().__init__(shell.widget)
        self.shell = shell
        # the editor wants width (field tree, raw JSON, buttons): it lives in the full-width bottom area; it is
        # built when the dock first shows (or an asset stream is selected)
        self.editor_dock = DeferredDock(shell, "asset", "Asset", self._make_editor, "bottom", tabify_with="runs",
                                        scroll=True)
        self.dock = self.editor_dock.dock
        follow(self, shell.state, "manager", self._connection_changed, now=False)
        follow(self, shell.state, "current_stream", self._selected, now=False)
        self.views = Views(asset_editor=self.editor_dock)

    def _make_editor(self):
        from hsgui.assets.editor import AssetEditor
        editor = AssetEditor(self.shell.runner, tool_lookup=self._tool_class)
        editor.sigFailed.connect(self.shell.show_error)
        return editor

    @property
    def asset_editor(self):
        return self.editor_dock.widget()

    def _connection_changed(self, _manager):
        editor = self.editor_dock.if_built()
        if editor is not None:
            editor.set_stream(None, None)

    def is_asset_channel(self, channel) -> bool:
        manager = self.shell.state.manager
        return manager is not None and channel in manager.asset_channels

    def _tool_class(self, name):
        channel, tv = self.shell.state.manager.find_tool(name)
        return channel.get_tool_class(name, tv.version)

    def _selected(self, stream):
        ed = self.editor_dock.if_built()
        if stream is not None and self.is_asset_channel(stream.channel) and self._may_leave_asset(stream):
            self.asset_editor.set_stream(stream.channel, stream)
            self.shell.show_dock("asset")
            w = self.shell.widget
            w.resizeDocks([self.dock], [max(self.dock.height(), 420)], Qt.Orientation.Vertical)
        elif ed is not None and ed.stream is not None and stream is not None:
            self.shell.show_dock("instances")

    def _may_leave_asset(self, stream) -> bool:
        """Whether the Asset dock may show ``stream``: asks before unsaved edits of another asset are dropped
        (the same asset selected again, e.g. after a tree rebuild, keeps its edits without asking)."""
        ed = self.editor_dock.if_built()
        if ed is None or ed.stream is None or not ed.has_unsaved_changes or (
                ed.channel.channel_id == stream.channel.channel_id and ed.stream.stream_id == stream.stream_id):
            return True
        answer = QMessageBox.question(
            self.shell.widget, "Unsaved changes", f"Discard the unsaved changes to the asset {ed.stream.stream_id}?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    def edit_asset(self, stream):
        """The asset editor in its own window (the Asset dock shows the same for the selected stream)."""
        from hsgui.assets.dialogs import AssetEditorDialog
        dlg = AssetEditorDialog(self.shell.runner, stream.channel, stream, self.shell.widget,
                                tool_lookup=self._tool_class)
        dlg.editor.sigFailed.connect(self.shell.show_error)
        return self.shell.show_dialog(dlg)

    def create_asset(self, channel=None):
        manager = self.shell.state.manager
        if manager is None:
            return self.shell.show_error("not connected")
        channel = channel or next((c for c in manager.asset_channels if not c.read_only), None)
        if channel is None:
            return self.shell.show_error("this connection has no writable assets channel")
        from hsgui.assets.dialogs import CreateAssetDialog
        dlg = CreateAssetDialog(self.shell.runner, channel, self.shell.widget, tool_lookup=self._tool_class)

        def created(stream):
            QTimer.singleShot(0, lambda: setattr(self.shell.state, "current_stream", stream))

        dlg.sigCreated.connect(guarded(self, created))
        return self.shell.show_dialog(dlg)


def install(shell) -> Assets:
    a = Assets(shell)
    add = shell.actions.add
    add("assets.new", "New asset…", lambda ctx: a.create_asset(), menu="tools", order=300)
    add("assets.new_stream", "New asset stream…", lambda ctx: a.create_asset(ctx.channel), scopes=("channel",),
        order=700, when=lambda ctx: a.is_asset_channel(ctx.channel) and not ctx.channel.read_only)
    add("assets.edit", "Edit asset…", lambda ctx: a.edit_asset(ctx.stream), scopes=("streams",), order=700,
        when=lambda ctx: ctx.stream is not None and a.is_asset_channel(ctx.stream.channel))
    return a


__all__ = ["Assets", "install"]
