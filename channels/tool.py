"""Deprecated import path: an earlier release told plugin authors to ``from channels.tool import Tool``.

Use :mod:`channels.tools` (``from channels.tools import Tool``). This module re-exports its names and
warns once on import.
"""
import warnings

from .tools import *  # noqa: F401,F403
from .tools import __all__  # noqa: F401

warnings.warn("channels.tool is deprecated: import from channels.tools instead (from channels.tools import Tool)",
              DeprecationWarning, stacklevel=2)
