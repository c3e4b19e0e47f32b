"""Benchmark: the real PlotArea, headless, on an embedded (SQLite) store of 1,000,000 and 10,000,000 floats.

Prints, per size: time to first curve, time per re-query on zoom and pan (the
job itself, and as the user sees it including the 100 ms debounce), the
largest event-loop stall (largest gap of a 10 ms QTimer, minus 10 ms) and
peak RSS (VmHWM). Each size runs in its own process so its peak RSS is its
own. Baseline, in the 1,000,000 process: read the raw columns of the whole
stream and plot them with plain pyqtgraph (downsampling + clip-to-view), the
naive way, on the GUI thread.

Stores are built once and cached (``--cache``, default /tmp/hsgui-bench);
building 10,000,000 instances takes a few minutes.

    python bench/bench_plot.py [--sizes 1000000,10000000] [--cache DIR]
    python bench/bench_plot.py --smoke     # 20,000 instances in a temporary folder, fewer moves: checks that
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
    """A 10 ms QTimer; the largest gap between its ticks beyond 10 ms is the worst event-loop stall."""

    def __init__(self):
        from PySide6.QtCore import QTimer
        self.timer = QTimer(interval=10)
        self.timer.timeout.connect(self._tick)
        self.reset()
        self.timer.start()

    def reset(self):
        self.last = time.perf_counter()
        self.worst = 0.0

    def _tick(self):
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last - 0.010)
        self.last = now


def run(cache: Path, n: int, baseline: bool, smoke: bool = False) -> None:
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from channels.database_channel import DatabaseChannel
    from channels.stores.sqlite_store import SQLiteStore
    from hsgui.common.background import JobRunner
    from hsgui.plotting.plot_area import DEBOUNCE_MS, PlotArea

    app = QApplication.instance() or QApplication([])
    store = SQLiteStore(store_path(cache, n))
    ch = DatabaseChannel("bench", store)
    stream = ch.find_stream(name="float")
    runner = JobRunner()
    area = PlotArea(runner, lambda cid, sid: ch[sid])
    area.resize(1400, 500)
    area.show()
    app.processEvents()
    meter = StallMeter()
    updates = []
    area.sigCurveUpdated.connect(lambda c: updates.append(time.perf_counter()))

    def wait_update(count, timeout=60.0):
        end = time.perf_counter() + timeout
        while len(updates) < count and time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
        if len(updates) < count:
            raise RuntimeError("no curve update within the timeout")
        # let the paint that shows it happen
        app.processEvents()

    rss_before = vm("VmRSS")
    meter.reset()
    t0 = time.perf_counter()
    area.add_stream(stream)
    wait_update(1)
    first = updates[0] - t0
    info = area.curves()[0]
    first_stall = meter.worst
    first_line = (f"time to first curve: {first * 1000:7.0f} ms  ({info.mode}, {info.points} points, "
                  f"pane {area.panes[0].pixel_width()} px)")

    vb = area.panes[0].view_box
    job_times, seen_times, modes = [], [], []
    meter.reset()
    x0, x1 = vb.viewRange()[0]
    # zoom in by 2x twelve times around a point, then pan by half a width six times, then zoom out
    centre = x0 + (x1 - x0) * 0.37
    moves = []
    w = x1 - x0
    zooms, pans, outs = (4, 2, 1) if smoke else (12, 6, 4)
    for _ in range(zooms):
        w /= 2
        moves.append((centre - w / 2, centre + w / 2))
    a, b = moves[-1]
    for _ in range(pans):
        a, b = a + (b - a) / 2, b + (b - a) / 2
        moves.append((a, b))
    for _ in range(outs):
        c, h = (a + b) / 2, (b - a) * 8
        a, b = c - h / 2, c + h / 2
        moves.append((a, b))
    for a, b in moves:
        k = len(updates)
        c = area.curves()[0].curve
        last = c.read_job      # the curve's newest read: another one means the move needed a read
        t = time.perf_counter()
        vb.setXRange(a, b, padding=0)
        # a move within the pre-fetched margin needs no read: wait the debounce out and check
        end = time.perf_counter() + DEBOUNCE_MS / 1000 + 0.05
        while time.perf_counter() < end and c.read_job is last:
            app.processEvents()
            time.sleep(0.001)
        if c.read_job is last:
            continue
        wait_update(k + 1)
        seen_times.append(updates[-1] - t)
        job_times.append(c.read_job.elapsed)
        modes.append(area.curves()[0].mode)
    zoom_stall = meter.worst
    peak = vm("VmHWM")

    print(f"--- {n:,} instances (SQLite store, {store_path(cache, n).stat().st_size / 1e6:.0f} MB file)"
          f"{' (smoke run: sizes too small for the figures to mean anything)' if smoke else ''} ---")
    print(first_line)
    if not job_times:
        raise RuntimeError("no zoom/pan move needed a read: the bench measured nothing")
    print(f"re-query on zoom/pan: {len(job_times)} of {len(moves)} moves needed a read; job median "
          f"{statistics.median(job_times) * 1000:.0f} ms, max {max(job_times) * 1000:.0f} ms; as seen (incl. "
          f"{DEBOUNCE_MS} ms debounce) median {statistics.median(seen_times) * 1000:.0f} ms, max "
          f"{max(seen_times) * 1000:.0f} ms; modes {sorted(set(modes))}")
    print(f"largest event-loop stall: first curve {first_stall * 1000:.0f} ms, zoom/pan {zoom_stall * 1000:.0f} ms")
    print(f"RSS: {rss_before:.0f} MB before plotting, peak {peak:.0f} MB (target <= 500 MB)")

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
    store.close()
    sys.stdout.flush()
    os._exit(0)  # skip Qt teardown: the figures are printed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--cache", default="/tmp/hsgui-bench")
    ap.add_argument("--run", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes in a temporary folder (does it run?)")
    args = ap.parse_args()
    if args.smoke and not args.run:
        import tempfile
        with tempfile.TemporaryDirectory(prefix="hsgui-bench-plot-smoke-") as tmp:
            args.cache, args.sizes = tmp, "20000"
            sweep(args)
        return
    if args.run:
        run(Path(args.cache), args.run, args.baseline, args.smoke)
        return
    sweep(args)


def sweep(args):
    cache = Path(args.cache)
    sizes = [int(s) for s in args.sizes.split(",")]
    for n in sizes:
        build(cache, n)
    for i, n in enumerate(sizes):
        cmd = [sys.executable, __file__, "--cache", str(cache), "--run", str(n)]
        if n == min(sizes) and n <= 1_000_000:
            cmd.append("--baseline")
        if args.smoke:
            cmd.append("--smoke")
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
