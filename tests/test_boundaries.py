"""Layer boundaries: channels is pure Python (no Qt, no hsgui) and never unpickles.

(a) the import-linter contracts in pyproject.toml pass;
(b) importing channels and every submodule loads no Qt/pyqtgraph/hsgui module;
(c) no file under channels/ imports pickle (or a pickle-based module).
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = ROOT / "channels"

FORBIDDEN_PREFIXES = ("PySide6", "PySide2", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6", "shiboken2", "superqt",
                      "qtpy", "hsgui")
PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "shelve", "jsonpickle"}


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def test_import_linter_contracts_pass():
    # Run import-linter from the interpreter running the tests (no reliance on a console script on PATH).
    code = ("import sys; from importlinter.cli import lint_imports_command; "
            "lint_imports_command(['--no-cache', '--no-logo', 'pyproject.toml'])")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, f"lint-imports failed:\n{proc.stdout}\n{proc.stderr}"
    assert "BROKEN" not in proc.stdout


def test_importing_channels_loads_no_gui_module():
    code = r"""
import importlib, json, pkgutil, sys
import channels
names, errors = [], {}
for info in pkgutil.walk_packages(channels.__path__, "channels."):
    try:
        importlib.import_module(info.name)
        names.append(info.name)
    except Exception as e:
        errors[info.name] = f"{type(e).__name__}: {e}"
bad = sorted(m for m in sys.modules if m.split(".")[0] in %r)
print(json.dumps({"imported": names, "errors": errors, "bad": bad}))
""" % (FORBIDDEN_PREFIXES,)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["errors"] == {}, f"channels submodules fail to import: {report['errors']}"
    for expected in ("channels.time_interval", "channels.stream", "channels.base_channel", "channels.memory_channel",
                     "channels.file_channel", "channels.module_channel", "channels.tool_channel", "channels.lod"):
        assert expected in report["imported"]
    assert report["bad"] == [], f"importing channels loaded GUI modules: {report['bad']}"


def _pickle_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"{path.name}:{node.lineno}: import {a.name}" for a in node.names
                      if a.name.split(".")[0] in PICKLE_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PICKLE_MODULES:
            found.append(f"{path.name}:{node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            fn = node.func
            fname = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            if fname in ("__import__", "import_module") and str(node.args[0].value).split(".")[0] in PICKLE_MODULES:
                found.append(f"{path.name}:{node.lineno}: {fname}({node.args[0].value!r})")
    return found


def test_no_pickle_in_channels():
    files = sorted(CHANNELS.rglob("*.py"))
    assert files, "no source files found under channels/"
    found = [hit for f in files for hit in _pickle_imports(f)]
    assert found == [], f"channels must never (un)pickle: {found}"


def test_pickle_detector_detects(tmp_path):
    # the check above must be able to fail
    bad = tmp_path / "bad.py"
    bad.write_text("import os, pickle\nfrom cPickle import loads\nimportlib.import_module('dill')\n")
    assert len(_pickle_imports(bad)) == 3
    good = tmp_path / "good.py"
    good.write_text("import json\n# pickle is mentioned only in a comment\nx = 'pickle'\n")
    assert _pickle_imports(good) == []
