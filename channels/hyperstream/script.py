"""Run a HyperStream 0.3.8 script unchanged on this layer.

``run_script(path, argv)`` runs ``path`` as ``__main__`` with ``sys.argv = [path, *argv]`` while
``import hyperstream`` resolves to :mod:`channels.hyperstream` — even when a real HyperStream is
installed (the caller asked for this layer) — and only for the script: the stand-in modules, the
``HyperStream`` singleton and ``sys.argv`` are restored afterwards, whatever the script did.
"""
from __future__ import annotations

import os
import runpy
import sys

from .compat import hyperstream_names


class ScriptNotFoundError(FileNotFoundError):
    """The script to run does not exist (or is not a file)."""


def run_script(path, argv=()) -> dict:
    """Run the HyperStream script ``path`` with arguments ``argv``; returns the script's globals."""
    from .session import HyperStream
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ScriptNotFoundError(f"HyperStream script {path!r} does not exist"
                                  + ("" if not os.path.exists(path) else " as a file"))
    saved_argv, saved_path0 = sys.argv, list(sys.path)
    sys.argv = [path, *map(str, argv)]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    HyperStream.reset()
    try:
        with hyperstream_names(force=True):
            return runpy.run_path(path, run_name="__main__")
    finally:
        HyperStream.reset()
        sys.argv = saved_argv
        sys.path[:] = saved_path0


__all__ = ["run_script", "ScriptNotFoundError"]
