"""Benchmark: the real PlotArea, headless, plotting 1,000,000 and 10,000,000 floats from the memory channel, the
embedded (SQLite) store and MongoStore on mongomock, then zoomed and panned continuously by hand-rate events.

Prints, per store and size (each in its own process, so its peak RSS is its own):

- time to first curve (and until every read settled), and the largest event-loop stall while plotting (largest
  gap of a 10 ms QTimer beyond its 10 ms), beside the same timer's idle stall (1 s, before plotting);
- 5 s of continuous zoom and pan — real QWheelEvents (5 notches, 25 ms apart) and mouse drags (450 px in 12
  moves, 16 ms apart) on the pane, see :class:`Gestures` — with the largest stall, and per gesture the time
  from its last event until the curve's data covers the visible range at one bucket per pixel (or raw points):
  "new detail on screen" (targets: median <= 50 ms, max <= 100 ms; stalls <= 50 ms);
- peak RSS (VmHWM).

Baseline, in the SQLite 1,000,000 process: read the raw columns of the whole stream and plot them with plain
pyqtgraph (downsampling + clip-to-view), the naive way, on the GUI thread.

SQLite stores are built once and cached (``--cache``, default /tmp/hsgui-bench; 10,000,000 instances take a
minute or two); memory streams are built in the process. mongomock has no indexes (every find scans and sorts
the collection in Python: a 40,000-instance summary takes seconds, writing 50,000 instances ~20 s), so its
sizes are capped at ``--mongomock-max`` (default 20,000): larger ones take hours to build, and its figures are
those of the fake, not of MongoDB.

    python bench/bench_plot.py [--sizes 1000000,10000000] [--stores memory,sqlite,mongomock] [--cache DIR]
    python bench/bench_plot.py --smoke     # 20,000 instances (mongomock 2,000), 1 s of gestures: checks that
                                           # the bench runs and prints its figures (no timing claims)
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHUNK = 250_000
MONGOMOCK_MAX = 20_000    # mongomock: every find scans and sorts the whole collection in Python
STEP_MS = 1000


def vm(key: str) -> float:
    """A /proc/self/status figure in MB (VmHWM = peak RSS, VmRSS = current)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def store_path(cache: Path, n: int) -> Path:
    return cache / f"plot_{n}.sqlite"


