"""A file channel whose documents are Python modules.

Each document's value is ``(version, importer)``; calling ``importer()`` loads
the module from its file. Modules are loaded under a private, unique name and
are not left in ``sys.modules``, so two versions of one tool (or two tools with
the same file name) never collide and user modules of the same name are
untouched.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import threading

from .errors import ToolInitialisationError
from .file_channel import FileChannel
from .utils import MIN_DATE

_import_lock = threading.RLock()
_module_cache: dict = {}  # (path, mtime_ns) -> module


def import_module_file(path: str, import_hook=None, sys_path=()):
    """Import the Python file at ``path`` without registering it in ``sys.modules``.

    ``import_hook`` is an optional context manager factory active while the
    module executes (used to provide ``hyperstream.*`` names to plugin files).
    ``sys_path`` folders are put in front of ``sys.path`` while it executes, so
    a plugin's own helpers (``from plugins.sphere.utils import ...``) resolve as
    they do under HyperStream. Errors are raised as ToolInitialisationError
    naming the file.
    """
    path = os.path.abspath(path)
    try:
        key = (path, os.stat(path).st_mtime_ns)
    except OSError as e:
        raise ToolInitialisationError(f"cannot read module file {path}: {e}") from e
    with _import_lock:
        module = _module_cache.get(key)
        if module is not None:
            return module
        import hashlib   # here: it loads OpenSSL, which opening a store (a tool folder listed, no tool loaded) never needs
        digest = hashlib.sha1(path.encode()).hexdigest()[:12]
        name = f"_hs_module_{digest}_{key[1]}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ToolInitialisationError(f"cannot import {path}: not a Python module file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # needed while executing (dataclasses, typing look it up)
        added = [p for p in sys_path if p not in sys.path]
        sys.path[:0] = added
        try:
            with (import_hook() if import_hook is not None else contextlib.nullcontext()):
                spec.loader.exec_module(module)
        except Exception as e:
            raise ToolInitialisationError(f"error importing {path}: {type(e).__name__}: {e}") from e
        finally:
            sys.modules.pop(name, None)
            for p in added:
                if p in sys.path:
                    sys.path.remove(p)
        _module_cache[key] = module
        return module


class ModuleChannel(FileChannel):
    """Streams are folders of versioned Python module files."""

    versions = None

    #: optional context-manager factory used while importing module files
    import_hook = None

    #: folders put on ``sys.path`` while a module file executes (set for plugin channels)
    sys_path: tuple = ()

    def __init__(self, channel_id, path, up_to_timestamp=MIN_DATE):
        self.versions = {}
        super().__init__(channel_id, path, up_to_timestamp)

    def file_filter(self, sorted_file_names):
        for name in super().file_filter(sorted_file_names):
            if name.endswith(".py"):
                yield name

    def data_loader(self, short_path, file_info):
        path = file_info.long_filename

        def importer():
            return import_module_file(path, self.import_hook, self.sys_path)

        self.versions[(short_path, str(file_info.version))] = file_info
        return file_info.version, importer

    def update_state(self, up_to_timestamp):
        self.versions = {}
        super().update_state(up_to_timestamp)
