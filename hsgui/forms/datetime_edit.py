"""One date-time editor for every place a time is asked (time-range picker, Run Tool interval,
tool parameters): a line edit you can type or paste ``2024-03-02 06:00:00`` (optionally
``.mmm``) into.

Why not ``QDateTimeEdit``: its sections take digits only in place, select-all plus typing a
full timestamp scrambles the sections, and a display format without milliseconds keeps hidden
milliseconds alive. Here **the text is the value**: what is typed is what is used, to the
millisecond, and milliseconds are shown whenever they are not zero.

* the value is wall-clock time (``QDateTime`` date + time; the caller owns the zone, as with a
  ``QDateTimeEdit`` in UTC spec), so the callers' zone conversions stay as they were;
* text that does not read as a time turns the box red and says why in its tooltip
  (:meth:`is_valid`, :meth:`error`); the last valid value stays in :meth:`dateTime`;
* Up/Down step the part under the cursor (year … millisecond), like a spin box;
* a minimum with a special text (``MIN_DATE (the beginning)``) is shown as that text; focusing
  it selects it all, so typing replaces it; an empty box also means the minimum;
* the calendar button opens a month calendar; picking a day keeps the time of day.

The API mirrors the part of ``QDateTimeEdit`` the app uses (``dateTime``, ``setDateTime``,
``dateTimeChanged``, ``setSpecialValueText``, ``setMinimumDateTime``, ``calendarWidget``).
"""
from __future__ import annotations

import re

from PySide6.QtCore import QDate, QDateTime, QTime, QTimeZone, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QCalendarWidget, QLineEdit, QMenu, QStyle, QWidgetAction

TEXT_FORMAT = "yyyy-MM-dd HH:mm:ss"
EXAMPLE = "2024-03-02 06:00:00"
_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
                 r"(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d{1,6}))?)?)?\s*$")
#: (last character index, section) of the text ``yyyy-MM-dd HH:mm:ss.zzz``
_SECTIONS = ((4, "year"), (7, "month"), (10, "day"), (13, "hour"), (16, "minute"), (19, "second"), (99, "ms"))


def _utc(d: QDate, t: QTime) -> QDateTime:
    """A wall-clock QDateTime: UTC spec, so Qt never applies the machine's DST to it."""
    return QDateTime(d, t, QTimeZone.utc())


def format_wall_clock(qdt: QDateTime) -> str:
    """``yyyy-MM-dd HH:mm:ss``, with ``.zzz`` when the milliseconds are not zero."""
    d, t = qdt.date(), qdt.time()
    text = f"{d.year():04d}-{d.month():02d}-{d.day():02d} {t.hour():02d}:{t.minute():02d}:{t.second():02d}"
    return text + (f".{t.msec():03d}" if t.msec() else "")


def parse_wall_clock(text: str) -> QDateTime:
    """``2024-03-02``, ``2024-03-02 06:00``, ``2024-03-02 06:00:00[.mmm]`` (a ``T`` may separate date and
    time) as a wall-clock QDateTime; ValueError saying what is wrong otherwise."""
    m = _RE.match(text)
    if not m:
        raise ValueError(f"not a time: type it like {EXAMPLE} (optionally .mmm)")
    y, mo, d, h, mi, s, frac = m.groups()
    date = QDate(int(y), int(mo), int(d))
    if not date.isValid():
        raise ValueError(f"{y}-{mo}-{d} is not a date")
    ms = int((frac or "0")[:3].ljust(3, "0"))
    time = QTime(int(h or 0), int(mi or 0), int(s or 0), ms)
    if not time.isValid():
        raise ValueError(f"{h}:{mi}:{s or '00'} is not a time of day")
    return _utc(date, time)


