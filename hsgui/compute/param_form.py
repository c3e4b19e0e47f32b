"""A form built from a tool's parameter specs (``channels.tools.params.parameter_specs``).

Pattern after magicgui's type map: each spec ``kind`` maps to one editor
widget; every field validates itself on each edit with the library's own
``coerce_value`` (so the form accepts exactly what the engine accepts) and
shows the reason next to the field when a value does not convert. The form
emits ``sigValidityChanged(bool)`` only when its overall validity really
changes, so a dialog can enable/disable its Run button from it.

Kinds and editors:

=========================  ==================================================
bool                       QCheckBox
int                        QSpinBox (32-bit range) or a validated line edit
                           when the default does not fit / there is none
float                      validated QLineEdit (keeps full precision, 1e-3)
str, any                   QLineEdit ("any": text that reads as JSON becomes
                           that value)
datetime                   DateTimeEdit (hsgui.forms: type or paste a time)
                           showing wall-clock time in the form's pytz
                           time zone; read back as aware UTC
timedelta                  QLineEdit: "60s", "5m", "2h", "1d", "HH:MM:SS", or
                           seconds
choice, function           QComboBox (Literal / Enum members / function
                           registry names; function docs as tooltips)
list                       QLineEdit: comma list (``1, 2, 3``) or JSON list,
                           plus a structured editor (below)
dict                       QLineEdit: JSON object, plus a structured editor
time_interval              QLineEdit: ``start/end`` ISO text
relative_time_interval     QLineEdit: ``-60s, 0``
=========================  ==================================================

Optional parameters get an "unset" check box: checked means the value is
``None`` and the editor is disabled.

List and dict parameters also get a structured editor: the asset editor's
:class:`hsgui.assets.editor.AssetValueForm` (a tree of typed fields with Add /
Remove / Move, items typed and offered per the list's item type) in a small
frame that the "items" / "keys" button next to the text shows and hides. Text
and tree stay in sync both ways; a problem in either is shown next to the field
and makes the form invalid. ``editor(name)`` stays the one-line text form;
``structured_editor(name)`` is the tree form.
"""
from __future__ import annotations

import enum
from datetime import datetime

import pytz
from PySide6.QtCore import QDate, QDateTime, QTime, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QFrame, QHBoxLayout, QLabel,
                               QLineEdit, QSizePolicy, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from channels.errors import ToolParameterError
from channels.tools.functions import FUNCTIONS
from channels.tools.params import REQUIRED, ParameterSpec, coerce_value, value_to_text
from channels.utils import MIN_DATE, UTC

from hsgui.forms.datetime_edit import DateTimeEdit
from hsgui.common.timefmt import readable_times
from hsgui.forms.value_form import COL_KEY, COL_NOTE, COL_TYPE, COL_VALUE, AssetValueForm
from hsgui.forms.value_kinds import AssetValueError
from hsgui.forms.value_model import same_value
from hsgui.forms.value_schema import allowed_kinds
from hsgui.forms.schemas import schema_for_parameter_value, to_asset_value

INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1
#: the earliest date a QDateTimeEdit here shows; it stands for MIN_DATE (year 1)
EDIT_MIN_DATE = QDate(100, 1, 1)
MIN_DATE_TEXT = "MIN_DATE (the beginning)"
#: parameter kinds that get a structured (tree) editor besides their text form
STRUCTURED_KINDS = ("list", "dict")
#: visible rows of a structured editor's tree before it scrolls
STRUCTURED_ROWS = 6

_PLACEHOLDERS = {
    "float": "number, e.g. 0.5 or 1e-3",
    "int": "integer",
    "timedelta": "duration, e.g. 60s, 5m, 2h, 1d",
    "list": "comma list (a, b, c) or JSON [..]",
    "dict": 'JSON object, e.g. {"key": 1}',
    "time_interval": "start/end, e.g. 2017-06-20T00:00Z/2017-06-21T00:00Z",
    "relative_time_interval": "start, end offsets, e.g. -60s, 0",
    "any": "text or JSON",
    "str": "text",
}


