"""The asset editor: a typed form over the latest version of an asset stream.

Thin Qt layer over :mod:`hsgui.forms.value_model` (value trees, validation, raw JSON,
diff) and :mod:`hsgui.forms.schemas` (schema hints):

* the value itself is edited in :class:`hsgui.forms.value_form.AssetValueForm`;
* :class:`AssetEditor` — the form for one asset stream plus Save (diff
  preview, then a new instance stamped now, written by a background job) and
  History (earlier versions read-only, diff against the current one, Restore).
* :class:`AssetEditorDialog`, :class:`CreateAssetDialog`.

Store reads and writes run through :class:`hsgui.common.background.JobRunner`; the GUI
thread never waits for the store.
"""
from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (QDialog, QDialogButtonBox,
                               QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QPlainTextEdit, QPushButton,
                               QSplitter, QTabWidget, QVBoxLayout, QWidget)

from channels.errors import ChannelsError
from channels.stream import Stream, StreamId, StreamInstance, get_stream_id
from channels.time_interval import TimeInterval
from channels.utils import utcnow

from hsgui.common.background import JobKind
from hsgui.forms.value_kinds import AssetValueError, datetime_text, path_text
from hsgui.forms.value_text import to_json_text
from hsgui.forms.value_model import same_value
from hsgui.forms.value_schema import default_for_schema
from hsgui.forms.value_diff import diff_values, format_diff, merge_edits, summarize_diff
from hsgui.forms.schemas import schema_for_stream
from hsgui.forms.value_form import AssetValueForm, mono_font


class AssetConflictError(ChannelsError):
    """The asset got a newer version (from someone else) since the editor loaded it."""


def stream_title(stream_id: StreamId) -> str:
    meta = ", ".join(f"{k}={v}" for k, v in stream_id.meta_data)
    return stream_id.name + (f"  [{meta}]" if meta else "")


# ---------------------------------------------------------------------------------------------------------
# confirm-with-diff dialog
# ---------------------------------------------------------------------------------------------------------

