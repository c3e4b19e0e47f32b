"""Engine settings given on the command line (``--workers``, ``--scheduler``); they win over the config's.

A module of its own: the command line sets them before the window exists, without importing the Workflows
dock (built when first shown)."""
from __future__ import annotations

ENGINE_DEFAULTS: dict = {}

__all__ = ["ENGINE_DEFAULTS"]
