"""Start-up (issue 25): PySide does not read the source of each module the window imports (its ``__feature__``
scan, see :mod:`hsgui.common.pyside_scan`), and a module that selects a PySide feature still gets it
while the others keep Qt's own names. Each check runs in a fresh process, as a start does."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import hsgui

ROOT = Path(hsgui.__file__).resolve().parent.parent


def _fresh(code: str, tmp_path, *args) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path),
               PYTHONPATH=os.pathsep.join(p for p in (str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH")) if p))
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_window_does_not_read_the_source_of_its_modules(tmp_path):
    # what PySide's scan reads goes through linecache: a source read for it stays there
    shown = _fresh("""
import json, linecache
from PySide6.QtCore import QObject
import hsgui.app
from hsgui.main_window import MainWindow
print(json.dumps(sorted(f for f in linecache.cache if "hsgui" in f or "channels" in f or "pyqtgraph" in f)))
""", tmp_path)
    assert [f for f in shown if not f.endswith("pyside_scan.py")] == []     # (that one is read before it acts)


def test_a_module_that_selects_snake_case_gets_it_and_the_others_keep_qt_names(tmp_path):
    (tmp_path / "snaky.py").write_text(
        "from PySide6.QtWidgets import QWidget\n"
        "from __feature__ import snake_case\n"
        "def titled(text):\n"
        "    w = QWidget()\n"
        "    w.set_window_title(text)\n"
        "    return w.window_title()\n")
    shown = _fresh("""
import json
from hsgui.app import create_application
from hsgui.main_window import MainWindow
import snaky
app = create_application()
w = MainWindow(restore=False)
w.persist = False
w.setWindowTitle("plain")                 # this module selected nothing: Qt's own names
print(json.dumps({"snake": snaky.titled("snake"), "plain": w.windowTitle(),
                  "window_has_snake_name": hasattr(w, "set_window_title")}))
w.close()
""", tmp_path)
    assert shown == {"snake": "snake", "plain": "plain", "window_has_snake_name": False}
