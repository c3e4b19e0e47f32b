"""The names plugin code may import while it loads (plugin tool and channel files, stored workflow code).

Code written for HyperStream imports ``hyperstream.*``. The stand-in that provides those names
(:func:`channels.hyperstream.compat.hyperstream_names`) offers the channel classes and the channel manager, so
it sits above the modules that load plugin code and they cannot import it. ``import channels`` — which Python
runs before any ``channels.*`` module, whichever one is imported first — installs it here with
:func:`install`, and every loader of plugin code runs the code inside :func:`plugin_names`.
"""
from __future__ import annotations

from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Callable

_factory: Callable[[], AbstractContextManager] | None = None


def install(factory: Callable[[], AbstractContextManager]) -> None:
    """Make ``factory()`` the context plugin code runs in (``channels/__init__.py`` installs the stand-in)."""
    global _factory
    _factory = factory


@contextmanager
def plugin_names():
    """While the block runs, plugin code can import the names :func:`install` provided."""
    with (_factory() if _factory is not None else nullcontext()):
        yield


__all__ = ["install", "plugin_names"]
