"""App start to usable window on the demo store (DESIGN §7 target: ≤ 1.5 s).

Each measurement is a fresh process (imports included), timed from process
start until the main window is shown with the store's channels in the tree.
Baseline, in the same run: a fresh process that imports PySide6 + pyqtgraph
and shows an empty QMainWindow — the floor no Qt app can beat.

    python bench/bench_app_start.py [STORE]    (default: builds the demo store in a temp folder once)
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
w.managerChanged.connect(ready)
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


def run_child(code: str, *args) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=300)
    for line in out.stdout.splitlines():
        if line.startswith("READY"):
            return float(line.split()[1])
    raise RuntimeError(f"child did not report: {out.stdout[-500:]} {out.stderr[-2000:]}")


def main():
    if len(sys.argv) > 1:
        store = sys.argv[1]
    else:
        folder = tempfile.mkdtemp(prefix="hsgui-bench-start-")
        store = os.path.join(folder, "demo.sqlite")
        from hsgui.connection import build_demo_file
        print("building the demo store once …", flush=True)
        build_demo_file(store)
    runs = 5
    app_times = [run_child(CHILD_APP, store) for _ in range(runs)]
    base_times = [run_child(CHILD_BASELINE) for _ in range(runs)]
    a, b = statistics.median(app_times), statistics.median(base_times)
    print(f"app start to usable window (demo store), median of {runs}: {a:.3f} s  (all: "
          f"{', '.join(f'{t:.2f}' for t in app_times)})")
    print(f"baseline: empty Qt window with PySide6+pyqtgraph imported, median of {runs}: {b:.3f} s")
    print(f"ratio app / baseline: {a / b:.2f}x;  target <= 1.5 s: {'MET' if a <= 1.5 else 'NOT MET'}")


if __name__ == "__main__":
    main()
