"""The optional Python console dock (the ``console`` extra: qtconsole with an in-process IPython kernel)."""
