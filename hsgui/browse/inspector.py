"""The inspector dock: what the selected stream is, and which time has been calculated.

Identity (id, channel, meta-data, calculated intervals) comes from the Stream
handle already in memory; first/last timestamps, the value type and the count
in the current range come from one background job per selection. A newer
selection cancels the older job and its late answer is ignored.

``CalculatedTimeline`` draws the calculated intervals as bars over the
stream's span so gaps stand out; hovering shows the exact interval or gap.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (QFormLayout, QFrame, QLabel, QLineEdit, QScrollArea, QSizePolicy, QToolTip, QVBoxLayout,
                               QWidget)

from channels.time_interval import TimeInterval, TimeIntervals
from channels.utils import MAX_DATE, MIN_DATE, UTC, format_duration

from hsgui.common.background import JobKind
from hsgui.common.timefmt import describe_coverage, format_time

BAR = QColor(46, 139, 87)
BAR_HOVER = QColor(60, 179, 113)
GAP = QColor(220, 80, 60, 70)
TRACK = QColor(0, 0, 0, 25)
VIEW = QColor(30, 100, 200)


def value_type(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, dict):
        keys = ", ".join(list(map(str, value))[:6]) + (", …" if len(value) > 6 else "")
        return f"dict {{{keys}}}"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return f"list ({len(value)} items)"
    return type(value).__name__


class CalculatedTimeline(QWidget):
    """Calculated intervals as bars over a span; gaps shaded; the current range outlined."""

    hovered = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumHeight(46)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.intervals = TimeIntervals()
        self.span: TimeInterval | None = None
        self.view_interval: TimeInterval | None = None
        self.time_zone = UTC
        self._hover = None

    def sizeHint(self):
        return QSize(260, 50)

    def set_data(self, intervals: TimeIntervals, data_first: datetime | None = None,
                 data_last: datetime | None = None, view_interval: TimeInterval | None = None) -> None:
        self.intervals = TimeIntervals(intervals)
        self.view_interval = view_interval
        starts = [t for t in (data_first,) if t is not None]
        ends = [t for t in (data_last,) if t is not None]
        if self.intervals:
            s = self.intervals.start
            if s != MIN_DATE:
                starts.append(s)
            if self.intervals.end != MAX_DATE:
                ends.append(self.intervals.end)
        if not starts and self.intervals and ends:
            # open to the beginning of time (assets, tools): show the last stretch before its end
            starts.append(min(ends) - (self.view_interval.width if self.view_interval else (max(ends) - min(ends))
                                       or (max(ends) - MIN_DATE) / 1000))
        if starts and ends and min(starts) >= max(ends) and self.intervals:
            # one instant of data (a one-version asset, calculated "all up to" it): show a stretch before it
            end = max(ends)
            starts = [end - (self.view_interval.width if self.view_interval else timedelta(days=1))]
        if starts and ends and min(starts) < max(ends):
            self.span = TimeInterval(min(starts), max(ends))
        else:
            self.span = None
        self._hover = None
        self.update()

    def gaps(self) -> TimeIntervals:
        if self.span is None:
            return TimeIntervals()
        return TimeIntervals([self.span]) - self.intervals

    # -- geometry -------------------------------------------------------------------
    def _track(self) -> QRectF:
        return QRectF(4, 4, max(10, self.width() - 8), max(10, self.height() - 22))

    def _x(self, t: datetime) -> float:
        r = self._track()
        total = (self.span.end - self.span.start).total_seconds()
        f = (t - self.span.start).total_seconds() / total if total else 0
        return r.left() + max(0.0, min(1.0, f)) * r.width()

    def _time_at(self, x: float) -> datetime | None:
        if self.span is None:
            return None
        r = self._track()
        f = max(0.0, min(1.0, (x - r.left()) / r.width()))
        return self.span.start + (self.span.end - self.span.start) * f

    def segment_at(self, x: float):
        """``("calculated" | "gap", TimeInterval)`` under x, or None."""
        t = self._time_at(x)
        if t is None:
            return None
        tol = (self.span.end - self.span.start) * (2.0 / max(1.0, self._track().width()))
        for kind, ivs in (("calculated", self.intervals), ("gap", self.gaps())):
            for iv in ivs:
                if t + tol >= iv.start and t - tol <= iv.end:   # (an interval may start at MIN_DATE)
                    return kind, iv
        return None

    # -- painting -------------------------------------------------------------------
    def paintEvent(self, _event):
        p = QPainter(self)
        r = self._track()
        p.fillRect(r, TRACK)
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.85))
        p.setFont(small)
        if self.span is None:
            p.setPen(self.palette().color(self.foregroundRole()))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, "nothing calculated")
            return
        for gap in self.gaps():
            x0, x1 = self._x(gap.start), self._x(gap.end)
            p.fillRect(QRectF(x0, r.top(), max(1.0, x1 - x0), r.height()), GAP)
        for iv in self.intervals:
            x0, x1 = self._x(max(iv.start, self.span.start)), self._x(min(iv.end, self.span.end))
            hovered = self._hover is not None and self._hover[1] == iv
            p.fillRect(QRectF(x0, r.top() + 3, max(1.5, x1 - x0), r.height() - 6), BAR_HOVER if hovered else BAR)
        if self.view_interval is not None and self.view_interval.overlaps(self.span):
            x0, x1 = self._x(self.view_interval.start), self._x(self.view_interval.end)
            pen = QPen(VIEW)
            pen.setWidth(2)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(x0, r.top() + 1, max(2.0, x1 - x0), r.height() - 2))
        p.setPen(self.palette().color(self.foregroundRole()))
        y = r.bottom() + 14
        start_text = format_time(self.span.start, self.time_zone)[:16]
        end_text = format_time(self.span.end, self.time_zone)[:16]
        p.drawText(QPointF(r.left(), y), start_text)
        w = p.fontMetrics().horizontalAdvance(end_text)
        p.drawText(QPointF(r.right() - w, y), end_text)

    def mouseMoveEvent(self, event):
        seg = self.segment_at(event.position().x())
        if seg != self._hover:
            self._hover = seg
            self.update()
        if seg is None:
            QToolTip.hideText()
            return
        kind, iv = seg
        text = (f"{kind}: ({format_time(iv.start, self.time_zone)}, {format_time(iv.end, self.time_zone)}]"
                f"  — {format_duration(iv.width)}")
        self.hovered.emit(text)
        QToolTip.showText(event.globalPosition().toPoint(), text, self)

    def leaveEvent(self, _event):
        self._hover = None
        self.update()


def _selectable(text="") -> QLabel:
    label = QLabel(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


class InspectorDock(QWidget):
    """Shows the selected stream; ``set_stream(None)`` clears it."""

    def __init__(self, runner, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.stream = None
        self.interval: TimeInterval | None = None
        self.time_zone = UTC
        self._reading = (self, "read")   # JobRunner.latest key of its reads
        self._info: dict = {}
        self.removed = False   # the stream shown was deleted (kept on screen with a message)
        self.title = QLabel("No stream selected")
        f = self.title.font()
        f.setBold(True)
        self.title.setFont(f)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fields = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.id_edit = QLineEdit()
        self.id_edit.setReadOnly(True)
        self.id_edit.setFrame(False)
        self.id_edit.setToolTip("The stream's key (JSON): name and sorted meta-data")
        for key, label in (("id", "Stream id"), ("channel", "Channel"), ("type", "Type"), ("meta", "Meta-data"),
                           ("calculated", "Calculated"), ("first", "First"), ("last", "Last"),
                           ("count", "In range"), ("updated", "Last updated")):
            self.fields[key] = _selectable()
            form.addRow(label + ":", self.id_edit if key == "id" else self.fields[key])
        self.timeline = CalculatedTimeline(self)
        self.timeline_label = QLabel("")
        self.timeline_label.setWordWrap(True)
        self.timeline.hovered.connect(self.timeline_label.setText)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b02020;")
        self.message.hide()
        body = QWidget()
        v = QVBoxLayout(body)
        v.addWidget(self.title)
        v.addWidget(self.message)
        v.addLayout(form)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        v.addWidget(line)
        legend = QLabel("Calculated intervals (green), gaps (red), current range (blue outline):")
        legend.setWordWrap(True)
        v.addWidget(legend)
        v.addWidget(self.timeline)
        v.addWidget(self.timeline_label)
        v.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.setMinimumWidth(250)

    # -- inputs ----------------------------------------------------------------------
    def set_time_zone(self, tz) -> None:
        """Show every time in ``tz``: last updated, coverage, first/last, the range and the timeline."""
        self.time_zone = tz
        self.timeline.time_zone = tz
        self.timeline_label.setText("")   # a hover text in the old zone; the next hover writes it anew
        if self.stream is not None:
            self._show_static()
        self._show_info()
        self.timeline.update()

    def set_interval(self, interval) -> None:
        self.interval = interval
        if self.stream is not None:
            self._load()

    def set_stream(self, stream) -> None:
        self.stream = stream
        self._info = {}
        self.removed = False
        self.message.hide()
        self.runner.cancel_latest(self._reading)
        if stream is None:
            self.title.setText("No stream selected")
            for label in self.fields.values():
                label.setText("")
            self.id_edit.clear()
            self.timeline.set_data(TimeIntervals())
            self.timeline_label.setText("")
            return
        sid = stream.stream_id
        self.title.setText(str(sid))
        self.fields["id"].setText(sid.key)
        self.id_edit.setText(sid.key)
        self.id_edit.setCursorPosition(0)
        ch = stream.channel
        self.fields["channel"].setText(f"{ch.channel_id} ({type(ch).__name__}{', read-only' if ch.read_only else ''})")
        self.fields["meta"].setText("\n".join(f"{k} = {v}" for k, v in sid.meta_data) or "(none)")
        self._show_static()
        self._load()

    def refresh(self) -> None:
        """Re-read after the stream changed (tool run, purge, refresh from the store); the figures shown stay
        until the new ones arrive."""
        if self.stream is not None:
            self._show_static()
            self._load(keep=True)

    def stream_removed(self) -> None:
        """The stream shown no longer exists (deleted, possibly by another process)."""
        if self.stream is None:
            return
        self.removed = True
        self.show_message(f"Stream {self.stream.stream_id} no longer exists in channel "
                          f"{self.stream.channel.channel_id} (deleted, possibly by another process).")
        self.runner.cancel_latest(self._reading)

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    # -- display ---------------------------------------------------------------------
    def _show_static(self):
        s = self.stream
        ci = s.calculated_intervals
        text = describe_coverage(ci, self.time_zone)
        gaps = len(ci) - 1 if len(ci) > 1 else 0
        if gaps:
            text += f" ({gaps} gap{'s' if gaps != 1 else ''})"
        self.fields["calculated"].setText(text)
        self.fields["updated"].setText(format_time(s.last_updated, self.time_zone) or "—")
        self._update_timeline()

    def _update_timeline(self):
        s = self.stream
        self.timeline.set_data(s.calculated_intervals, self._info.get("first"), self._info.get("last"),
                               self.interval)

    def _show_info(self):
        if self.stream is None:
            return
        info = self._info
        if not info:
            for k in ("first", "last", "count"):
                self.fields[k].setText("…")
            return
        st = self.stream.stream_type
        self.fields["type"].setText((f"{st}; " if st else "") + info.get("type", ""))
        first, last = info.get("first"), info.get("last")
        self.fields["first"].setText(format_time(first, self.time_zone) if first else "(no instances)")
        self.fields["last"].setText(format_time(last, self.time_zone) if last else "(no instances)")
        n = info.get("count")
        if n is None:
            self.fields["count"].setText("—")
        else:
            where = f" in {format_time(self.interval.start, self.time_zone)[:16]} → " \
                    f"{format_time(self.interval.end, self.time_zone)[:16]}" if self.interval else ""
            self.fields["count"].setText(f"{n:,} instances{where}")

    def _load(self, keep: bool = False):
        if not keep:
            self._info = {}
            self._show_info()
        stream, interval = self.stream, self.interval
        self.runner.latest(self._reading, f"Inspect {stream.stream_id}", _inspect, stream, interval,
                           kind=JobKind.READ, owner=self, on_result=self._loaded, on_error=self._failed)

    @property
    def busy(self) -> bool:
        """Whether the figures of the stream shown are still being read."""
        return self.runner.pending(self._reading)

    def _loaded(self, info):
        self._info = info
        if not info.get("exists", True):
            self.stream_removed()
        self._show_info()
        self._update_timeline()

    def _failed(self, msg):
        self.show_message(f"Could not read {self.stream.stream_id}: {msg}")
        for k in ("first", "last", "count"):
            self.fields[k].setText("?")


def _inspect(ctx, stream, interval) -> dict:
    """Job: first/last instance over all time, count in ``interval``, value type."""
    whole = stream.window(TimeInterval.all_time())
    first = whole.first()
    ctx.check()
    last = whole.last()
    ctx.check()
    count = stream.window(interval).count() if interval is not None else whole.count()
    return {
        "first": first.timestamp if first else None,
        "last": last.timestamp if last else None,
        "type": value_type(first.value) if first else "",
        "count": count,
        "exists": stream.stream_id in stream.channel,   # one definition read, not the channel listed
    }
