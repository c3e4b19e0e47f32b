"""App start to usable window on the demo store (DESIGN §7 target: ≤ 1.0 s and ≤ 2× the empty window).

Each measurement is a fresh process (imports included), timed from process
start until the main window is shown with the store's channels in the tree.
Baseline, in the same run: a fresh process that imports PySide6 + pyqtgraph
and shows an empty QMainWindow — the floor no Qt app can beat. App and
baseline runs alternate, so both see the same load on a shared machine.

Python's compiled bytecode is cached as after a user's first start (a
``PYTHONPYCACHEPREFIX`` folder of this run, one warm-up run of each not
counted), also where ``PYTHONDONTWRITEBYTECODE`` is set; ``--cold`` compiles
the app's sources in every run instead (as a start with no cache can).

    python bench/bench_app_start.py [STORE] [--cold]   (default: builds the demo store in a temp folder once)
    python bench/bench_app_start.py --smoke    (one run of each: does the bench still run? no timing claims)
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile

CHILD_APP = r"""
import time, sys
t0, c0 = time.perf_counter(), time.process_time()
from PySide6.QtCore import QTimer
from hsgui.app import create_application
from hsgui.main_window import MainWindow
app = create_application()
w = MainWindow(restore=False)
w.persist = False
w.show()
def ready(manager):
    app.processEvents()
    print(f"READY {time.perf_counter() - t0:.3f} {time.process_time() - c0:.3f} channels={len(manager.channels)}",
          flush=True)
    QTimer.singleShot(0, w.close)
w.state.events.manager.connect(lambda m: m is not None and ready(m))
w.open_target(sys.argv[1])
app.exec()
"""

CHILD_BASELINE = r"""
import time
t0, c0 = time.perf_counter(), time.process_time()
import pyqtgraph
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
w = QMainWindow(); w.resize(1400, 900); w.show(); app.processEvents()
print(f"READY {time.perf_counter() - t0:.3f} {time.process_time() - c0:.3f}", flush=True)
"""


ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
sys.path.insert(0, ROOT)


def run_child(code: str, *args, env_extra: dict | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child's threads) until its window was usable."""
    # the children import the app from this checkout, whatever is installed
    path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=path)
    if env_extra is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=300)
    for line in out.stdout.splitlines():
        if line.startswith("READY"):
            return float(line.split()[1]), float(line.split()[2])
    raise RuntimeError(f"child did not report: {out.stdout[-500:]} {out.stderr[-2000:]}")


def main():
    smoke = "--smoke" in sys.argv
    cold = "--cold" in sys.argv
    args = [a for a in sys.argv[1:] if a not in ("--smoke", "--cold")]
    if args:
        store = args[0]
    else:
        folder = tempfile.mkdtemp(prefix="hsgui-bench-start-")
        store = os.path.join(folder, "demo.sqlite")
        from hsgui.common.connection import build_demo_file
        print("building the demo store once …", flush=True)
        build_demo_file(store)
    runs = 1 if smoke else 5
    if smoke:
        print("(smoke run: tiny sizes; no timing claims, the figures and verdicts below mean nothing)")
    env_extra = None
    if not cold:
        env_extra = {"PYTHONPYCACHEPREFIX": tempfile.mkdtemp(prefix="hsgui-bench-pyc-")}
        run_child(CHILD_APP, store, env_extra=env_extra)      # warm-up: compiles and caches, not counted
        run_child(CHILD_BASELINE, env_extra=env_extra)
    app_times, base_times = [], []
    for _ in range(runs):      # alternated: a busy moment slows both, not one
        app_times.append(run_child(CHILD_APP, store, env_extra=env_extra))
        base_times.append(run_child(CHILD_BASELINE, env_extra=env_extra))
    a, b = (statistics.median(t for t, _ in times) for times in (app_times, base_times))
    ca, cb = (statistics.median(c for _, c in times) for times in (app_times, base_times))
    how = "sources compiled in every run (--cold)" if cold else "bytecode cached as after a first start"
    print(f"app start to usable window (demo store; {how}), median of {runs}: {a:.3f} s  (all: "
          f"{', '.join(f'{t:.2f}' for t, _ in app_times)})")
    print(f"baseline: empty Qt window with PySide6+pyqtgraph imported, median of {runs}: {b:.3f} s  (all: "
          f"{', '.join(f'{t:.2f}' for t, _ in base_times)})")
    met = a <= 1.0 and a <= 2 * b
    print(f"ratio app / baseline: {a / b:.2f}x;  target <= 1.0 s and <= 2x baseline: {'MET' if met else 'NOT MET'}")
    # CPU seconds are far less sensitive than wall time to what else runs on a shared machine
    print(f"CPU time of the process, median: app {ca:.3f} s, baseline {cb:.3f} s, ratio {ca / cb:.2f}x")


if __name__ == "__main__":
    main()
