"""Start-up (issue 25): no full garbage collection while the window's modules load (``gc_policy.hold_during_start``,
from ``hsgui.app``); making the application ends the hold with the collector as it was, what the start loaded
frozen; a script that never makes the application gets full collections back after ``START_LIMIT_S``. Each
check runs in a fresh process, as a start does."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import hsgui

ROOT = Path(hsgui.__file__).resolve().parent.parent


def _fresh(code: str, tmp_path) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path),
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_loading_the_window_makes_no_full_collection_and_making_the_app_ends_the_hold(tmp_path):
    shown = _fresh("""
import gc, json
before = gc.get_threshold()
full = []
gc.callbacks.append(lambda phase, info: phase == "stop" and info["generation"] == 2 and full.append(1))
from PySide6.QtCore import QObject
import hsgui.app
from hsgui.main_window import MainWindow
while_loading = len(full)
frozen_before = gc.get_freeze_count()
app = hsgui.app.create_application()
print(json.dumps({"full_while_loading": while_loading, "restored": gc.get_threshold() == before,
                  "frozen": gc.get_freeze_count() > frozen_before + 30_000}))
""", tmp_path)
    assert shown == {"full_while_loading": 0, "restored": True, "frozen": True}


def test_a_script_that_never_makes_the_app_gets_full_collections_back(tmp_path):
    shown = _fresh("""
import gc, json, time
before = gc.get_threshold()
from hsgui.common import gc_policy
gc_policy.START_LIMIT_S = 0.2
import hsgui.app
held = gc.get_threshold()
time.sleep(0.3)
junk = [[i] for i in range(50_000)]     # enough allocations for the collector to run (and see the time)
print(json.dumps({"held": held[2] > 10 ** 9, "restored": gc.get_threshold() == before}))
""", tmp_path)
    assert shown == {"held": True, "restored": True}
