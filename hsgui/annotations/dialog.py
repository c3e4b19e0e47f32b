"""The small dialog that makes or edits one annotation: label, start (or an instant), end, colour, note.

Times are typed in the window's zone with the app's one date-time editor; the values are checked by
:func:`channels.annotations.make_annotation` before the dialog closes, so the error (empty label, end before
start, a time in the future) is said next to the fields and nothing is written.
"""
from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, QTimeZone
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
)

from channels.annotations import make_annotation
from channels.errors import ChannelsError
from hsgui.common.timefmt import from_wall_clock, readable_times, to_zone
from hsgui.forms.datetime_edit import DateTimeEdit

#: colours offered (any #rrggbb may be typed)
COLOURS = [("Purple", "#7e57c2"), ("Red", "#e53935"), ("Orange", "#fb8c00"), ("Green", "#43a047"),
           ("Blue", "#1e88e5"), ("Grey", "#757575")]


def _to_qt(dt: datetime, tz) -> QDateTime:
    local = to_zone(dt, tz)
    return QDateTime(QDate(local.year, local.month, local.day),
                     QTime(local.hour, local.minute, local.second, local.microsecond // 1000), QTimeZone.utc())


def _from_qt(q: QDateTime, tz) -> datetime:
    d, t = q.date(), q.time()
    return from_wall_clock(datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), t.second(),
                                    t.msec() * 1000), tz)


def _swatch(colour: str) -> QIcon:
    pm = QPixmap(12, 12)
    pm.fill(QColor(colour))
    return QIcon(pm)


class AnnotationDialog(QDialog):
    """Ask for one annotation; :meth:`values` gives ``{label, start, end, colour, note}`` once accepted."""

    def __init__(self, tz, end: datetime, start: datetime | None = None, label: str = "", colour: str | None = None,
                 note: str | None = None, title: str = "New annotation", parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.tz = tz
        self.label_edit = QLineEdit(label)
        self.label_edit.setPlaceholderText("what happened, e.g. door left open")
        self.instant_box = QCheckBox("A single instant (no start)")
        self.start_edit = DateTimeEdit()
        self.end_edit = DateTimeEdit()
        self.start_edit.setDateTime(_to_qt(start or end, tz))
        self.end_edit.setDateTime(_to_qt(end, tz))
        self.instant_box.toggled.connect(lambda on: self.start_edit.setEnabled(not on))
        self.instant_box.setChecked(start is None)
        self.colour_box = QComboBox()
        self.colour_box.setEditable(True)
        for name, c in COLOURS:
            self.colour_box.addItem(_swatch(c), c, c)
            self.colour_box.setItemData(self.colour_box.count() - 1, name, Qt.ItemDataRole.ToolTipRole)
        self.colour_box.setEditText(colour or COLOURS[0][1])
        self.note_edit = QPlainTextEdit(note or "")
        self.note_edit.setPlaceholderText("optional note, shown when hovering the band")
        self.note_edit.setFixedHeight(60)
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b3261e;")
        form = QFormLayout()
        form.addRow("&Label", self.label_edit)
        form.addRow("", self.instant_box)
        form.addRow("&Start", self.start_edit)
        form.addRow("&End", self.end_edit)
        form.addRow("&Colour", self.colour_box)
        form.addRow("&Note", self.note_edit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"Times in {getattr(tz, 'zone', None) or tz}"))
        lay.addLayout(form)
        lay.addWidget(self.error_label)
        lay.addWidget(self.buttons)
        self.label_edit.setFocus()
        self._values: dict | None = None

    def values(self) -> dict | None:
        return self._values

    def _read(self) -> dict:
        for edit, what in ((self.start_edit, "start"), (self.end_edit, "end")):
            if edit.isEnabled() and not edit.is_valid():
                raise ValueError(f"{what}: {edit.error()}")
        start = None if self.instant_box.isChecked() else _from_qt(self.start_edit.dateTime(), self.tz)
        values = {"label": self.label_edit.text(), "start": start,
                  "end": _from_qt(self.end_edit.dateTime(), self.tz),
                  "colour": self.colour_box.currentText().strip() or None,
                  "note": self.note_edit.toPlainText().strip() or None}
        a = make_annotation(**values)      # the library's checks, before anything is written
        return {"label": a.label, "start": a.start, "end": a.end, "colour": a.colour, "note": a.note}

    def accept(self):
        try:
            self._values = self._read()
        except (ChannelsError, ValueError) as e:
            self.error_label.setText(readable_times(str(e), self.tz))
            return
        super().accept()
