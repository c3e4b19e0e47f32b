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


class StallSampler:
    """Why the event loop stalled: while the GUI thread has not run a 5 ms timer for more than ``threshold``
    seconds, a watchdog thread samples the GUI thread's Python stack (``sys._current_frames``) and the innermost
    frames of every other busy thread (a job holding the GIL shows there). Each stall keeps its wall time, the GUI
    thread's CPU time in it (much less than the wall time: the GUI thread was waiting — for the GIL or a core — not
    working) and what ``context()`` said at its first sample (e.g. the running jobs' titles).

    Where the scheduler says so (Linux ``/proc/self/task/*/schedstat``), each stall also keeps every thread's CPU
    time and its wait for a core (run-queue delay) over the stall: a GUI thread that neither ran nor waited for a
    core was waiting for the GIL, and the thread that held it shows how long *it* waited for a core (a
    low-priority job thread preempted while it holds the GIL stalls the loop for as long).

    ``start()`` … ``stop()``, then :meth:`report`. The watchdog takes the GIL every 2 ms while it runs: figures
    measured meanwhile are a little worse than without it."""

    def __init__(self, threshold: float = 0.03, context=None):
        import threading
        self.threshold, self.context = threshold, context or (lambda: "")
        self.stalls: list[dict] = []
        self._gui = threading.get_ident()
        self._gui_tid = threading.get_native_id()
        self._base = (None, {})    # (the tick it was taken after, schedstat snapshot)
        self._last = (time.perf_counter(), time.thread_time())
        self._on = False
        self._timer = QTimer()
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._tick)
        self._thread = None

    def start(self):
        import threading
        self.stalls = []
        self._last = (time.perf_counter(), time.thread_time())
        self._on = True
        self._timer.start()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def stop(self):
        self._on = False
        self._timer.stop()
        if self._thread is not None:
            self._thread.join()
        self._thread = None

    def _tick(self):
        now, cpu = time.perf_counter(), time.thread_time()
        if self.stalls and self.stalls[-1]["at"] == self._last[0]:
            self.stalls[-1].update(wall=now - self._last[0], cpu=cpu - self._last[1])
        self._last = (now, cpu)

    def _watch(self):
        import collections
        import sys
        import threading
        while self._on:
            time.sleep(0.002)
            at = self._last[0]
            if self._base[0] != at:     # a new tick: the loop is live; the snapshot a stall after it starts from
                snap = _schedstat()
                if self.stalls and self.stalls[-1]["at"] == self._base[0] and "sched" not in self.stalls[-1]:
                    self.stalls[-1]["sched"] = _delta(self._base[1], snap)
                self._base = (at, snap)
            if time.perf_counter() - at <= self.threshold:
                continue
            if not self.stalls or self.stalls[-1]["at"] != at:
                try:
                    context = self.context()
                except Exception as e:  # noqa: BLE001 - a diagnostic must not end the watchdog
                    context = f"({type(e).__name__})"
                self.stalls.append({"at": at, "wall": None, "cpu": None, "context": context,
                                    "samples": collections.Counter()})
            frames = sys._current_frames()
            me = threading.get_ident()
            gui = _stack(frames.get(self._gui), 16)
            while gui and ("gui_meter.py" in gui[0] or gui[0].startswith("bench_")):   # the bench's own frames
                gui = gui[1:]
            gui = tuple(gui)
            others = tuple(" > ".join(_stack(f, 3)) for t, f in frames.items() if t not in (self._gui, me)
                           and f.f_code.co_name not in ("wait", "_wait_for_tstate_lock", "get", "sleep", "_watch"))
            self.stalls[-1]["samples"][(gui, others)] += 1

    def report(self, top: int = 3) -> list[str]:
        """The ``top`` longest stalls: wall and GUI CPU time, context, and the most sampled stacks."""
        done = [s for s in self.stalls if s["wall"] is not None]
        lines = [] if done else [f"(no stall over {self.threshold * 1e3:.0f} ms was sampled)"]
        for s in sorted(done, key=lambda s: -s["wall"])[:top]:
            lines.append(f"stall {s['wall'] * 1e3:.0f} ms (GUI thread CPU {s['cpu'] * 1e3:.0f} ms) "
                         f"{s['context']}")
            sched = s.get("sched")
            if sched:
                gui = sched.pop(self._gui_tid, (0.0, 0.0, ""))
                busy = sorted(((cpu, wait, name) for cpu, wait, name in sched.values() if cpu + wait > 0.002),
                              reverse=True)
                lines.append(f"  scheduler: GUI ran {gui[0] * 1e3:.0f} ms, waited for a core {gui[1] * 1e3:.0f} ms; "
                             + ("; ".join(f"{n} ran {c * 1e3:.0f} ms, waited {w * 1e3:.0f} ms" for c, w, n in busy)
                                or "no other thread ran"))
            for (gui, others), n in s["samples"].most_common(2):
                lines.append(f"  [{n}] GUI: {' > '.join(gui) or '(in Qt or waiting for the GIL: no Python frame)'}")
                lines.extend(f"       other: {o}" for o in others)
        return lines


def thread_sched() -> tuple[float, float]:
    """(CPU seconds, seconds waited for a core) of the calling thread so far; (nan, nan) off Linux. Over an open
    under load, the GUI thread's wait for a core is what the machine, not the app, added to the gaps."""
    import threading
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
            cpu, wait = f.read().split()[:2]
        return int(cpu) / 1e9, int(wait) / 1e9
    except (OSError, ValueError):
        return float("nan"), float("nan")


def _schedstat() -> dict:
    """{native thread id: (CPU seconds, run-queue wait seconds, name)} of this process's threads ({} off Linux)."""
    import os
    out = {}
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                cpu, wait = f.read().split()[:2]
            with open(f"/proc/self/task/{tid}/comm") as f:
                name = f.read().strip()
        except (OSError, ValueError):
            continue
        out[int(tid)] = (int(cpu) / 1e9, int(wait) / 1e9, f"{name}[{tid}]")
    return out


def _delta(before: dict, after: dict) -> dict:
    return {tid: (cpu - before[tid][0], wait - before[tid][1], name)
            for tid, (cpu, wait, name) in after.items() if tid in before}


def _stack(frame, depth: int) -> list[str]:
    """The innermost ``depth`` frames, outermost first, as file:line:function (the project's files by path)."""
    import os
    out = []
    while frame is not None and len(out) < depth:
        code = frame.f_code
        name = code.co_filename
        name = name[name.rfind("/hsgui/") + 1:] if "/hsgui/" in name else name[name.rfind("/channels/") + 1:] \
            if "/channels/" in name else os.path.basename(name)
        out.append(f"{name}:{frame.f_lineno}:{code.co_name}")
        frame = frame.f_back
    return out[::-1]
