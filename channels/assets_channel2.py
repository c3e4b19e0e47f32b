"""HyperStream's name for the file-backed assets channel; see :mod:`channels.assets_file_channel`."""
from .assets_file_channel import AssetsFileChannel

__all__ = ["AssetsFileChannel"]
