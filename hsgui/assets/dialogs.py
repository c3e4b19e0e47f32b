"""Dialogs around the asset editor: edit one asset in its own window; create a new asset stream."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QMessageBox, QVBoxLayout

from channels.errors import StreamIdError
from channels.stream import Stream, StreamId, StreamInstance
from channels.utils import utcnow

from hsgui.common.background import JobKind
from hsgui.forms.meta_editor import MetaDataEditor
from hsgui.forms.schemas import schema_for_stream
from hsgui.forms.value_form import AssetValueForm, set_invalid
from hsgui.forms.value_schema import default_for_schema

from .editor import AssetConflictError, AssetEditor, stream_title


class AssetEditorDialog(QDialog):
    """The asset editor in its own window."""

    def __init__(self, runner, channel, stream, parent=None, schema: dict | None | bool = False, tool_lookup=None):
        super().__init__(parent)
        self.editor = AssetEditor(runner, channel, stream, schema=schema, tool_lookup=tool_lookup)
        sid = self.editor.stream.stream_id if self.editor.stream is not None else None
        self.setWindowTitle(f"Asset — {stream_title(sid)}" if sid else "Asset")
        self.resize(980, 620)
        self.sigSaved = self.editor.sigSaved
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        v = QVBoxLayout(self)
        v.addWidget(self.editor, 1)
        v.addWidget(buttons)

    def reject(self) -> None:
        if self.editor.has_unsaved_changes:
            answer = QMessageBox.question(self, "Unsaved changes", "Discard the unsaved changes to this asset?",
                                          QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Discard:
                return
        super().reject()


# ---------------------------------------------------------------------------------------------------------
# creating an asset stream
# ---------------------------------------------------------------------------------------------------------

def create_asset(ctx, channel, stream_id: StreamId, value):
    """Create an asset stream with its first version; StreamAlreadyExists-style error if it exists."""
    if stream_id in channel.streams:
        raise AssetConflictError(f"asset {stream_id} already exists in channel {channel.channel_id!r}")
    return channel.write_to_stream(stream_id, StreamInstance(utcnow(), value))


class CreateAssetDialog(QDialog):
    """New asset stream: name, meta-data pairs and an initial value (schema hints by name)."""

    sigCreated = Signal(object)   # the new Stream

    def __init__(self, runner, channel, parent=None, tool_lookup=None):
        super().__init__(parent)
        self.runner = runner
        self.channel = channel
        self.tool_lookup = tool_lookup
        self.created: Stream | None = None
        self._value_touched = False
        self._busy = False
        self.setWindowTitle(f"New asset in {channel.channel_id}")
        self.resize(900, 600)

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. houses, residents, workflow_parameters")
        self.name_edit.textEdited.connect(self._on_name_edited)
        self.name_error = QLabel()
        self.name_error.setStyleSheet("color: #c62828;")
        self.name_error.setWordWrap(True)
        # the same editor as the Run Tool dialog's output: both dialogs name streams by one rule (StreamId's)
        self.meta = MetaDataEditor(headers=("Meta-data key", "Value"))
        self.meta.sigChanged.connect(self._update_state)
        self.meta_table = self.meta.table
        self.add_meta_button = self.meta.add_button
        self.remove_meta_button = self.meta.remove_button
        self.schema_label = QLabel()
        self.schema_label.setStyleSheet("color: #555555;")

        self.form = AssetValueForm()
        self.form.sigEdited.connect(self._on_value_edited)
        self.form.sigValidityChanged.connect(lambda _v: self._update_state())
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)

        fl = QFormLayout()
        fl.addRow("Name", self.name_edit)
        fl.addRow("", self.name_error)
        fl.addRow("Meta-data", self.meta)
        fl.addRow("Schema", self.schema_label)
        buttons = QDialogButtonBox()
        self.create_button = buttons.addButton("Create", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.create_button.clicked.connect(self.create)
        buttons.rejected.connect(self.reject)
        v = QVBoxLayout(self)
        v.addLayout(fl)
        v.addWidget(QLabel("<b>Initial value</b>"))
        v.addWidget(self.form, 1)
        v.addWidget(self.status_label)
        v.addWidget(buttons)
        self._on_name_edited("")

    def add_meta_pair(self, key: str, value: str) -> None:
        self.meta.add_pair(key, value)

    def _remove_meta_pair(self) -> None:
        self.meta.remove_selected()

    def meta_data(self) -> list[tuple[str, str]]:
        """The non-blank meta-data rows, unchecked (see :meth:`stream_id` for the checks)."""
        return self.meta.rows()

    def stream_id(self) -> StreamId:
        """The id being created; StreamIdError with the reason when name or meta-data are malformed.

        The rules are StreamId's own, as in the Run Tool dialog: a name may hold ':', '[' or ']' (the
        text form quotes it), so whatever a tool run can name, an asset can be named too.
        """
        name = self.name_edit.text().strip()
        if not name:
            raise StreamIdError("enter a name for the asset")
        return StreamId(name, self.meta.pairs())

    def _on_name_edited(self, _text: str) -> None:
        name = self.name_edit.text().strip()
        schema = schema_for_stream(StreamId(name), self.tool_lookup) if name else None
        if schema != self.form.schema:
            if self._value_touched:
                self.form.set_schema(schema)
            else:
                self.form.set_value(default_for_schema(schema) if schema else {}, schema)
        self.schema_label.setText(schema.get("title", name) if schema else "none (any JSON-like value)")
        self._update_state()

    def _on_value_edited(self) -> None:
        self._value_touched = True
        self._update_state()

    def blocked_reason(self) -> str:
        try:
            sid = self.stream_id()
        except StreamIdError as e:
            return str(e)
        if sid in self.channel.streams:
            return f"asset {sid} already exists in channel {self.channel.channel_id!r}"
        if not self.form.is_valid:
            return "fix the value first: " + "; ".join(self.form.problem_texts()[:3])
        if self._busy:
            return "creating…"
        return ""

    def _update_state(self) -> None:
        reason = self.blocked_reason()
        name_problem = reason if reason and not reason.startswith(("fix the value", "creating")) else ""
        show = name_problem if self.name_edit.text().strip() or self.meta_data() else ""
        self.name_error.setText(show)
        self.name_error.setVisible(bool(show))
        set_invalid(self.name_edit, [show] if show else [])
        self.create_button.setEnabled(not reason)
        self.create_button.setToolTip(reason or "Create the asset with this value as its first version")

    def create(self) -> None:
        reason = self.blocked_reason()
        if reason:
            self.status_label.setText(f"Cannot create: {reason}")
            return
        sid = self.stream_id()
        self._busy = True
        self._update_state()
        self.status_label.setText("Creating…")
        self.runner.submit(f"Create asset {sid}", create_asset, self.channel, sid, self.form.value(),
                           kind=JobKind.WRITE, on_result=self._on_created, on_error=self._on_failed)

    def _on_created(self, stream) -> None:
        self._busy = False
        self.created = stream
        self.status_label.setText(f"Created {stream.stream_id}.")
        self.sigCreated.emit(stream)
        self.accept()

    def _on_failed(self, message: str) -> None:
        self._busy = False
        self.status_label.setText(f"Not created: {message}")
        self.status_label.setStyleSheet("color: #c62828;")
        self._update_state()


__all__ = ["AssetEditorDialog", "CreateAssetDialog", "create_asset"]