def _short_reason(exc: ToolParameterError) -> str:
    """The part of a ToolParameterError message after ``tool: parameter 'x': ``."""
    text = str(exc)
    prefix = f"{exc.tool}: parameter {exc.parameter!r}: "
    return text[len(prefix):] if text.startswith(prefix) else text


class ParamField(QWidget):
    """One parameter: editor + optional "unset" box + error label."""

    changed = Signal()

    def __init__(self, spec: ParameterSpec, tz=UTC, tool_name: str = "tool", parent=None):
        super().__init__(parent)
        self.spec = spec
        self.tz = tz
        self.tool_name = tool_name
        self.error: str | None = None
        self._extra_error: str | None = None   # set from outside (e.g. the tool's own constructor check)
        self._value = None
        # list / dict: the structured editor, and which side (text or tree) was edited last
        self.structured = None                 # AssetValueForm
        self.structure_button: QToolButton | None = None
        self.structure_frame: QFrame | None = None
        self._source = "text"
        self._tree_error: str | None = None
        self._syncing = False

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(1)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.editor = self._make_editor()
        self.editor.setObjectName(f"param_{spec.name}")
        row.addWidget(self.editor, 1)
        if spec.kind == "datetime":
            row.addWidget(QLabel(getattr(tz, "zone", str(tz))))
        if spec.kind in STRUCTURED_KINDS:
            self._make_structured(row)
        self.unset_box: QCheckBox | None = None
        if spec.optional:
            self.unset_box = QCheckBox("unset")
            self.unset_box.setObjectName(f"unset_{spec.name}")
            self.unset_box.setToolTip("leave this parameter as None")
            self.unset_box.toggled.connect(self._on_unset)
            row.addWidget(self.unset_box)
        lay.addLayout(row)
        if self.structure_frame is not None:
            lay.addWidget(self.structure_frame)
        self.error_label = QLabel()
        self.error_label.setObjectName(f"error_{spec.name}")
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        lay.addWidget(self.error_label)
        self.doc_label = None
        if spec.doc:
            self.editor.setToolTip(spec.doc)
            self.doc_label = QLabel(spec.doc.replace("``", ""))
            self.doc_label.setWordWrap(True)
            self.doc_label.setStyleSheet("color: #666; font-size: 8pt;")
            lay.addWidget(self.doc_label)

        self._fill_default()
        self.validate()
        if self.structured is not None:
            # compact: open when required or holding something; unset or empty defaults stay closed
            self._show_structure(not self.is_unset and (self.spec.required or bool(self.structured_value())))

    # -- editor per kind ------------------------------------------------------------
    def _make_editor(self):
        spec = self.spec
        kind = spec.kind
        if kind == "bool":
            w = QCheckBox()
            w.toggled.connect(self._edited)
            return w
        if kind == "int" and isinstance(spec.default, int) and not isinstance(spec.default, bool) \
                and INT32_MIN <= spec.default <= INT32_MAX:
            w = QSpinBox()
            w.setRange(INT32_MIN, INT32_MAX)
            w.setKeyboardTracking(True)
            w.valueChanged.connect(self._edited)
            return w
        if kind == "datetime":
            # the shared typeable editor; its minimum stands for MIN_DATE (the default "from the beginning"),
            # shown as MIN_DATE_TEXT, which typing a time replaces
            w = DateTimeEdit()
            w.setMinimumDateTime(QDateTime(EDIT_MIN_DATE, QTime(0, 0)))
            w.setSpecialValueText(MIN_DATE_TEXT)
            w.dateTimeChanged.connect(self._edited)
            w.textEdited.connect(self._edited)   # an invalid text shows its reason at once
            return w
        if kind in ("choice", "function"):
            w = QComboBox()
            for c in spec.choices or ():
                text = c.name if isinstance(c, enum.Enum) else ("None" if c is None else str(c))
                w.addItem(text, c)
                if kind == "function" and str(c) in FUNCTIONS:
                    w.setItemData(w.count() - 1, FUNCTIONS[str(c)].doc, Qt.ItemDataRole.ToolTipRole)
            w.currentIndexChanged.connect(self._edited)
            return w
        w = QLineEdit()
        w.setPlaceholderText(("required: " if spec.required else "") + _PLACEHOLDERS.get(kind, ""))
        w.setClearButtonEnabled(True)
        w.textChanged.connect(self._on_text_changed if kind in STRUCTURED_KINDS else self._edited)
        return w

    # -- the structured editor of list / dict parameters ---------------------------
    def _make_structured(self, row: QHBoxLayout) -> None:
        spec = self.spec
        is_list = spec.kind == "list"
        form = AssetValueForm()
        form.setObjectName(f"structured_{spec.name}")
        form.raw_toggle.setChecked(False)       # the line edit above is the text form
        form.raw_toggle.hide()
        form.summary_label.hide()               # problems show in the field's error label
        if is_list:
            form.rename_button.hide()
        for b in (form.add_button, form.remove_button, form.rename_button, form.up_button, form.down_button):
            b.setAutoRaise(True)
        form.add_button.setToolTip("Add an item to the list (after the selected one)" if is_list else
                                   "Add a key to the selected object or an item to the selected list")
        schema = schema_for_parameter_value(spec)
        tree = form.tree
        tree.setColumnWidth(COL_KEY, 70 if is_list else 130)
        tree.setColumnWidth(COL_VALUE, 200)
        # compact: the doc text is shown below the field and problems in its error label (and as a red
        # frame on the item), so no note column; no type column when the item type leaves no choice
        tree.setColumnHidden(COL_NOTE, True)
        if is_list and len(allowed_kinds(schema.get("items"))) == 1:
            tree.setColumnHidden(COL_TYPE, True)
        tree.setAlternatingRowColors(True)
        self._row_height = max(tree.fontMetrics().height() + 8, QComboBox().sizeHint().height() - 2)
        tree.itemExpanded.connect(lambda *_: self._fit_tree())
        tree.itemCollapsed.connect(lambda *_: self._fit_tree())
        form.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        form.set_value([] if is_list else {}, schema)
        form.sigEdited.connect(self._on_tree_edited)
        self.structured = form

        frame = QFrame()
        frame.setObjectName(f"structure_frame_{spec.name}")
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        fl = QVBoxLayout(frame)
        fl.setContentsMargins(3, 2, 3, 3)
        fl.setSpacing(2)
        self.structure_note = QLabel()
        self.structure_note.setWordWrap(True)
        self.structure_note.setStyleSheet("color: #b26a00; font-size: 8pt;")
        self.structure_note.hide()
        fl.addWidget(self.structure_note)
        fl.addWidget(form)
        self.structure_frame = frame

        button = QToolButton()
        button.setObjectName(f"structure_button_{spec.name}")
        button.setCheckable(True)
        button.setText("items" if is_list else "keys")
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setToolTip("Show or hide the structured editor (a field per "
                          + ("list item" if is_list else "key") + ")")
        button.toggled.connect(self._show_structure)
        self.structure_button = button
        row.addWidget(button)
        self._show_structure(False)

    def _show_structure(self, on: bool) -> None:
        if self.structure_button is None:
            return
        if self.structure_button.isChecked() != on:
            self.structure_button.setChecked(on)   # re-enters with the same value
            return
        self.structure_button.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.structure_frame.setVisible(on)

    def _fit_tree(self) -> None:
        """Size the tree to its visible rows (plus one free row), at most STRUCTURED_ROWS, then it scrolls."""
        if self.structured is None:
            return
        tree = self.structured.tree
        visible, it = 0, tree.topLevelItem(0)
        while it is not None:
            visible += 1
            it = tree.itemBelow(it)
        row = self._row_height
        rows = max(2, min(visible + 1, STRUCTURED_ROWS))
        tree.setFixedHeight(tree.header().sizeHint().height() + rows * row + 2 * tree.frameWidth())

    def _on_text_changed(self, _text=None) -> None:
        self._source = "text"
        self._tree_error = None
        self._edited()

    def _on_tree_edited(self) -> None:
        if self._syncing:
            return
        problems = self.structured.problem_texts()
        self._source = "tree"
        if problems:
            more = f" (and {len(problems) - 2} more)" if len(problems) > 2 else ""
            self._tree_error = "; ".join(problems[:2]) + more
        else:
            self._tree_error = None
            value = self.structured.value()
            try:
                shown = coerce_value(self.spec, value, self.tool_name)
            except ToolParameterError:
                shown = value
            self.editor.blockSignals(True)
            try:
                self.editor.setText(value_to_text(shown) if shown not in (None, "") else
                                    ("[]" if self.spec.kind == "list" else "{}"))
            finally:
                self.editor.blockSignals(False)
        self._fit_tree()
        self._edited()

    def _push_to_tree(self, value) -> None:
        """Show a converted value in the structured editor (unless it already shows it)."""
        if self.structured is None:
            return
        if value is None:
            value = [] if self.spec.kind == "list" else {}
        try:
            shown = to_asset_value(value)
            if same_value(shown, self.structured.value()) and not self.structured.problem_texts():
                self._set_tree_enabled(True)
                return
            self._syncing = True
            try:
                self.structured.set_value(shown)
            finally:
                self._syncing = False
        except AssetValueError as e:
            self._set_tree_enabled(False, f"This value has no structured form ({e}); edit the text above.")
            return
        self._fit_tree()
        self._set_tree_enabled(True)

    def _set_tree_enabled(self, on: bool, note: str = "") -> None:
        if self.structured is None:
            return
        self.structured.tree.setEnabled(on)
        self.structured.toolbar.setEnabled(on)
        self.structure_note.setText(note)
        self.structure_note.setVisible(bool(note))

    def structured_value(self):
        """What the structured editor shows (an asset value: lists, dicts, text, numbers, ...)."""
        return None if self.structured is None else self.structured.value()

    # -- raw editor value <-> python value -----------------------------------------
    def _raw(self):
        w = self.editor
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QSpinBox):
            return w.value()
        if isinstance(w, DateTimeEdit):
            return self._datetime_from_edit()
        if isinstance(w, QComboBox):
            return w.currentData() if w.currentIndex() >= 0 else ""
        return w.text()

    def _datetime_from_edit(self) -> datetime:
        return utc_from_qdatetime(self.editor.dateTime(), self.tz)

    def _set_editor(self, value) -> None:
        """Show an already-coerced value in the editor."""
        w = self.editor
        w.blockSignals(True)
        try:
            if isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QSpinBox):
                w.setValue(int(value))
            elif isinstance(w, DateTimeEdit):
                w.setDateTime(qdatetime_from_utc(value, self.tz))
            elif isinstance(w, QComboBox):
                idx = -1
                for i in range(w.count()):
                    if w.itemData(i) == value or w.itemText(i) == str(value):
                        idx = i
                        break
                w.setCurrentIndex(idx)
            else:
                w.setText(value_to_text(value))
        finally:
            w.blockSignals(False)

    def _fill_default(self):
        spec = self.spec
        default = spec.default
        if self.unset_box is not None and default is None:
            self.unset_box.setChecked(True)
            self.editor.setEnabled(False)
            if isinstance(self.editor, DateTimeEdit):
                self._set_editor(_today(self.tz))
            return
        if default is REQUIRED or default is None:
            if isinstance(self.editor, DateTimeEdit):
                self._set_editor(_today(self.tz))
            elif isinstance(self.editor, QComboBox):
                self.editor.setCurrentIndex(0 if self.editor.count() else -1)
            return
        try:
            value = coerce_value(spec, default, self.tool_name)
        except ToolParameterError:
            value = default
        self._set_editor(value)

    # -- state ---------------------------------------------------------------------
    @property
    def is_unset(self) -> bool:
        return self.unset_box is not None and self.unset_box.isChecked()

    def _on_unset(self, checked):
        self.editor.setEnabled(not checked)
        if self.structure_frame is not None:
            self.structure_frame.setEnabled(not checked)
            if not checked:
                self._show_structure(True)
        self._edited()

    def _edited(self, *_):
        self._extra_error = None
        self.validate()
        self.changed.emit()

    def validate(self) -> bool:
        """Convert the editor's value; show and remember the reason when it does not convert."""
        if self.is_unset:
            self._value, err = None, None
        elif self.structured is not None and self._source == "tree":
            if self._tree_error:
                self._value, err = None, self._tree_error
            else:
                try:
                    self._value, err = coerce_value(self.spec, self.structured.value(), self.tool_name), None
                except ToolParameterError as e:
                    self._value, err = None, _short_reason(e)
        elif isinstance(self.editor, DateTimeEdit) and not self.editor.is_valid():
            self._value, err = None, self.editor.error()
        else:
            raw = self._raw()
            if isinstance(raw, str) and raw.strip() == "" and self.spec.required and self.spec.kind not in ("str",):
                self._value, err = None, "required: enter a value"
            else:
                try:
                    self._value, err = coerce_value(self.spec, raw, self.tool_name), None
                except ToolParameterError as e:
                    self._value, err = None, _short_reason(e)
            if self.structured is not None:
                if err is None:
                    self._push_to_tree(self._value)
                elif isinstance(raw, str) and raw.strip() == "":
                    self._push_to_tree(None)      # empty and required: start from an empty list / dict
                    err = "required: add " + ("items" if self.spec.kind == "list" else "keys") + \
                        " below or enter a value"
                else:
                    self._set_tree_enabled(False, "The text above does not convert; the structure shows the "
                                                  "last valid value.")
        self.error = err or self._extra_error
        self.error_label.setText(readable_times(self.error, self.tz) if self.error else "")
        self.error_label.setVisible(bool(self.error))
        self.editor.setStyleSheet("" if not self.error else
                                  f"{type(self.editor).__name__} {{ border: 1px solid #c62828; }}")
        return self.error is None

    def set_error(self, message: str | None) -> None:
        """An error found outside the field (the tool rejected the value); cleared on the next edit."""
        self._extra_error = message
        self.validate()

    @property
    def is_valid(self) -> bool:
        return self.error is None

    def value(self):
        """The converted value (``None`` when unset); ValueError when the field is invalid."""
        if self.error:
            raise ValueError(f"parameter {self.spec.name!r}: {self.error}")
        return self._value

    def set_value(self, value) -> None:
        """Set from a Python value or its text / JSON form (as a run record stores it)."""
        self._source, self._tree_error = "text", None
        if value is None and self.unset_box is not None:
            self.unset_box.setChecked(True)
            self._edited()
            return
        if self.unset_box is not None:
            self.unset_box.blockSignals(True)
            self.unset_box.setChecked(False)
            self.unset_box.blockSignals(False)
            self.editor.setEnabled(True)
        try:
            coerced = coerce_value(self.spec, value, self.tool_name)
        except ToolParameterError:
            coerced = None
        if coerced is None or (isinstance(self.editor, QSpinBox) and not isinstance(coerced, int)):
            # keep what the user would have typed so the error shows next to it
            if isinstance(self.editor, QLineEdit):
                self.editor.setText(value if isinstance(value, str) else value_to_text(value))
        else:
            self._set_editor(coerced)
        self._edited()


