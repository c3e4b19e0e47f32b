"""A package's public names imported when first asked for (PEP 562), so importing the package stays cheap.

``from channels import ChannelManager`` and ``channels.ChannelManager`` give the object they always gave; only
the moment its module is imported moves, from ``import channels`` to the first use of a name it holds. The app
imports ``channels.utils`` on its start path: that no longer loads every channel class, the tool machinery, the
workflow engines and HyperStream's API with it (start-up on a cold bytecode cache, issue 25).
"""
from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping


def lazy_attributes(package: str, exports: Mapping[str, tuple[str, ...]]) -> tuple[Callable, Callable, list[str]]:
    """``(__getattr__, __dir__, names)`` for ``package``, whose public names are ``exports``: relative module ->
    the names taken from it (``{".stream": ("Stream", "StreamId")}``). A sub-module not named there is imported
    on attribute access too (``import channels; channels.workflows``), as when the package imported it eagerly.
    Call it from the package's ``__init__`` (it sets the class of the package's module, see ``Package``)."""
    where = {name: module for module, names in exports.items() for name in names}
    if len(where) != sum(len(names) for names in exports.values()):
        raise ValueError(f"{package}: a name is exported from two modules")

    def __getattr__(name: str):
        module = where.get(name)
        if module is None:
            if name.startswith("__"):
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
            try:
                return importlib.import_module(f"{package}.{name}")   # the import binds it on the package
            except ModuleNotFoundError as e:
                if e.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)          # the next look-up is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    class Package(types.ModuleType):
        def __setattr__(self, name, value):
            # Python binds a sub-module on its package once imported; a public name that is also a sub-module's
            # name (``channels.workflows.recompute``: the function, of module ``recompute``) keeps naming what
            # the package exports, as when the package imported it eagerly
            if name in where and isinstance(value, types.ModuleType) and value.__name__ == f"{package}.{name}":
                return
            super().__setattr__(name, value)

    sys.modules[package].__class__ = Package
    return __getattr__, __dir__, list(where)
