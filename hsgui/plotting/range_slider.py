"""The overview slider of the time-range picker: two handles whose value is a pair of floats ``(low, high)``.

Drawn with the style's own slider parts (groove, handles) and a bar between the handles, the way superqt's
``QDoubleRangeSlider`` draws it on Linux — the picker used that one, but importing superqt (and qtpy under it)
cost about 70 ms of the app's start for this one widget. Dragging a handle moves it (never past the other),
dragging the bar moves both, a click beside the bar brings the nearer handle there; the wheel and the arrow keys
move the whole range.
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QApplication, QSizePolicy, QStyle, QStyleOptionSlider, QWidget

RESOLUTION = 10_000           # the style places handles in integer steps
STEP = 0.01                   # of the range: an arrow key; the wheel moves a few of these per notch
PAGE = 0.1                    # of the range: Page Up / Page Down
BAR_BRUSH, BAR_PEN, BAR_THICKNESS = QColor("#44A0D9"), QColor("#286384"), 4
CC, GROOVE, HANDLE = QStyle.ComplexControl.CC_Slider, QStyle.SubControl.SC_SliderGroove, \
    QStyle.SubControl.SC_SliderHandle
LENGTH_HINT = 84              # QSlider's own length hint


class RangeSlider(QWidget):
    """A horizontal two-handle slider over ``[minimum, maximum]`` (0 … 1 unless :meth:`setRange` says)."""

    valueChanged = Signal(tuple)      # (low, high), on every change (dragging included)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._min, self._max = 0.0, 1.0
        self._value = (0.0, 1.0)
        self._drag: tuple[str, float, tuple[float, float]] | None = None   # ("low"/"high"/"bar", grab, value)
        self._hover: int | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setMouseTracking(True)

    # -- value ---------------------------------------------------------------------------------------
    def value(self) -> tuple[float, float]:
        return self._value

    def setValue(self, value) -> None:
        low, high = (min(self._max, max(self._min, float(v))) for v in value)
        if high < low:
            raise ValueError(f"a range slider's value must be (low, high) with low <= high, not {tuple(value)}")
        if (low, high) != self._value:
            self._value = (low, high)
            self.update()
            self.valueChanged.emit(self._value)

    def setRange(self, minimum: float, maximum: float) -> None:
        if maximum < minimum:
            raise ValueError(f"a range slider's maximum {maximum} is below its minimum {minimum}")
        self._min, self._max = float(minimum), float(maximum)
        self.setValue(self._value)    # kept inside the new range

    def minimum(self) -> float:
        return self._min

    def maximum(self) -> float:
        return self._max

    # -- geometry ------------------------------------------------------------------------------------
    def _option(self, at: float | None = None) -> QStyleOptionSlider:
        opt = QStyleOptionSlider()
        opt.initFrom(self)
        opt.orientation = Qt.Orientation.Horizontal
        opt.state |= QStyle.StateFlag.State_Horizontal
        opt.minimum, opt.maximum = 0, RESOLUTION
        opt.singleStep, opt.pageStep = int(STEP * RESOLUTION), int(PAGE * RESOLUTION)
        opt.direction = Qt.LayoutDirection.LeftToRight
        span = self._max - self._min
        opt.sliderPosition = opt.sliderValue = 0 if at is None or span <= 0 else \
            int(round((at - self._min) / span * RESOLUTION))
        return opt

    def handle_rect(self, v: float):
        """Where the handle of value ``v`` is drawn."""
        return self.style().subControlRect(CC, self._option(v), HANDLE, self)

    def _value_at(self, x: float) -> float:
        """The value under pixel ``x`` of the handle's left edge (as QStyle.sliderValueFromPosition)."""
        opt = self._option()
        groove = self.style().subControlRect(CC, opt, GROOVE, self)
        length = self.style().subControlRect(CC, opt, HANDLE, self).width()
        span = groove.right() - length + 1 - groove.x()
        if span <= 0:
            return self._min
        return self._min + (self._max - self._min) * min(1.0, max(0.0, (x - groove.x()) / span))

    def sizeHint(self) -> QSize:
        self.ensurePolished()
        opt = self._option()
        thick = self.style().pixelMetric(QStyle.PixelMetric.PM_SliderThickness, opt, self)
        return self.style().sizeFromContents(QStyle.ContentsType.CT_Slider, opt, QSize(LENGTH_HINT, thick), self)

    def minimumSizeHint(self) -> QSize:
        size = self.sizeHint()
        size.setWidth(self.style().pixelMetric(QStyle.PixelMetric.PM_SliderLength, self._option(), self))
        return size

    # -- painting ------------------------------------------------------------------------------------
    def paintEvent(self, _event):
        painter = QPainter(self)
        style = self.style()
        opt = self._option()
        opt.subControls = GROOVE
        style.drawComplexControl(CC, opt, painter, self)
        low, high = self._value
        groove = QRectF(style.subControlRect(CC, opt, GROOVE, self))
        bar = QRectF(self.handle_rect(low).center().x(), groove.center().y() - BAR_THICKNESS / 2,
                     0, BAR_THICKNESS)
        bar.setRight(self.handle_rect(high).center().x())
        painter.setPen(BAR_PEN)
        painter.setBrush(BAR_BRUSH)
        painter.drawRect(bar)
        for i, v in enumerate(self._value):
            opt = self._option(v)
            opt.subControls = HANDLE
            dragged = self._drag is not None and self._drag[0] == ("low", "high")[i]
            if dragged:
                opt.state |= QStyle.StateFlag.State_Sunken
            opt.activeSubControls = HANDLE if self._hover == i or dragged else QStyle.SubControl.SC_None
            style.drawComplexControl(CC, opt, painter, self)

    # -- mouse, wheel, keys --------------------------------------------------------------------------
    def mousePressEvent(self, event):
        if event.button() != Qt.MouseButton.LeftButton or self._max <= self._min:
            event.ignore()
            return
        event.accept()
        pos = event.position().toPoint()
        low, high = self._value
        on = [self.handle_rect(v).contains(pos) for v in self._value]
        if on[0] and on[1]:            # handles on top of each other: take the one that can move
            which = "high" if low <= self._min else "low"
        elif on[0] or on[1]:
            which = "low" if on[0] else "high"
        else:
            at = self._value_at(pos.x() - self.handle_rect(low).width() / 2)
            if low < at < high:
                self._drag = ("bar", at, self._value)
                return
            which = "low" if abs(at - low) <= abs(at - high) else "high"
            self._move_handle(which, at)
        rect = self.handle_rect(self._value[which == "high"])
        self._drag = (which, pos.x() - rect.x(), self._value)
        self.update()

    def mouseMoveEvent(self, event):
        pos = event.position().toPoint()
        if self._drag is None:
            self._hover_at(pos)
            return
        which, grab, start = self._drag
        if which == "bar":
            at = self._value_at(pos.x() - self.handle_rect(start[0]).width() / 2)
            self._shift(at - grab, start)
        else:
            self._move_handle(which, self._value_at(pos.x() - grab))

    def mouseReleaseEvent(self, event):
        if self._drag is not None and event.button() == Qt.MouseButton.LeftButton:
            self._drag = None
            self.update()

    def leaveEvent(self, event):
        self._hover = None
        self.update()
        super().leaveEvent(event)

    def wheelEvent(self, event):
        notches = event.angleDelta().y() / 120 or -event.angleDelta().x() / 120
        if event.inverted():
            notches = -notches
        before = self._value
        self._shift(notches * QApplication.wheelScrollLines() * STEP * (self._max - self._min))
        event.setAccepted(self._value != before)   # at an end: the wheel scrolls whatever holds the slider

    def keyPressEvent(self, event):
        steps = {Qt.Key.Key_Left: -STEP, Qt.Key.Key_Right: STEP, Qt.Key.Key_Down: -STEP, Qt.Key.Key_Up: STEP,
                 Qt.Key.Key_PageDown: -PAGE, Qt.Key.Key_PageUp: PAGE}
        span = self._max - self._min
        if event.key() in steps:
            self._shift(steps[event.key()] * span)
        elif event.key() == Qt.Key.Key_Home:
            self._shift(-span)
        elif event.key() == Qt.Key.Key_End:
            self._shift(span)
        else:
            super().keyPressEvent(event)

    def _move_handle(self, which: str, at: float) -> None:
        low, high = self._value
        self.setValue((min(at, high), high) if which == "low" else (low, max(at, low)))

    def _shift(self, by: float, start: tuple[float, float] | None = None) -> None:
        """Move both handles by ``by``, the bar's width kept (it stops at either end)."""
        low, high = start or self._value
        by = min(max(by, self._min - low), self._max - high)
        self.setValue((low + by, high + by))

    def _hover_at(self, pos: QPoint) -> None:
        hover = next((i for i, v in enumerate(self._value) if self.handle_rect(v).contains(pos)), None)
        if hover != self._hover:
            self._hover = hover
            self.update()


__all__ = ["RangeSlider"]
