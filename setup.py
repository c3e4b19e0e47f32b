"""Only the optional C accelerator of channels.stream: everything else is configured in pyproject.toml.

``optional=True``: when the extension cannot be compiled (no compiler, no Python headers) the install still
succeeds and ``channels`` runs its pure-Python code, the same results, slower (``channels.stream.SPEEDUPS``).
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("channels._speedups", ["channels/_speedups.c"], optional=True)])
