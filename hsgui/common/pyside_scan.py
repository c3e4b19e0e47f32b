"""PySide without its per-module source scan, for a quick start (issue 25): :mod:`hsgui.app` calls
:func:`skip_pyside_source_scan` before it imports any module of the window.

For its opt-in ``from __feature__ import snake_case, true_property`` PySide hooks ``__import__`` and, the first
time it sees a module, reads the module's whole source (``inspect.getsource``) to look for the word "PySide6":
found, the module gets the default selection (no feature); not found, it is "ignored" and keeps whatever
selection the code that called it had. That is one more read and decode of each of the ~480 modules the window
imports (its own, pyqtgraph's, the standard library's): about 90 ms of CPU of a start on the demo store
(bench/bench_app_start.py, 2 cores; ~25 ms of it pyqtgraph's), more wall time on a busy disk.
:func:`skip_pyside_source_scan` gives every module the default selection without the read: the same for code
that names PySide6 and selects no feature (nothing here selects one), and more right for code that reaches Qt
without naming it (pyqtgraph's modules import Qt through ``pyqtgraph.Qt``; a ``python -c`` script has no source
to read): "ignored", such code ran with whatever feature its caller had selected. A module that selects one
still gets it, as its import of ``__feature__`` records its choice itself.
"""
from __future__ import annotations

import sys

import PySide6.QtCore  # noqa: F401 - loads shiboken's support modules, the scan among them


def _uses_pyside(module) -> bool:
    """Every module may call Qt: PySide's default feature selection (none) applies in each."""
    return True


def skip_pyside_source_scan() -> bool:
    """Stop PySide reading the source of each module imported from now on. Returns whether PySide had the scan
    to skip (a PySide without it is left as it is)."""
    feature = sys.modules.get("shibokensupport.feature")
    if not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    feature._mod_uses_pyside = _uses_pyside
    return True