class DateTimeEdit(QLineEdit):
    """See the module docstring."""

    dateTimeChanged = Signal(QDateTime)   # every edit that reads as a time (typed, stepped, picked, set)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._value = _utc(QDate.currentDate(), QTime(0, 0))
        self._minimum: QDateTime | None = None
        self._special = ""
        self._error: str | None = None
        self._calendar: QCalendarWidget | None = None
        self._calendar_menu: QMenu | None = None
        self._tip = ""
        self._base_colours = (self.palette().color(QPalette.ColorRole.Base),
                              self.palette().color(QPalette.ColorRole.Text))
        self.setPlaceholderText(EXAMPLE)
        self.textEdited.connect(self._on_edited)
        self.editingFinished.connect(self._normalise)
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_FileDialogContentsView)
        self.calendar_action = self.addAction(icon, QLineEdit.ActionPosition.TrailingPosition)
        self.calendar_action.setToolTip("Pick a day from a calendar (keeps the time of day)")
        self.calendar_action.triggered.connect(self.show_calendar)
        self._show_value()

    # -- QDateTimeEdit-like API ----------------------------------------------------------
    def dateTime(self) -> QDateTime:
        """The last valid value (wall clock)."""
        return QDateTime(self._value)

    def setDateTime(self, qdt: QDateTime) -> None:
        qdt = _utc(qdt.date(), qdt.time())
        if self._minimum is not None and qdt < self._minimum:
            qdt = QDateTime(self._minimum)
        changed = qdt != self._value
        self._value = qdt
        self._set_error(None)
        self._show_value()
        if changed:
            self.dateTimeChanged.emit(QDateTime(qdt))

    def setMinimumDateTime(self, qdt: QDateTime) -> None:
        self._minimum = _utc(qdt.date(), qdt.time())
        if self._value < self._minimum:
            self.setDateTime(self._minimum)

    def setSpecialValueText(self, text: str) -> None:
        """Shown (and accepted back, as is an empty box) for the minimum value."""
        self._special = text
        if text:
            self.setPlaceholderText(f"{text} — or type a time like {EXAMPLE}")
        self._show_value()

    def specialValueText(self) -> str:
        return self._special

    def calendarWidget(self) -> QCalendarWidget:
        if self._calendar is None:
            self._calendar_menu = QMenu(self)
            self._calendar = QCalendarWidget(self._calendar_menu)
            self._calendar.setGridVisible(True)
            act = QWidgetAction(self._calendar_menu)
            act.setDefaultWidget(self._calendar)
            self._calendar_menu.addAction(act)
            self._calendar.clicked.connect(self._picked_day)
        return self._calendar

    def setToolTip(self, text: str) -> None:   # noqa: N802 - Qt naming
        self._tip = text
        super().setToolTip(self._error or text)

    # -- state ------------------------------------------------------------------------------
    def is_valid(self) -> bool:
        return self._error is None

    def error(self) -> str | None:
        """Why the text is not a time (None when it is)."""
        return self._error

    def is_minimum(self) -> bool:
        return self._minimum is not None and self._value == self._minimum

    # -- editing -----------------------------------------------------------------------------
    def _read(self, text: str) -> QDateTime:
        stripped = text.strip()
        if self._minimum is not None and (stripped == "" or stripped == self._special
                                          or stripped.lower() in ("min_date", "beginning")):
            return QDateTime(self._minimum)
        qdt = parse_wall_clock(text)
        if self._minimum is not None and qdt < self._minimum:
            raise ValueError(f"earliest is {format_wall_clock(self._minimum)}")
        return qdt

    def _on_edited(self, text: str) -> None:
        try:
            qdt = self._read(text)
        except ValueError as e:
            self._set_error(str(e))
            return
        self._set_error(None)
        if qdt != self._value:
            self._value = qdt
            self.dateTimeChanged.emit(QDateTime(qdt))

    def _normalise(self) -> None:
        """On Enter / leaving the box: show a valid value in the one format (an invalid text stays, red)."""
        if self._error is None:
            self._show_value()

    def _set_error(self, message: str | None) -> None:
        was = self._error
        self._error = message
        if (was is None) != (message is None):
            # colours, not a style sheet: a style-sheet border would change the size hint (the layout would jump)
            pal = self.palette()
            if message is None:
                pal.setColor(QPalette.ColorRole.Base, self._base_colours[0])
                pal.setColor(QPalette.ColorRole.Text, self._base_colours[1])
            else:
                self._base_colours = (pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text))
                pal.setColor(QPalette.ColorRole.Base, QColor("#fdecea"))
                pal.setColor(QPalette.ColorRole.Text, QColor("#8a1a10"))
            self.setPalette(pal)
        super().setToolTip(message or self._tip)

    def _show_value(self) -> None:
        pos = self.cursorPosition()
        if self.is_minimum() and self._special:
            self.setText(self._special)
        else:
            self.setText(format_wall_clock(self._value))
            self.setCursorPosition(min(pos, len(self.text())))

    def focusInEvent(self, event):
        super().focusInEvent(event)
        if self.is_minimum() and self._special:
            self.selectAll()   # the "beginning" text is a state to type over, not text to edit

    def mouseReleaseEvent(self, event):
        super().mouseReleaseEvent(event)
        if self.is_minimum() and self._special and not self.hasSelectedText():
            self.selectAll()   # a click on the "beginning" text selects it, so typing replaces it

    def keyPressEvent(self, event):
        key = event.key()
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown) and self._error is None \
                and not (self.is_minimum() and self._special):
            step = 1 if key in (Qt.Key.Key_Up, Qt.Key.Key_PageUp) else -1
            if key in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
                step *= 10
            self.step_section(self.section_at(self.cursorPosition()), step)
            event.accept()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._error is not None:
            super().keyPressEvent(event)   # editingFinished still fires; the text stays red
            return
        super().keyPressEvent(event)

    @staticmethod
    def section_at(pos: int) -> str:
        return next(name for last, name in _SECTIONS if pos <= last)

    def step_section(self, section: str, step: int) -> None:
        v = self._value
        new = {"year": lambda: v.addYears(step), "month": lambda: v.addMonths(step),
               "day": lambda: v.addDays(step), "hour": lambda: v.addSecs(3600 * step),
               "minute": lambda: v.addSecs(60 * step), "second": lambda: v.addSecs(step),
               "ms": lambda: v.addMSecs(step)}[section]()
        pos = self.cursorPosition()
        self.setDateTime(new)
        self.setCursorPosition(pos)

    def show_calendar(self) -> None:
        cal = self.calendarWidget()
        cal.setSelectedDate(self._value.date())
        self._calendar_menu.popup(self.mapToGlobal(self.rect().bottomLeft()))

    def _picked_day(self, day: QDate) -> None:
        if self._calendar_menu is not None:
            self._calendar_menu.hide()
        time = QTime(0, 0) if self.is_minimum() else self._value.time()
        self.setDateTime(_utc(day, time))
        self.editingFinished.emit()

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(self.fontMetrics().horizontalAdvance("2024-03-02 06:00:00.000") + 48)
        return hint

    minimumSizeHint = sizeHint


__all__ = ["DateTimeEdit", "format_wall_clock", "parse_wall_clock", "EXAMPLE"]