class DiffConfirmDialog(QDialog):
    """Shows the changes a save (or restore) will write, and asks to go ahead."""

    def __init__(self, title: str, intro: str, lines: list[str], ok_text: str, warning: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.resize(620, 380)
        v = QVBoxLayout(self)
        self.intro_label = QLabel(intro)
        self.intro_label.setWordWrap(True)
        v.addWidget(self.intro_label)
        self.diff_view = QPlainTextEdit()
        self.diff_view.setReadOnly(True)
        self.diff_view.setFont(mono_font())
        self.diff_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        fill_diff_view(self.diff_view, lines)
        v.addWidget(self.diff_view, 1)
        self.warning_label = QLabel(warning)
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #b26a00;")
        self.warning_label.setVisible(bool(warning))
        v.addWidget(self.warning_label)
        buttons = QDialogButtonBox()
        self.ok_button = buttons.addButton(ok_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        v.addWidget(buttons)


def fill_diff_view(view: QPlainTextEdit, lines: list[str]) -> None:
    view.clear()
    cursor = view.textCursor()
    colours = {"+": "#2e7d32", "-": "#c62828", "~": "#b26a00"}
    for i, line in enumerate(lines or ["(no changes)"]):
        fmt = QTextCharFormat()
        fmt.setForeground(QColor(colours.get(line[:1], "#333333")))
        cursor.insertText(("\n" if i else "") + line, fmt)
    view.moveCursor(QTextCursor.MoveOperation.Start)


# ---------------------------------------------------------------------------------------------------------
# background work (plain functions: they run on a pool thread and never touch widgets)
# ---------------------------------------------------------------------------------------------------------

def read_versions(ctx, stream: Stream) -> list[StreamInstance]:
    """Every version of an asset stream, oldest first."""
    return stream.window(TimeInterval.all_time()).items()


def write_version(ctx, channel, stream_id: StreamId, value, expected_last: datetime | None):
    """Write ``value`` as a new version stamped now; never overwrites.

    AssetConflictError when the stream got a version the editor has not seen;
    waits (a few ms at most) so the new timestamp is strictly after the newest.
    """
    stream = channel.streams.get(stream_id)
    last = stream.window(TimeInterval.all_time()).last() if stream is not None else None
    last_ts = last.timestamp if last is not None else None
    if last_ts != expected_last:
        seen = datetime_text(expected_last) if expected_last else "none"
        raise AssetConflictError(f"asset {stream_id} has a newer version ({datetime_text(last_ts)}) than the one "
                                 f"being edited ({seen}); reload it and apply your changes again"
                                 if last_ts else f"asset {stream_id} lost its versions while being edited")
    ts = utcnow()
    while last_ts is not None and ts <= last_ts:
        time.sleep(0.001)
        ts = utcnow()
    stream = channel.write_to_stream(stream_id, StreamInstance(ts, value))
    return stream, ts


# ---------------------------------------------------------------------------------------------------------
# the editor
# ---------------------------------------------------------------------------------------------------------

class AssetEditor(QWidget):
    """Edit the latest version of an asset stream; save as a new version; browse and restore history."""

    sigSaved = Signal(object)      # the Stream, after a new version was written
    sigLoaded = Signal(object)     # the Stream, after its versions were (re)read
    sigFailed = Signal(str)        # a readable message (load or save failed)

    def __init__(self, runner, channel=None, stream=None, parent=None, schema: dict | None | bool = False,
                 tool_lookup=None):
        super().__init__(parent)
        self.runner = runner
        self.channel = None
        self.stream: Stream | None = None
        self.versions: list[StreamInstance] = []
        self.tool_lookup = tool_lookup
        self._schema_override = schema
        self._loading = (self, "versions")   # JobRunner.latest key: only the newest read of the versions answers
        self._busy = False
        self._loaded = False
        self._reapply = None      # (base value, edited value) to re-apply after a Reload
        self.confirm_dialog: DiffConfirmDialog | None = None

        self.title_label = QLabel()
        f = self.title_label.font()
        f.setPointSizeF(f.pointSizeF() * 1.2)
        f.setBold(True)
        self.title_label.setFont(f)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.info_label = QLabel()
        self.info_label.setStyleSheet("color: #555555;")
        self.info_label.setWordWrap(True)

        self.form = AssetValueForm()
        self.form.sigEdited.connect(self._update_state)
        self.form.sigValidityChanged.connect(lambda _v: self._update_state())
        self.changes_label = QLabel()
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Discard the edits and show the current version again")
        self.revert_button.clicked.connect(self.revert)
        self.reload_button = QPushButton("Reload")
        self.reload_button.setToolTip("Read the newest version again and re-apply your edits on top of it")
        self.reload_button.clicked.connect(self.reload_keeping_edits)
        self.save_button = QPushButton("Save…")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.request_save)
        bottom = QHBoxLayout()
        bottom.addWidget(self.changes_label)
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.reload_button)
        bottom.addWidget(self.revert_button)
        bottom.addWidget(self.save_button)
        edit_page = QWidget()
        ev = QVBoxLayout(edit_page)
        ev.setContentsMargins(4, 4, 4, 4)
        ev.addWidget(self.form, 1)
        ev.addLayout(bottom)

        # history
        self.history_list = QListWidget()
        self.history_list.currentRowChanged.connect(self._show_version)
        self.history_view = AssetValueForm(read_only=True)
        self.history_view.raw_toggle.setChecked(False)
        self.history_view.raw_panel.hide()
        self.history_diff_label = QLabel("Select a version.")
        self.history_diff_label.setWordWrap(True)
        self.history_diff = QPlainTextEdit()
        self.history_diff.setReadOnly(True)
        self.history_diff.setFont(mono_font())
        self.history_diff.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.restore_button = QPushButton("Restore this version…")
        self.restore_button.setEnabled(False)
        self.restore_button.clicked.connect(self.request_restore)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.history_view)
        diff_box = QWidget()
        dv = QVBoxLayout(diff_box)
        dv.setContentsMargins(0, 0, 0, 0)
        dv.addWidget(self.history_diff_label)
        dv.addWidget(self.history_diff, 1)
        rb = QHBoxLayout()
        rb.addStretch(1)
        rb.addWidget(self.restore_button)
        dv.addLayout(rb)
        right.addWidget(diff_box)
        history_page = QSplitter(Qt.Orientation.Horizontal)
        history_page.addWidget(self.history_list)
        history_page.addWidget(right)
        history_page.setStretchFactor(1, 3)

        self.tabs = QTabWidget()
        self.tabs.addTab(edit_page, "Edit")
        self.tabs.addTab(history_page, "History")

        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.title_label)
        v.addWidget(self.info_label)
        v.addWidget(self.tabs, 1)
        self.set_stream(channel, stream)

    # -- public API -------------------------------------------------------------------------------------
    @property
    def current_version(self) -> StreamInstance | None:
        return self.versions[-1] if self.versions else None

    @property
    def current_value(self):
        v = self.current_version
        return v.value if v is not None else None

    @property
    def has_unsaved_changes(self) -> bool:
        if not self._loaded or self.stream is None:
            return False
        if self.current_version is None:
            return True
        return self.form.raw_error is not None or any(n.parse_error for n in self.form.root.walk()) or \
            not same_value(self.form.value(), self.current_value)

    def pending_changes(self) -> list[str]:
        """Diff lines of what Save would write."""
        if self.current_version is None:
            return ["+ (root) = " + to_json_text(self.form.value(), None)[:200] + "  (first version)"]
        return format_diff(diff_values(self.current_value, self.form.value()))

    def set_stream(self, channel, stream) -> None:
        """Show an asset stream (a Stream, a StreamId or its text) of ``channel``; None clears the editor.

        The stream already shown, while it has unsaved edits, keeps them: a tree rebuild (refresh, a tool run
        creating a stream) selects it again with a fresh Stream object, and that must not throw edits away."""
        if stream is not None and not isinstance(stream, Stream):
            stream = channel.get_or_create_stream(get_stream_id(stream), try_create=False)
        if (stream is not None and self.stream is not None and self.has_unsaved_changes
                and channel is not None and self.channel is not None
                and channel.channel_id == self.channel.channel_id and stream.stream_id == self.stream.stream_id):
            self.channel, self.stream = channel, stream
            return
        self.runner.cancel_latest(self._loading)
        self._reapply = None
        self.channel = channel
        self.stream = stream
        self.versions = []
        self._loaded = False
        self.history_list.blockSignals(True)  # its rows point into the old stream's versions
        self.history_list.clear()
        self.history_list.blockSignals(False)
        if stream is None:
            self.title_label.setText("No asset selected")
            self.info_label.setText("Select an asset stream to edit it.")
            self.form.set_value({}, None)
            self.form.setEnabled(False)
            self._update_state()
            return
        self.title_label.setText(stream_title(stream.stream_id))
        schema = self._schema_override if self._schema_override is not False else \
            schema_for_stream(stream.stream_id, self.tool_lookup)
        self.form.schema = schema
        self.history_view.schema = schema
        self.info_label.setText(f"Channel {channel.channel_id} · loading versions…")
        self.form.setEnabled(False)
        self.reload()

    def set_schema(self, schema: dict | None) -> None:
        self._schema_override = schema
        self.form.set_schema(schema)
        self.history_view.set_schema(schema)
        self._update_info()

    def reload(self, show_status: bool = True) -> None:
        """Re-read the stream's versions in the background (replaces unsaved edits)."""
        if self.stream is None:
            return
        self._set_busy(True, "Loading versions…" if show_status else "")
        self.runner.latest(self._loading, f"Read asset {self.stream.stream_id}", read_versions, self.stream,
                           kind=JobKind.READ, owner=self, on_result=self._on_loaded, on_error=self._on_load_failed)

    def reload_keeping_edits(self) -> None:
        """Re-read the versions (someone may have saved meanwhile) and re-apply the unsaved edits on the newest
        one: fields the user did not touch take the newer values; where both changed a field, the user's edit
        stays and the status names the field."""
        if self.stream is None or self._busy:
            return
        if self._loaded and self.has_unsaved_changes and self.form.is_valid:
            self._reapply = (self.current_value, self.form.value())
        else:
            self._reapply = None
        self.reload()

    def revert(self) -> None:
        if self.stream is None:
            return
        self._show_current()
        self.status_label.setText("Edits discarded.")

    # -- loading ---------------------------------------------------------------------------------------------
    def _on_loaded(self, versions) -> None:
        self.versions = list(versions)
        self._loaded = True
        self._set_busy(False, "")
        if self.status_label.text() == "Loading versions…":
            self._set_status("")
        self.form.setEnabled(True)
        self._show_current()
        reapply, self._reapply = self._reapply, None
        if reapply is not None:
            self._reapply_edits(*reapply)
        self._fill_history()
        self.sigLoaded.emit(self.stream)

    def _reapply_edits(self, base, edited) -> None:
        cur = self.current_version
        merged, conflicts = merge_edits(base, edited, cur.value if cur is not None else base)
        self.form.set_value(merged)
        self._update_state()
        when = datetime_text(cur.timestamp) if cur is not None else "none"
        text = f"Reloaded (current version {when}); your edits are applied on it."
        if conflicts:
            text += " Changed in both, your edit kept: " + ", ".join(
                path_text(c) for c in conflicts[:5]) + "."
        self._set_status(text)

    def _on_load_failed(self, message) -> None:
        self._set_busy(False, "")
        self._set_status(f"Could not read the asset: {message}", error=True)
        self.info_label.setText(f"Channel {self.channel.channel_id} · could not read versions")
        self.sigFailed.emit(message)

    def _show_current(self) -> None:
        cur = self.current_version
        if cur is not None:
            try:
                self.form.set_value(cur.value)
            except AssetValueError as e:
                self.form.set_value({})
                self.form.setEnabled(False)
                self._set_status(f"This asset cannot be edited here: {e}", error=True)
        else:
            self.form.set_value(default_for_schema(self.form.schema) if self.form.schema else {})
        self._update_info()
        self._update_state()

    def _update_info(self) -> None:
        if self.stream is None:
            return
        parts = [f"Channel {self.channel.channel_id}"]
        cur = self.current_version
        if cur is not None:
            parts.append(f"current version {datetime_text(cur.timestamp)}")
            parts.append(f"{len(self.versions)} version{'s' if len(self.versions) != 1 else ''}")
        elif self._loaded:
            parts.append("no versions yet")
        sch = self.form.schema
        if sch:
            parts.append(f"schema: {sch.get('title') or self.stream.stream_id.name}")
        self.info_label.setText(" · ".join(parts))

    def _fill_history(self) -> None:
        self.history_list.blockSignals(True)
        self.history_list.clear()
        for i, inst in reversed(list(enumerate(self.versions))):
            text = datetime_text(inst.timestamp)
            if i == len(self.versions) - 1:
                text += "  (current)"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, i)
            self.history_list.addItem(item)
        self.history_list.blockSignals(False)
        self.tabs.setTabText(1, f"History ({len(self.versions)})")
        if self.versions:
            self.history_list.setCurrentRow(0)
            self._show_version(0)
        else:
            self.history_view.set_value({})
            self.history_diff.clear()
            self.history_diff_label.setText("No versions yet.")
            self.restore_button.setEnabled(False)

    def selected_version(self) -> StreamInstance | None:
        item = self.history_list.currentItem()
        if item is None:
            return None
        i = item.data(Qt.ItemDataRole.UserRole)
        return self.versions[i] if 0 <= i < len(self.versions) else None

    def _show_version(self, _row) -> None:
        inst = self.selected_version()
        if inst is None:
            return
        try:
            self.history_view.set_value(inst.value)
        except AssetValueError as e:
            self.history_view.set_value({})
            self.history_diff_label.setText(str(e))
            return
        self.history_view.tree.expandAll()
        cur = self.current_version
        if inst is cur:
            self.history_diff_label.setText("This is the current version.")
            fill_diff_view(self.history_diff, [])
            self.restore_button.setEnabled(False)
            return
        lines = format_diff(diff_values(cur.value, inst.value))
        self.history_diff_label.setText(f"Restoring {datetime_text(inst.timestamp)} would change the current "
                                        f"version like this ({summarize_diff(diff_values(cur.value, inst.value))}):")
        fill_diff_view(self.history_diff, lines)
        self.restore_button.setEnabled(bool(lines) and not self._busy)

    # -- state --------------------------------------------------------------------------------------------------
    def _set_busy(self, busy: bool, text: str) -> None:
        self._busy = busy
        if text:
            self._set_status(text)
        self._update_state()

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #c62828;" if error else "")

    def save_blocked_reason(self) -> str:
        """Why Save is disabled ('' when it is enabled)."""
        if self.stream is None:
            return "no asset selected"
        if not self._loaded:
            return "the asset is still loading"
        if self._busy:
            return "busy"
        if not self.form.is_valid:
            return "fix the problems first: " + "; ".join(self.form.problem_texts()[:3])
        if not self.has_unsaved_changes:
            return "nothing changed"
        return ""

    def _update_state(self) -> None:
        reason = self.save_blocked_reason()
        self.save_button.setEnabled(not reason)
        self.save_button.setToolTip(reason or "Review the changes and save them as a new version")
        self.revert_button.setEnabled(self._loaded and not self._busy and self.has_unsaved_changes)
        self.reload_button.setEnabled(self.stream is not None and not self._busy)
        if self._loaded and self.stream is not None and self.form.is_valid and self.current_version is not None:
            n = len(diff_values(self.current_value, self.form.value()))
            self.changes_label.setText(f"{n} unsaved change{'s' if n != 1 else ''}" if n else "No changes")
        elif self._loaded and self.current_version is None:
            self.changes_label.setText("New asset value (not saved yet)")
        else:
            self.changes_label.setText("")

    # -- saving ---------------------------------------------------------------------------------------------------
    def request_save(self) -> DiffConfirmDialog | None:
        """Show the diff of what will be written; the dialog's OK starts the save job."""
        if self.save_blocked_reason():
            self._set_status(f"Cannot save: {self.save_blocked_reason()}", error=True)
            return None
        value = self.form.value()
        lines = self.pending_changes()
        cur = self.current_version
        intro = (f"Save a new version of {stream_title(self.stream.stream_id)} (stamped now). The current version "
                 f"({datetime_text(cur.timestamp)}) stays in the history. Changes:" if cur is not None else
                 f"Save the first version of {stream_title(self.stream.stream_id)}:")
        dlg = DiffConfirmDialog("Save asset", intro, lines, "Save as new version", parent=self)
        dlg.accepted.connect(lambda v=value: self._start_write(v, "Saved"))
        self.confirm_dialog = dlg
        dlg.open()
        return dlg

    def request_restore(self) -> DiffConfirmDialog | None:
        inst = self.selected_version()
        if inst is None or inst is self.current_version or self._busy:
            return None
        lines = format_diff(diff_values(self.current_value, inst.value))
        warning = "Your unsaved edits in the form will be discarded." if self.has_unsaved_changes else ""
        dlg = DiffConfirmDialog("Restore asset version",
                                f"Save version {datetime_text(inst.timestamp)} again as a new version (stamped now). "
                                f"Nothing is deleted. Changes to the current version:",
                                lines, "Restore as new version", warning, parent=self)
        dlg.accepted.connect(lambda v=inst.value, t=inst.timestamp: self._start_write(
            v, f"Restored version {datetime_text(t)}"))
        self.confirm_dialog = dlg
        dlg.open()
        return dlg

    def _start_write(self, value, done_text: str) -> None:
        cur = self.current_version
        stream = self.stream
        self._set_busy(True, "Saving…")
        self.runner.submit(f"Save asset {stream.stream_id}", write_version, self.channel, stream.stream_id, value,
                           cur.timestamp if cur is not None else None, kind=JobKind.WRITE, owner=self,
                           on_result=lambda res, s=stream, t=done_text: self._on_written(s, res, t),
                           on_error=self._on_write_failed)

    def _on_written(self, stream, result, done_text: str) -> None:
        new_stream, ts = result
        self._set_busy(False, "")
        if self.stream is not None and new_stream.stream_id == self.stream.stream_id:
            self.stream = new_stream
        self._set_status(f"{done_text} as version {datetime_text(ts)}.")
        self.sigSaved.emit(new_stream)
        if self.stream is not None and new_stream.stream_id == self.stream.stream_id:
            self.reload(show_status=False)

    def _on_write_failed(self, message: str) -> None:
        self._set_busy(False, "")
        self._set_status(f"Not saved: {message}" + (" — click Reload" if "reload it" in message else ""), error=True)
        self.sigFailed.emit(message)


__all__ = ["AssetEditor", "DiffConfirmDialog", "AssetConflictError", "read_versions", "write_version", "stream_title"]