def qdatetime_from_utc(dt: datetime, tz) -> QDateTime:
    """The wall-clock time of aware ``dt`` in ``tz`` as a QDateTime (for a QDateTimeEdit showing ``tz``).

    ``MIN_DATE`` (and anything before year 100, which Qt's editors cannot show) maps to the editor minimum."""
    if dt.year < EDIT_MIN_DATE.year() + 1:
        return QDateTime(EDIT_MIN_DATE, QTime(0, 0))
    local = dt.astimezone(tz)
    return QDateTime(QDate(local.year, local.month, local.day),
                     QTime(local.hour, local.minute, local.second, local.microsecond // 1000))


def utc_from_qdatetime(qdt: QDateTime, tz) -> datetime:
    """Read a QDateTimeEdit's wall-clock value as time in ``tz``; aware UTC, ms precision."""
    d, t = qdt.date(), qdt.time()
    if d <= EDIT_MIN_DATE:
        return MIN_DATE
    naive = datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), t.second(), t.msec() * 1000)
    local = tz.localize(naive) if hasattr(tz, "localize") else naive.replace(tzinfo=tz)
    return local.astimezone(UTC)


def _today(tz) -> datetime:
    now = datetime.now(tz)
    local = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if hasattr(tz, "normalize"):
        local = tz.normalize(local)
    return local.astimezone(UTC)


