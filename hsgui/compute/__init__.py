"""Compute: run tools and remove their results — the tools dock, the Run Tool dialog with its
parameter form and stream pickers, compute-missing, the run history and the purge dialog."""
