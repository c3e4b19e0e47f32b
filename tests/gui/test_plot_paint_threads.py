"""A plot pane paints on the GUI thread alone: Qt's raster engine, left to itself, hands the spans of a large fill
(a pane's grid lines: ~600 pieces a paint) to its own thread pool and waits for them, and on a busy machine each
of those waits is a scheduling delay (2-4 ms paints became 20-40 ms event-loop gaps). Run in a fresh process:
Qt decides once, when it first wants that pool, and this test process has painted before."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, sys.argv[1])
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.pop("QT_NO_GUI_THREADPOOL", None)
    import numpy as np
    from hsgui.app import create_application
    from hsgui.common.background import JobRunner
    from hsgui.plotting.plot_area import PlotArea
    app = create_application([])
    before = {t for t in os.listdir("/proc/self/task")}
    area = PlotArea(JobRunner(max_threads=1), lambda c, s: None)
    area.resize(1200, 500)
    area.show()
    pane = area.panes[0]
    pane.plot_item.plot(np.arange(2000) + 1.7e9, np.sin(np.arange(2000) / 50.0))
    app.processEvents()
    for _ in range(5):
        pane.plot_widget.viewport().repaint()
    new = [t for t in os.listdir("/proc/self/task") if t not in before]
    print(sum(open(f"/proc/self/task/{t}/comm").read().strip() == "Thread (pooled)" for t in new))
    sys.stdout.flush()
    os._exit(0)
""")


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through /proc")
def test_painting_a_pane_starts_no_painting_threads():
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT)], capture_output=True, text=True, timeout=120,
                         env={k: v for k, v in os.environ.items() if k != "QT_NO_GUI_THREADPOOL"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "0", "Qt painted with helper threads:\n" + out.stdout
