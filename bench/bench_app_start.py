"""App start to usable window on the demo store (DESIGN §7 target: ≤ 1.5 s).

Each measurement is a fresh process (imports included), timed from process
start until the main window is shown with the store's channels in the tree.
Baseline, in the same run: a fresh process that imports PySide6 + pyqtgraph
and shows an empty QMainWindow — the floor no Qt app can beat.

    python bench/bench_app_start.py [STORE]    (default: builds the demo store in a temp folder once)
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
t0 = time.perf_counter()
from PySide6.QtCore import QTimer
from hsgui.app import create_application
from hsgui.main_window import MainWindow
app = create_application()
w = MainWindow(restore=False)
w.persist = False
w.show()
def ready(manager):
    app.processEvents()
    print(f"READY {time.perf_counter() - t0:.3f} channels={len(manager.channels)}", flush=True)
    QTimer.singleShot(0, w.close)
w.state.events.manager.connect(lambda m: m is not None and ready(m))
w.open_target(sys.argv[1])
app.exec()
"""

CHILD_BASELINE = r"""
import time
t0 = time.perf_counter()
import pyqtgraph
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
w = QMainWindow(); w.resize(1400, 900); w.show(); app.processEvents()
print(f"READY {time.perf_counter() - t0:.3f}", flush=True)
"""


ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
sys.path.insert(0, ROOT)


def run_child(code: str, *args) -> float:
    # the children import the app from this checkout, whatever is installed
    path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=path)
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=300)
    for line in out.stdout.splitlines():
        if line.startswith("READY"):
            return float(line.split()[1])
    raise RuntimeError(f"child did not report: {out.stdout[-500:]} {out.stderr[-2000:]}")


def main():
    smoke = "--smoke" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--smoke"]
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
    app_times = [run_child(CHILD_APP, store) for _ in range(runs)]
    base_times = [run_child(CHILD_BASELINE) for _ in range(runs)]
    a, b = statistics.median(app_times), statistics.median(base_times)
    print(f"app start to usable window (demo store), median of {runs}: {a:.3f} s  (all: "
          f"{', '.join(f'{t:.2f}' for t in app_times)})")
    print(f"baseline: empty Qt window with PySide6+pyqtgraph imported, median of {runs}: {b:.3f} s")
    print(f"ratio app / baseline: {a / b:.2f}x;  target <= 1.5 s: {'MET' if a <= 1.5 else 'NOT MET'}")


if __name__ == "__main__":
    main()