def build(cache: Path, n: int) -> None:
    """Write ``n`` float instances, one per second, ending a day ago (cached: skipped when done before)."""
    import numpy as np

    from channels.database_channel import DatabaseChannel
    from channels.stores.sqlite_store import SQLiteStore
    from channels.stream import StreamInstance
    from channels.time_interval import TimeInterval, TimeIntervals
    from channels.utils import from_ms, to_ms, utcnow

    path = store_path(cache, n)
    done = path.with_suffix(".done")
    if done.exists():
        return
    for p in cache.glob(path.name + "*"):
        p.unlink()
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    store = SQLiteStore(path)
    ch = DatabaseChannel("bench", store)
    stream = ch.create_stream("float")
    end_ms = (to_ms(utcnow() - timedelta(days=1)) // 1000) * 1000
    start_ms = end_ms - n * STEP_MS
    rng = np.random.default_rng(7)
    calc = TimeIntervals()
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        k = np.arange(lo, hi)
        vals = (np.sin(k / 20_000.0) * 10 + np.sin(k / 700.0) + rng.standard_normal(hi - lo) * 0.3).tolist()
        ms = (start_ms + (k + 1) * STEP_MS).tolist()
        insts = [StreamInstance._make((from_ms(m), v)) for m, v in zip(ms, vals)]
        calc = calc + TimeInterval(from_ms(start_ms + lo * STEP_MS), from_ms(start_ms + hi * STEP_MS))
        ch.write_chunk(stream, insts, calc)
        print(f"  built {hi:,}/{n:,} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    store.close()
    done.write_text(f"{n} instances in {time.perf_counter() - t0:.1f} s\n")


class StallMeter:
    """A 10 ms QTimer; the largest gap between its ticks beyond 10 ms is the worst event-loop stall, and
    :attr:`worst_cpu` the GUI thread's own CPU time in that gap: near the gap, the GUI thread was busy; far below
    it, it waited (for the GIL, or for a CPU on a loaded machine)."""

    def __init__(self):
        from PySide6.QtCore import QTimer
        self.timer = QTimer(interval=10)
        self.timer.timeout.connect(self._tick)
        self.reset()
        self.timer.start()

    def reset(self):
        self.last, self.last_cpu = time.perf_counter(), time.thread_time()
        self.worst = self.worst_cpu = 0.0

    def _tick(self):
        now, cpu = time.perf_counter(), time.thread_time()
        if now - self.last - 0.010 > self.worst:
            self.worst, self.worst_cpu = now - self.last - 0.010, cpu - self.last_cpu
        self.last, self.last_cpu = now, cpu

    def text(self) -> str:
        return (f"{self.worst * 1000:.0f} ms (GUI thread CPU {self.worst_cpu * 1000:.0f} ms of that "
                f"{(self.worst + 0.010) * 1000:.0f} ms between ticks)")


def build_memory(n: int):
    """A memory-channel stream of ``n`` floats (one per second, ending a day ago), written in 1 M chunks."""
    import numpy as np

    from channels.memory_channel import MemoryChannel
    from channels.utils import to_ms, utcnow

    ch = MemoryChannel("mem")
    stream = ch.create_stream("float")
    end_ms = (to_ms(utcnow() - timedelta(days=1)) // 1000) * 1000
    start_ms = end_ms - n * STEP_MS
    rng = np.random.default_rng(7)
    for lo in range(0, n, 1_000_000):
        k = np.arange(lo, min(n, lo + 1_000_000))
        vals = np.sin(k / 20_000.0) * 10 + np.sin(k / 700.0) + rng.standard_normal(len(k)) * 0.3
        ch.insert_arrays(stream, start_ms + (k + 1) * STEP_MS, vals)
    return ch, stream


def build_mongomock(n: int):
    """A MongoStore on mongomock holding ``n`` floats (mongomock's unique check made O(1) per document, as
    bench_store does; mongomock has no indexes: every find scans and sorts the collection in Python)."""
    import numpy as np

    import mongomock

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import mongomock_hash_unique
    from channels.database_channel import DatabaseChannel
    from channels.stores.mongo_store import MongoStore
    from channels.utils import to_ms, utcnow

    mongomock_hash_unique.enable()
    store = MongoStore(mongomock.MongoClient(), db_name="bench")
    ch = DatabaseChannel("bench", store)
    stream = ch.create_stream("float")
    end_ms = (to_ms(utcnow() - timedelta(days=1)) // 1000) * 1000
    start_ms = end_ms - n * STEP_MS
    for lo in range(0, n, 50_000):
        k = np.arange(lo, min(n, lo + 50_000))
        ch.insert_arrays(stream, start_ms + (k + 1) * STEP_MS, np.sin(k / 20_000.0) * 10 + np.sin(k / 700.0))
    return ch, stream


def open_stream(kind: str, cache: Path, n: int):
    """``(channel, stream, what)`` of the benchmark stream of ``kind``: sqlite (cached file), memory, mongomock."""
    if kind == "sqlite":
        from channels.database_channel import DatabaseChannel
        from channels.stores.sqlite_store import SQLiteStore
        ch = DatabaseChannel("bench", SQLiteStore(store_path(cache, n)))
        return ch, ch.find_stream(name="float"), \
            f"SQLite store, {store_path(cache, n).stat().st_size / 1e6:.0f} MB file"
    t0 = time.perf_counter()
    ch, stream = build_memory(n) if kind == "memory" else build_mongomock(n)
    return ch, stream, f"{'memory channel' if kind == 'memory' else 'MongoDB via mongomock'}, built in " \
                       f"{time.perf_counter() - t0:.0f} s"


class Gestures:
    """Continuous zoom and pan by real Qt wheel and mouse-drag events on a pane's plot, at a hand's rate.

    A gesture is 5 wheel notches 25 ms apart (zoom in or out around 40 % of the width), or a drag of 450 px (a
    third of the pane) in 12 mouse moves 16 ms apart. After each gesture it waits until every curve's data
    covers the visible range at one bucket per pixel (or raw points) — "new detail on screen" — and records
    that latency from the gesture's last event; then the next gesture starts.
    """

    # zoom in to raw points and out again, panning on the way (mostly onwards, as one follows a signal)
    PLAN = ["in", "pan+", "in", "pan+", "in", "pan-", "in", "pan+", "in", "pan+", "in", "pan+",
            "out", "pan-", "out", "pan-", "out", "pan+", "out", "pan-", "out", "pan-", "out", "pan-"]
    DRAG_PX = 450

    def __init__(self, app, area, spin):
        self.app, self.area, self.spin = app, area, spin
        self.pane = area.panes[0]
        self.viewport = self.pane.plot_widget.viewport()

    def _at(self, fx: float):
        from PySide6.QtCore import QPointF
        vb = self.pane.view_box
        r = vb.sceneBoundingRect()
        p = self.pane.plot_widget.mapFromScene(QPointF(r.left() + r.width() * fx, r.top() + r.height() / 2))
        return QPointF(p)

    def _send(self, ev):
        self.app.sendEvent(self.viewport, ev)

    def wheel(self, notches: int):
        from PySide6.QtCore import QPoint, Qt
        from PySide6.QtGui import QWheelEvent
        pos = self._at(0.4)
        for i in range(abs(notches)):
            if i:
                self.spin(0.025)
            angle = QPoint(0, 120 if notches > 0 else -120)
            self._send(QWheelEvent(pos, self.viewport.mapToGlobal(pos), QPoint(), angle, Qt.NoButton, Qt.NoModifier,
                                   Qt.NoScrollPhase, False))

    def drag(self, px: int):
        from PySide6.QtCore import QEvent, QPointF, Qt
        from PySide6.QtGui import QMouseEvent
        a = self._at(0.5)
        g = lambda p: QPointF(self.viewport.mapToGlobal(p))  # noqa: E731
        self._send(QMouseEvent(QEvent.MouseButtonPress, a, g(a), Qt.LeftButton, Qt.LeftButton, Qt.NoModifier))
        for i in range(1, 13):
            p = QPointF(a.x() - px * i / 12, a.y())
            self.spin(0.016)
            self._send(QMouseEvent(QEvent.MouseMove, p, g(p), Qt.NoButton, Qt.LeftButton, Qt.NoModifier))
        self._send(QMouseEvent(QEvent.MouseButtonRelease, p, g(p), Qt.LeftButton, Qt.NoButton, Qt.NoModifier))

    def covered(self) -> bool:
        """Every curve's data covers the visible range at one bucket per pixel (or as raw points)."""
        from hsgui.common.timefmt import interval_from_seconds
        iv = interval_from_seconds(*self.pane.x_range())
        return all(not c.needs(iv, c.pane.pixel_width()) for c in self.pane.curves)

    def run(self, seconds: float, timeout: float = 5.0):
        latencies, kinds = [], []
        t_end = time.perf_counter() + seconds
        i = 0
        while time.perf_counter() < t_end:
            g = self.PLAN[i % len(self.PLAN)]
            i += 1
            if g == "in":
                self.wheel(5)
            elif g == "out":
                self.wheel(-5)
            else:
                self.drag(self.DRAG_PX if g == "pan+" else -self.DRAG_PX)
            done = time.perf_counter()
            limit = done + timeout
            while not self.covered() and time.perf_counter() < limit:
                self.app.processEvents()
                time.sleep(0.0005)
            latencies.append(time.perf_counter() - done)
            kinds.append(g)
        return latencies, kinds


def run(kind: str, cache: Path, n: int, baseline: bool, smoke: bool = False) -> None:
    import pyqtgraph as pg

    from hsgui.app import create_application
    from hsgui.common import gc_policy
    from hsgui.common.background import JobRunner
    from hsgui.plotting.plot_area import PlotArea

    app = create_application([])   # as the app makes it (Qt's raster thread pool off: see hsgui.app)
    ch, stream, what = open_stream(kind, cache, n)
    gc_policy.install()   # as hsgui.app does
    runner = JobRunner()
    area = PlotArea(runner, lambda cid, sid: ch[sid])
    area.resize(1400, 500)
    area.show()
    app.processEvents()
    meter = StallMeter()
    updates = []
    area.sigCurveUpdated.connect(lambda c: updates.append(time.perf_counter()))

    def spin(seconds):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.0005)

    def wait_for(pred, timeout=120.0):
        end = time.perf_counter() + timeout
        while not pred() and time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.0005)
        if not pred():
            raise RuntimeError("the plot did not settle within the timeout")
        app.processEvents()  # let the paint that shows it happen

    meter.reset()
    spin(1.0)
    idle = meter.worst
    rss_before = vm("VmRSS")
    meter.reset()
    t0 = time.perf_counter()
    area.add_stream(stream)
    wait_for(lambda: bool(updates))
    first = updates[0] - t0
    wait_for(lambda: not area.busy)
    settled = time.perf_counter() - t0
    first_stall, first_text = meter.worst, meter.text()
    info = area.curves()[0]
    smoke_note = " (smoke run: sizes too small for the figures to mean anything)" if smoke else ""
    print(f"--- {n:,} instances ({what}){smoke_note} ---")
    print(f"time to first curve: {first * 1000:7.0f} ms, settled {settled * 1000:.0f} ms ({info.mode}, {info.points} "
          f"points, pane {area.panes[0].pixel_width()} px)")

    gestures = Gestures(app, area, spin)
    reads = []
    runner.jobFinished.connect(lambda j: reads.append(j.elapsed) if j.title.startswith("plot ") else None)
    meter.reset()
    latencies, kinds = gestures.run(1.0 if smoke else 5.0)
    zoom_stall, zoom_text = meter.worst, meter.text()
    peak = vm("VmHWM")
    lat = sorted(latencies)
    worst_kind = kinds[latencies.index(lat[-1])]
    med = statistics.median(lat)
    print(f"zoom/pan for {'1' if smoke else '5'} s ({len(lat)} gestures: wheel 5 notches / drag {Gestures.DRAG_PX} "
          f"px): new detail on screen after the gesture's end median {med * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms "
          f"({worst_kind}); targets median <= 50, max <= 100: {'OK' if med <= 0.05 and lat[-1] <= 0.1 else 'MISSED'}; "
          f"{len(reads)} reads (jobs) median {statistics.median(reads or [0]) * 1000:.0f} ms, max "
          f"{max(reads or [0]) * 1000:.0f} ms")
    print(f"largest event-loop stall: idle {idle * 1000:.0f} ms; plotting {first_text}, zoom/pan {zoom_text}; "
          f"target <= 50 ms: {'OK' if max(first_stall, zoom_stall) <= 0.05 else 'MISSED'}")
    print(f"RSS: {rss_before:.0f} MB before plotting, peak {peak:.0f} MB")

    if baseline:
        # the naive way: every raw point through plain pyqtgraph, on the GUI thread
        meter.reset()
        t = time.perf_counter()
        ms, vals = stream.window().columns()
        t_read = time.perf_counter() - t
        w = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        w.resize(1400, 500)
        w.show()
        item = w.plot(ms / 1000.0, vals)
        item.setDownsampling(auto=True, method="peak")
        item.setClipToView(True)
        app.processEvents()
        w.repaint()
        t_base = time.perf_counter() - t
        meter._tick()
        t = time.perf_counter()
        vb2 = w.getViewBox()
        a = float(ms[0]) / 1000 + 0.37 * (float(ms[-1]) - float(ms[0])) / 1000
        vb2.setXRange(a, a + 3600, padding=0)
        app.processEvents()
        w.repaint()
        t_zoom = time.perf_counter() - t
        print(f"baseline (raw columns of all {len(ms):,} points + plain pyqtgraph, GUI thread): first paint "
              f"{t_base * 1000:.0f} ms (read {t_read * 1000:.0f} ms), zoom {t_zoom * 1000:.0f} ms, stall "
              f"{meter.worst * 1000:.0f} ms, peak RSS now {vm('VmHWM'):.0f} MB")
        print(f"ratio: first curve / baseline first paint = {first / t_base:.2f}; "
              f"stall {first_stall * 1000:.0f} ms vs {meter.worst * 1000:.0f} ms")
        del ms, vals
    runner.shutdown(10000)
    sys.stdout.flush()
    os._exit(0)  # skip Qt teardown: the figures are printed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--stores", default="memory,sqlite,mongomock")
    ap.add_argument("--mongomock-max", type=int, default=MONGOMOCK_MAX,
                    help="mongomock sizes are capped at this (its finds scan the collection: larger ones take hours)")
    ap.add_argument("--cache", default="/tmp/hsgui-bench")
    ap.add_argument("--run", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--kind", default="sqlite", help=argparse.SUPPRESS)
    ap.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes in a temporary folder (does it run?)")
    args = ap.parse_args()
    if args.smoke and not args.run:
        import tempfile
        with tempfile.TemporaryDirectory(prefix="hsgui-bench-plot-smoke-") as tmp:
            args.cache, args.sizes, args.mongomock_max = tmp, "20000", 2_000
            sweep(args)
        return
    if args.run:
        run(args.kind, Path(args.cache), args.run, args.baseline, args.smoke)
        return
    sweep(args)


def sweep(args):
    cache = Path(args.cache)
    sizes = [int(s) for s in args.sizes.split(",")]
    stores = args.stores.split(",")
    if "sqlite" in stores:
        for n in sizes:
            build(cache, n)
    for kind in stores:
        done = set()
        for n in sizes:
            if kind == "mongomock":
                n = min(n, args.mongomock_max)
            if n in done:
                continue
            done.add(n)
            cmd = [sys.executable, __file__, "--cache", str(cache), "--run", str(n), "--kind", kind]
            if kind == "sqlite" and n == min(sizes) and n <= 1_000_000:
                cmd.append("--baseline")
            if args.smoke:
                cmd.append("--smoke")
            subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
