"""HyperStream Studio: the Qt application over the ``channels`` library."""
__version__ = "0.1.0"
