"""The time-range picker of the toolbar: start/end editors, presets, zone, overview slider, history, live follow.

The picker holds one :class:`TimeInterval` (UTC). The time zone only changes
how the editors show and read wall-clock times. ``sigRangeChanged`` fires on
the user's edits, presets, slider drags, back/forward and live ticks, and on
``set_interval(iv, emit=True)`` -- never on ``set_interval(iv)``, which is how
the plots report a zoom without starting a loop.

A refused entry (end before start, unknown zone) never changes the picker's
size: the offending editor gets a red border and the message as its tool tip,
a small balloon (:class:`ErrorBalloon`, a tool-tip window outside any layout)
shows the message under that editor for a few seconds, and ``sigError(text)``
carries it to whoever shows status messages (the main window's status bar).
``sigError("")`` follows when the error is cleared. ``error_text()`` returns
the current message, "" when there is none.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytz
import shiboken6
from PySide6.QtCore import QDate, QDateTime, QEvent, QPoint, QSize, Qt, QTime, QTimer, QTimeZone, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (QComboBox, QCompleter, QHBoxLayout, QLabel, QStyle, QStyleOptionComboBox,
                               QToolButton, QWidget)

from channels.time_interval import TimeInterval
from channels.utils import UTC, utcnow

from hsgui.common.timefmt import format_time, from_wall_clock, local_zone, to_zone, zone_name
from hsgui.forms.datetime_edit import DateTimeEdit
from hsgui.plotting.range_slider import RangeSlider

PRESETS = [("1 h", timedelta(hours=1)), ("24 h", timedelta(hours=24)), ("7 d", timedelta(days=7)),
           ("30 d", timedelta(days=30))]
HISTORY_LIMIT = 100
COALESCE_S = 1.5        # programmatic moves closer together than this replace one history entry
SLIDER_DEBOUNCE_MS = 200
ERROR_BALLOON_MS = 8000  # how long the error balloon stays; the red border and the editor's tool tip stay
ERROR_COLOR = "#b00020"
ERROR_BACKGROUND = "#fde8e6"
_QT_MIN = QDateTime(QDate(1, 1, 1), QTime(0, 0), QTimeZone.utc())
_QT_MAX = QDateTime(QDate(9999, 12, 31), QTime(23, 59, 59, 999), QTimeZone.utc())


def _default_interval() -> TimeInterval:
    now = utcnow()
    return TimeInterval(now - timedelta(hours=24), now)


class ErrorBalloon(QLabel):
    """A small tool-tip window with an error message, shown just below a widget.

    It is a separate top-level window, so it never takes space in (or widens) the
    toolbar that holds the picker. A click on it, or the timeout, hides it.
    """

    def __init__(self, parent: QWidget):
        super().__init__(parent, Qt.ToolTip | Qt.FramelessWindowHint)
        self.setObjectName("TimeRangeErrorBalloon")
        self.setAttribute(Qt.WA_ShowWithoutActivating)
        self.setWordWrap(True)
        self.setMaximumWidth(560)
        self.setStyleSheet(f"QLabel#TimeRangeErrorBalloon {{ background: {ERROR_BACKGROUND}; color: {ERROR_COLOR};"
                           f" border: 1px solid {ERROR_COLOR}; border-radius: 3px; padding: 4px 6px; }}")
        self._anchor: QWidget | None = None
        self._timer = QTimer(self, singleShot=True, interval=ERROR_BALLOON_MS)
        self._timer.timeout.connect(self.hide)

    def anchor(self) -> QWidget | None:
        return self._anchor

    def show_at(self, anchor: QWidget, text: str) -> None:
        self._anchor = anchor
        self.setText(text)
        # one line when it fits, wrapped at maximumWidth() otherwise (adjustSize alone wraps far too early)
        self.ensurePolished()
        m = self.contentsMargins()
        width = min(self.maximumWidth(), self.fontMetrics().horizontalAdvance(text) + m.left() + m.right() + 16)
        self.resize(width, self.heightForWidth(width))
        if anchor.isVisible():
            self.reposition()
            self.show()
            self.raise_()
            self._timer.start()

    def reposition(self) -> None:
        if self._anchor is None:
            return
        pos = self._anchor.mapToGlobal(QPoint(0, self._anchor.height() + 2))
        screen = self._anchor.screen()
        if screen is not None:  # keep it on screen when the editor sits near the right edge
            right = screen.availableGeometry().right()
            pos.setX(max(screen.availableGeometry().left(), min(pos.x(), right - self.width())))
        self.move(pos)

    def mousePressEvent(self, event):
        self.hide()
        event.accept()


def complete_zone(text: str) -> list[str]:
    """Zones ``text`` can only mean: a case-insensitive exact name, else those it starts, else those it is in."""
    low = text.strip().lower()
    if not low:
        return []
    zones = list(pytz.common_timezones)
    for test in (lambda z: z.lower() == low, lambda z: z.lower().startswith(low),
                 lambda z: low in z.lower()):
        found = [z for z in zones if test(z)]
        if found:
            return found
    return []


#: the widest of pytz's common zone names (the zone box is as wide before they are listed as after)
LONGEST_ZONE = "America/North_Dakota/New_Salem"


class ZoneBox(QComboBox):
    """The editable zone box: ``first`` (UTC, the local zone) from the start; pytz's other common zones join the
    list the first time it opens or the box takes the focus to be typed in (not on the app's start path)."""

    def __init__(self, first: list[str], parent=None):
        super().__init__(parent)
        self._listed = False
        self.setEditable(True)
        self.addItems(first)
        self.lineEdit().installEventFilter(self)

    def list_zones(self) -> None:
        """Add the common zones after ``first`` (once)."""
        if self._listed:
            return
        self._listed = True
        have = {self.itemText(i) for i in range(self.count())}
        self.addItems([z for z in pytz.common_timezones if z not in have])

    def sizeHint(self):
        # as wide as with every zone listed (Qt sizes a box for its widest item): for the widest zone name
        hint = super().sizeHint()
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        text = QSize(self.fontMetrics().horizontalAdvance(LONGEST_ZONE), hint.height())
        hint.setWidth(max(hint.width(),
                          self.style().sizeFromContents(QStyle.ContentsType.CT_ComboBox, opt, text, self).width()))
        return hint

    def showPopup(self):
        self.list_zones()
        super().showPopup()

    def eventFilter(self, obj, event):
        if event.type() in (QEvent.FocusIn, QEvent.KeyPress):
            self.list_zones()     # the completer offers every zone from the first key typed
        return super().eventFilter(obj, event)

    def focusInEvent(self, event):
        self.list_zones()
        super().focusInEvent(event)


class TimeRangePicker(QWidget):
    """Start/end editors, presets, time zone, overview slider, back/forward and live follow."""

    sigRangeChanged = Signal(object)     # TimeInterval
    sigTimeZoneChanged = Signal(object)  # pytz zone
    sigLiveChanged = Signal(bool)
    sigError = Signal(str)               # message of a refused entry; "" when the error is cleared

    def __init__(self, parent=None, interval: TimeInterval | None = None, live_period_ms: int = 2000):
        super().__init__(parent)
        self._interval = interval or _default_interval()
        self._tz = UTC
        self._local = local_zone()
        self._data_span: TimeInterval | None = None
        self._calc_span: TimeInterval | None = None
        # Back steps: the ranges shown so far. A range given here was chosen, so it is the first; the default
        # (last 24 h) is only a placeholder until a range is set and never becomes a Back step
        self._history: list[TimeInterval] = [self._interval] if interval is not None else []
        self._pos = len(self._history) - 1
        self._last_push = 0.0
        self._last_push_programmatic = False

        self.back_button = QToolButton(text="◀")
        self.back_button.setToolTip("Back to the previous range")
        self.back_button.clicked.connect(self.back)
        self.forward_button = QToolButton(text="▶")
        self.forward_button.setToolTip("Forward to the next range")
        self.forward_button.clicked.connect(self.forward)

        self.start_edit = self._make_edit("Start of the range (exclusive)")
        self.end_edit = self._make_edit("End of the range (inclusive)")

        self.last_preset: timedelta | None = None   # the "last …" preset the range came from, if any
        self.preset_buttons = {}
        for text, delta in PRESETS:
            b = QToolButton(text=text)
            b.setToolTip(f"The last {text} up to now")
            b.clicked.connect(lambda _=False, d=delta: self._preset_last(d))
            self.preset_buttons[text] = b
        self.all_button = QToolButton(text="All")
        self.all_button.setToolTip("All data of the selected streams")
        self.all_button.clicked.connect(lambda: self._preset_span(self._data_span))
        self.calc_button = QToolButton(text="Calc")
        self.calc_button.setToolTip("The calculated span of the selected streams")
        self.calc_button.clicked.connect(lambda: self._preset_span(self._calc_span))
        self.preset_buttons["All"] = self.all_button
        self.preset_buttons["Calc"] = self.calc_button

        self.overview = RangeSlider()
        self.overview.setValue((1.0, 1.0))    # no data span yet: the handles rest together at the end
        self.overview.setMinimumWidth(120)
        self.overview.setToolTip("Overview of the data span: drag the handles or the bar")
        self.overview.valueChanged.connect(self._on_slider)
        self._slider_timer = QTimer(self, singleShot=True, interval=SLIDER_DEBOUNCE_MS)
        self._slider_timer.timeout.connect(self._commit_slider)
        self._overview_span: TimeInterval | None = None
        self._updating = False

        self._local_label = f"Local ({zone_name(self._local)})"
        self.zone_combo = ZoneBox(["UTC", self._local_label])
        self.zone_combo.setInsertPolicy(QComboBox.NoInsert)
        self.zone_combo.setMinimumContentsLength(14)
        self.zone_combo.setMaximumWidth(200)
        comp = QCompleter(self.zone_combo.model(), self.zone_combo)
        comp.setCaseSensitivity(Qt.CaseInsensitive)
        comp.setFilterMode(Qt.MatchContains)
        self.zone_combo.setCompleter(comp)
        self.zone_combo.setToolTip("Time zone for showing and entering times (data stays UTC)")
        self.zone_combo.activated.connect(lambda _i: self._on_zone_text(self.zone_combo.currentText()))
        self.zone_combo.lineEdit().editingFinished.connect(lambda: self._on_zone_text(self.zone_combo.currentText()))

        self.live_button = QToolButton(text="Live", checkable=True)
        self.live_button.setToolTip("Keep the end of the range at now and refresh")
        self.live_button.toggled.connect(self._on_live_toggled)
        self._live_timer = QTimer(self, interval=live_period_ms)
        self._live_timer.timeout.connect(self._live_tick)

        # the error is not a widget of the layout (it would widen the toolbar): see ErrorBalloon
        self._error_text = ""
        self._error_widget: QWidget | None = None
        self.balloon = ErrorBalloon(self)
        self._watched_window: QWidget | None = None

        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(4)
        for w in (self.back_button, self.forward_button, QLabel("From"), self.start_edit, QLabel("to"),
                  self.end_edit):
            lay.addWidget(w)
        for b in self.preset_buttons.values():
            b.setAutoRaise(True)
            lay.addWidget(b)
        lay.addWidget(self.overview, 1)
        lay.addWidget(self.zone_combo)
        lay.addWidget(self.live_button)
        self._show()
        self._update_buttons()

    def _make_edit(self, tip: str) -> DateTimeEdit:
        # the shared typeable editor: wall-clock time of the chosen zone, the text is the value (no hidden ms)
        e = DateTimeEdit()
        e.setMinimumDateTime(_QT_MIN)
        e.setToolTip(tip)
        e.editingFinished.connect(lambda e=e: self._commit_edits(e))
        e.calendarWidget().clicked.connect(lambda _d, e=e: self._commit_edits(e))
        return e

    # -- public API ----------------------------------------------------------
    def interval(self) -> TimeInterval:
        return self._interval

    def set_interval(self, iv: TimeInterval, emit: bool = False) -> None:
        """Show ``iv``; record it in the history; emit only when ``emit`` is true."""
        if iv == self._interval:
            return
        self._apply(iv, emit=emit, push=True, programmatic=not emit)

    def time_zone(self):
        return self._tz

    def set_time_zone(self, tz, emit: bool = True) -> None:
        """Show and read times in ``tz`` (a pytz zone); the interval is unchanged."""
        if isinstance(tz, str):
            tz = pytz.timezone(tz)
        changed = zone_name(tz) != zone_name(self._tz)
        self._tz = tz
        self.zone_combo.blockSignals(True)
        name = zone_name(tz)
        self.zone_combo.setCurrentText(self._local_label if tz is self._local else name)
        self.zone_combo.blockSignals(False)
        self._show()
        if changed and emit:
            self.sigTimeZoneChanged.emit(tz)

    def set_data_span(self, iv: TimeInterval | None) -> None:
        self._data_span = iv
        self._update_buttons()
        self._show_overview()

    def set_calculated_span(self, iv: TimeInterval | None) -> None:
        self._calc_span = iv
        self._update_buttons()

    def back(self) -> None:
        if self._pos > 0:
            self.set_live(False)  # going back to an earlier range means leaving "now"
            self._pos -= 1
            self._apply(self._history[self._pos], emit=True, push=False)

    def forward(self) -> None:
        if self._pos < len(self._history) - 1:
            self.set_live(False)
            self._pos += 1
            self._apply(self._history[self._pos], emit=True, push=False)

    def can_go_back(self) -> bool:
        return self._pos > 0

    def can_go_forward(self) -> bool:
        return self._pos < len(self._history) - 1

    def is_live(self) -> bool:
        return self.live_button.isChecked()

    def set_live(self, on: bool) -> None:
        self.live_button.setChecked(bool(on))

    def error_text(self) -> str:
        """The message of the current error ("" when the last entry was accepted)."""
        return self._error_text

    # -- internals -----------------------------------------------------------
    def _apply(self, iv: TimeInterval, emit: bool, push: bool, programmatic: bool = False,
               keep_preset: bool = False):
        if not keep_preset:
            self.last_preset = None     # a range the user picked otherwise is a fixed window
        self._interval = iv
        self._clear_error()
        if push:
            self._push(iv, programmatic)
        self._show()
        self._update_buttons()
        if emit:
            self.sigRangeChanged.emit(iv)

    def _push(self, iv, programmatic: bool):
        now = time.monotonic()
        del self._history[self._pos + 1:]
        coalesce = programmatic and self._last_push_programmatic and now - self._last_push < COALESCE_S \
            and self._pos > 0
        if coalesce:
            self._history[self._pos] = iv
        elif not self._history or self._history[self._pos] != iv:
            self._history.append(iv)
            if len(self._history) > HISTORY_LIMIT:
                del self._history[0]
            self._pos = len(self._history) - 1
        self._last_push = now
        self._last_push_programmatic = programmatic

    def _to_qt(self, dt: datetime) -> QDateTime:
        local = to_zone(dt, self._tz)
        return QDateTime(QDate(local.year, local.month, local.day),
                         QTime(local.hour, local.minute, local.second, local.microsecond // 1000), QTimeZone.utc())

    def _from_qt(self, q: QDateTime) -> datetime:
        d, t = q.date(), q.time()
        naive = datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), t.second(), t.msec() * 1000)
        return from_wall_clock(naive, self._tz)

    def _show(self):
        self._updating = True
        for edit, dt in ((self.start_edit, self._interval.start), (self.end_edit, self._interval.end)):
            edit.blockSignals(True)
            edit.setDateTime(self._to_qt(dt))
            edit.blockSignals(False)
        self._updating = False
        self.setToolTip(f"{format_time(self._interval.start, self._tz)} → {format_time(self._interval.end, self._tz)}"
                        f" ({zone_name(self._tz)})")
        self._show_overview()

    def _show_overview(self):
        span = self._data_span
        if span is None:
            self._overview_span = None
            self.overview.setEnabled(False)
            return
        start = min(span.start, self._interval.start)
        end = max(span.end, self._interval.end)
        self._overview_span = TimeInterval(start, end)
        w = (end - start).total_seconds()
        a = (self._interval.start - start).total_seconds() / w
        b = (self._interval.end - start).total_seconds() / w
        self.overview.setEnabled(True)
        self._updating = True
        self.overview.blockSignals(True)
        self.overview.setValue((a, b))
        self.overview.blockSignals(False)
        self._updating = False

    def _update_buttons(self):
        self.back_button.setEnabled(self.can_go_back())
        self.forward_button.setEnabled(self.can_go_forward())
        self.all_button.setEnabled(self._data_span is not None)
        self.calc_button.setEnabled(self._calc_span is not None)

    def _error(self, text: str, widget: QWidget | None = None):
        """Refuse an entry: red border and tool tip on ``widget``, a balloon below it, ``sigError(text)``."""
        widget = widget or self.end_edit
        if text == self._error_text and widget is self._error_widget:
            return  # the same refusal again (e.g. Enter, then focus out): nothing new to say
        self._clear_marks()
        self._error_text = text
        self._error_widget = widget
        widget.setProperty("_hs_tip", widget.toolTip())
        widget.setToolTip(text)
        widget.setProperty("hsError", True)
        # colours, not a style sheet: a style-sheet border would change the editor's size hint
        pal = widget.palette()
        for role, colour in ((QPalette.Base, ERROR_BACKGROUND), (QPalette.Text, ERROR_COLOR)):
            pal.setColor(role, QColor(colour))
        widget.setPalette(pal)
        self._watch_window()
        self.balloon.show_at(widget, text)
        self.sigError.emit(text)

    def _clear_marks(self):
        w = self._error_widget
        if w is not None:
            w.setPalette(QPalette())  # back to the inherited palette
            w.setProperty("hsError", False)
            w.setToolTip(w.property("_hs_tip") or "")
        self._error_widget = None
        self.balloon.hide()

    def _clear_error(self):
        had = bool(self._error_text)
        self._clear_marks()
        self._error_text = ""
        if had:
            self.sigError.emit("")

    def _watch_window(self):
        # keep the balloon under its editor when the window moves or is resized
        win = self.window()
        if win is not self and win is not self._watched_window:
            if self._watched_window is not None and shiboken6.isValid(self._watched_window):
                self._watched_window.removeEventFilter(self)
            win.installEventFilter(self)
            self._watched_window = win

    def eventFilter(self, obj, event):
        if obj is self._watched_window and self.balloon.isVisible():
            t = event.type()
            if t in (QEvent.Move, QEvent.Resize):
                self.balloon.reposition()
            elif t in (QEvent.Hide, QEvent.WindowDeactivate, QEvent.WindowStateChange):
                self.balloon.hide()
        return super().eventFilter(obj, event)

    def hideEvent(self, event):
        self.balloon.hide()
        super().hideEvent(event)

    def _read_edit(self, edit: DateTimeEdit, current: datetime) -> datetime:
        """The editor's instant; an editor the user did not change keeps its exact instant (a wall-clock time
        in the repeated hour of a DST change would otherwise be re-read as the other of its two instants)."""
        if edit.dateTime() == self._to_qt(current):
            return current
        return self._from_qt(edit.dateTime())

    def _commit_edits(self, edited: DateTimeEdit | None = None):
        if self._updating:
            return
        for edit in (self.start_edit, self.end_edit):
            if not edit.is_valid():
                self._error(f"{edit.text().strip() or 'empty'}: {edit.error()} — range not changed", edit)
                return
        start = self._read_edit(self.start_edit, self._interval.start)
        end = self._read_edit(self.end_edit, self._interval.end)
        if end <= start:
            self._error(f"End {format_time(end, self._tz)} must be after start {format_time(start, self._tz)}"
                        " — range not changed", edited)
            return
        iv = TimeInterval(start, end)
        if iv == self._interval:
            self._clear_error()
            return
        if self.is_live() and end != self._interval.end:
            self.set_live(False)  # the user picked an end: stop following now
        self._apply(iv, emit=True, push=True)

    def _preset_last(self, delta: timedelta):
        now = utcnow()
        self.last_preset = delta        # "the last 24 h": saved as such, restored up to the new now
        self._apply(TimeInterval(now - delta, now), emit=True, push=True, keep_preset=True)

    def _preset_span(self, span: TimeInterval | None):
        if span is None:
            return
        start, end = span.start, span.end
        self._apply(TimeInterval(start, end), emit=True, push=True)

    def _on_slider(self, _value):
        if not self._updating and self._overview_span is not None:
            self._slider_timer.start()

    def _commit_slider(self):
        span = self._overview_span
        if span is None:
            return
        a, b = self.overview.value()
        w = span.width
        start = span.start + w * float(a)
        end = span.start + w * float(b)
        start = start.replace(microsecond=start.microsecond - start.microsecond % 1000)
        end = end.replace(microsecond=end.microsecond - end.microsecond % 1000)
        if end <= start:
            return
        self._apply(TimeInterval(start, end), emit=True, push=True)

    def _on_zone_text(self, text: str):
        text = text.strip()
        if text == self._local_label or text.lower() == "local":
            tz = self._local
        else:
            try:
                tz = pytz.timezone(text)
            except pytz.UnknownTimeZoneError:
                matches = complete_zone(text)
                if len(matches) != 1:
                    more = (f"; {len(matches)} zones match: {', '.join(matches[:4])}{', …' if len(matches) > 4 else ''}"
                            " — type more") if matches else ""
                    self._error(f"Unknown time zone {text!r}{more}", self.zone_combo)
                    self.zone_combo.setCurrentText(zone_name(self._tz))
                    return
                tz = pytz.timezone(matches[0])    # a typed prefix ("Europe/Berl") completes to its one zone
        self._clear_error()
        self.set_time_zone(tz)

    def _on_live_toggled(self, on: bool):
        if on:
            self._live_timer.start()
            self._live_tick()
        else:
            self._live_timer.stop()
        self.sigLiveChanged.emit(on)

    def _live_tick(self):
        now = utcnow()
        width = self._interval.width
        self._apply(TimeInterval(now - width, now), emit=True, push=False, keep_preset=True)