class ParameterForm(QWidget):
    """The whole form: one :class:`ParamField` per spec, in signature order."""

    sigValidityChanged = Signal(bool)
    sigValuesChanged = Signal()

    def __init__(self, specs: list[ParameterSpec], tz=UTC, tool_name: str = "tool", parent=None):
        super().__init__(parent)
        self.specs = list(specs)
        self.tz = pytz.timezone(tz) if isinstance(tz, str) else tz
        self.tool_name = tool_name
        self.fields: dict[str, ParamField] = {}
        lay = QFormLayout(self)
        lay.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        lay.setContentsMargins(0, 0, 0, 0)
        if not self.specs:
            lay.addRow(QLabel("<i>this tool takes no parameters</i>"))
        for spec in self.specs:
            f = ParamField(spec, self.tz, tool_name, self)
            f.changed.connect(self._on_field_changed)
            label = QLabel(spec.name + ("" if not spec.required else " *"))
            label.setToolTip(_label_tip(spec, self.tz))
            label.setBuddy(f.editor)
            lay.addRow(label, f)
            self.fields[spec.name] = f
        self._valid = self.is_valid()

    def field(self, name: str) -> ParamField:
        return self.fields[name]

    def editor(self, name: str):
        return self.fields[name].editor

    def structured_editor(self, name: str):
        """The structured editor (an :class:`hsgui.assets.editor.AssetValueForm`) of a list / dict parameter,
        else None."""
        return self.fields[name].structured

    def is_valid(self) -> bool:
        return all(f.is_valid for f in self.fields.values())

    def errors(self) -> dict[str, str]:
        return {n: f.error for n, f in self.fields.items() if f.error}

    def values(self) -> dict:
        """Converted values of every field; ValueError naming the first invalid field."""
        return {n: f.value() for n, f in self.fields.items()}

    def set_values(self, values: dict) -> None:
        """Fill fields from ``values`` (Python values or their recorded JSON/text form); unknown names ignored."""
        for name, v in (values or {}).items():
            if name in self.fields:
                self.fields[name].set_value(v)
        self._on_field_changed()

    def set_error(self, name: str, message: str | None) -> None:
        """Mark ``name`` invalid with a reason found outside the form (e.g. the tool's constructor rejected it).

        Cleared by the next edit of that field or by :meth:`clear_errors`. Emits only sigValidityChanged."""
        self.fields[name].set_error(message)
        self._check_validity()

    def clear_errors(self) -> None:
        """Drop the errors set with :meth:`set_error` (each field's own conversion errors stay)."""
        for f in self.fields.values():
            if f._extra_error is not None:
                f.set_error(None)
        self._check_validity()

    def _check_validity(self):
        valid = self.is_valid()
        if valid != self._valid:
            self._valid = valid
            self.sigValidityChanged.emit(valid)

    def _on_field_changed(self):
        self._check_validity()
        self.sigValuesChanged.emit()


def _label_tip(spec: ParameterSpec, tz) -> str:
    t = spec.kind
    if spec.kind in ("choice", "function"):
        t = "one of " + ", ".join(c.name if isinstance(c, enum.Enum) else str(c) for c in spec.choices or ())
    if spec.kind == "datetime":
        t += f" (shown in {getattr(tz, 'zone', tz)})"
    parts = [f"<b>{spec.name}</b>: {t}" + (" (optional)" if spec.optional else "")]
    if spec.required:
        parts.append("required")
    elif spec.default is not None:
        parts.append(f"default: {value_to_text(spec.default)}")
    if spec.doc:
        parts.append(spec.doc)
    return "<br>".join(parts)


__all__ = ["ParameterForm", "ParamField", "STRUCTURED_KINDS", "qdatetime_from_utc", "utc_from_qdatetime"]
