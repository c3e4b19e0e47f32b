"""What the GUI benchmarks share: spin the event loop until a condition holds, measure how long the loop was
blocked meanwhile (the gaps between the ticks of a 10 ms timer), and count a widget's paints."""
from __future__ import annotations

import statistics
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication


def spin_until(pred, timeout=120.0):
    """Process events until ``pred()`` is true (TimeoutError after ``timeout`` seconds)."""
    app = QApplication.instance()
    end = time.perf_counter() + timeout
    while not pred():
        if time.perf_counter() > end:
            raise TimeoutError("benchmark step timed out")
        app.processEvents()
        time.sleep(0.001)


class GapMeter:
    """Gaps between ticks of a 10 ms timer: how long the event loop was blocked."""

    def __init__(self):
        self.gaps, self.last, self.took = [], 0.0, 0.0
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)

    def _tick(self):
        now = time.perf_counter()
        self.gaps.append(now - self.last)
        self.last = now

    def start(self):
        self.gaps, self.last = [], time.perf_counter()
        self.timer.start()

    def stop(self):
        """(largest, median) gap since :meth:`start`, the time since the last tick included."""
        self.timer.stop()
        self.gaps.append(time.perf_counter() - self.last)
        return max(self.gaps), statistics.median(self.gaps)

    def run(self, until, min_s=0.0, timeout=300):
        """Spin until ``until()`` (and at least ``min_s``); (largest, median) gap; :attr:`took` the seconds."""
        self.start()
        t0 = time.perf_counter()
        spin_until(lambda: until() and time.perf_counter() - t0 >= min_s, timeout=timeout)
        self.took = time.perf_counter() - t0
        return self.stop()


class Paints(QObject):
    """Counts the paints of a widget (``n``)."""

    def __init__(self, widget):
        super().__init__()
        self.n = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            self.n += 1
        return False
