"""Run Tool's stream picker on 150,000 streams (issue 25): open it and type 10 keystrokes of a filter.

Figures, for the picker before (the version of ``hsgui/compute/stream_inputs.py`` before the list model, read
from git: one QStandardItem per stream and a Python ``filterAcceptsRow`` per row) and after (rows on demand over
each channel's StreamIndex), in the same process on the same streams:

- open: seconds until every stream can be searched (the count line says ``N of N streams``), and the largest gap
  between ticks of a 10 ms timer meanwhile (target: ≤ 50 ms);
- typing: each keystroke's time until the list has repainted, worst and median (target ≤ 50 ms worst), and the
  largest timer gap while typing;
- baseline: the largest gap of the idle timer (same run), and the ratio before / after.

Run: ``QT_QPA_PLATFORM=offscreen python bench/bench_stream_picker.py [--n 150000] [--skip-before] [--no-gc-policy]``
"""
from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir))

from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from hsgui.app import create_application  # noqa: E402

from bench_gui_responsiveness import deployment_manager  # noqa: E402
from gui_meter import GapMeter, spin_until  # noqa: E402
from hsgui.common import gc_policy  # noqa: E402
from hsgui.compute import stream_inputs  # noqa: E402

TYPED = "house=42 r"      # 10 keystrokes: a key=value word, then a second word


def old_picker_class():
    """``StreamPickerDialog`` as it was before the list model (the parent of the commit that added it)."""
    root = os.path.join(HERE, os.pardir)
    rel = "hsgui/compute/stream_inputs.py"
    added = subprocess.run(["git", "-C", root, "log", "--format=%H", "-S", "class StreamListModel", "--", rel],
                           capture_output=True, text=True, check=True).stdout.split()
    if not added:
        raise SystemExit("cannot find the commit that added StreamListModel")
    source = subprocess.run(["git", "-C", root, "show", f"{added[-1]}^:{rel}"],
                            capture_output=True, text=True, check=True).stdout
    spec = importlib.util.spec_from_loader("hsgui.compute._picker_before", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "hsgui.compute"
    exec(compile(source, "stream_inputs(before).py", "exec"), module.__dict__)   # noqa: S102 - our own file
    return module.StreamPickerDialog


def measure(cls, manager, total: int) -> dict:
    app = QApplication.instance()
    meter = GapMeter()
    meter.start()
    t0 = time.perf_counter()
    picker = cls(manager)
    picker.show()
    picker.filter_edit.setFocus()
    spin_until(lambda: picker.count_label.text() == f"{total} of {total} streams", timeout=600)
    opened = time.perf_counter() - t0
    open_gap, _ = meter.stop()
    meter.start()
    keys = []
    for ch in TYPED:
        t = time.perf_counter()
        QTest.keyClicks(picker.filter_edit, ch)
        picker.view.viewport().repaint()        # what the next paint event does, at once
        app.processEvents()
        keys.append(time.perf_counter() - t)
    type_gap, _ = meter.stop()
    shown = picker.proxy.rowCount()
    picker.close()
    picker.deleteLater()
    app.processEvents()
    return {"open_s": opened, "open_gap": open_gap, "worst_key": max(keys), "median_key": statistics.median(keys),
            "type_gap": type_gap, "shown": shown}


def main():
    smoke = "--smoke" in sys.argv   # tiny sizes, the new picker only, no timing claims (tests/test_bench_smoke.py)
    n = 2_000 if smoke else int(sys.argv[sys.argv.index("--n") + 1]) if "--n" in sys.argv else 150_000
    create_application([])   # as the app makes it (Qt's raster thread pool off: see hsgui.app)
    if "--no-gc-policy" not in sys.argv:
        gc_policy.install()   # as hsgui.app does
    manager = deployment_manager(n)
    total = sum(len(ch.streams) for ch in manager)
    meter = GapMeter()
    idle_gap, _ = meter.run(lambda: True, min_s=1.0)
    print(f"(gc policy {'installed' if gc_policy.installed() else 'NOT installed'}) "
          f"{total:,} streams; load average {os.getloadavg()[0]:.2f}; idle 10 ms timer: largest gap "
          f"{idle_gap * 1000:.1f} ms")
    rows = {}
    if "--skip-before" not in sys.argv and not smoke:
        rows["before"] = measure(old_picker_class(), manager, total)
    rows["after"] = measure(stream_inputs.StreamPickerDialog, manager, total)
    rows["after, 2nd run"] = measure(stream_inputs.StreamPickerDialog, manager, total)
    print(f"{'picker':<14}{'open s':>8}{'open gap ms':>13}{'worst key ms':>14}{'median key ms':>15}"
          f"{'typing gap ms':>15}{'matches':>9}")
    for name, r in rows.items():
        print(f"{name:<14}{r['open_s']:>8.2f}{r['open_gap'] * 1000:>13.1f}{r['worst_key'] * 1000:>14.1f}"
              f"{r['median_key'] * 1000:>15.1f}{r['type_gap'] * 1000:>15.1f}{r['shown']:>9,}")
    if "before" in rows:
        b, a = rows["before"], rows["after"]
        print(f"before / after: open gap {b['open_gap'] / a['open_gap']:.1f}x, worst keystroke "
              f"{b['worst_key'] / a['worst_key']:.1f}x, typing gap {b['type_gap'] / a['type_gap']:.1f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
