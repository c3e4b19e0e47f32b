"""Channels whose streams are sub-folders of a path and whose documents are files.

A document file is named ``<timestamp>_v<semver>.<ext>``, e.g.
``2017-06-20_v0.0.1.py`` or ``2016-07-11T1209Z_v0.1.0.py``. Files not of that
form are skipped with a logged warning when a folder is scanned, and are an
error when parsed directly.
"""
from __future__ import annotations

import logging
import os
import re
from datetime import datetime

import semantic_version

from .errors import FileNameError
from .memory_channel import ReadOnlyMemoryChannel
from .stream import StreamId, StreamInstance
from .utils import MIN_DATE, UTC

log = logging.getLogger(__name__)

_TS_FORMATS = (
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{4}Z?$"), "%Y-%m-%dT%H%M"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{6}Z?$"), "%Y-%m-%dT%H%M%S"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z?$"), "%Y-%m-%dT%H:%M"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z?$"), "%Y-%m-%dT%H:%M:%S"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,6}Z?$"), "%Y-%m-%dT%H:%M:%S.%f"),
    (re.compile(r"^\d{4}_\d{2}_\d{2}$"), "%Y_%m_%d"),
    (re.compile(r"^\d{8}$"), "%Y%m%d"),
)


def parse_file_timestamp(text: str) -> datetime:
    for pattern, fmt in _TS_FORMATS:
        if pattern.match(text):
            try:
                return datetime.strptime(text.rstrip("Z"), fmt.rstrip("Z")).replace(tzinfo=UTC)
            except ValueError as e:
                raise FileNameError(f"{text!r} is not a valid date-time: {e}") from None
    raise FileNameError(f"cannot read a timestamp from {text!r} (expected e.g. 2017-06-20 or 2016-07-11T1209Z)")


class FileDateTimeVersion:
    """Timestamp and semantic version parsed from ``<timestamp>_v<semver>.<ext>``."""

    def __init__(self, filename: str, split_char: str = "_"):
        self.long_filename = filename
        base = os.path.basename(filename)
        self.filename_no_extension, self.extension = os.path.splitext(base)
        head, sep, tail = self.filename_no_extension.rpartition(split_char + "v")
        if not sep or not head:
            raise FileNameError(f"file name {base!r} is not of the form <timestamp>{split_char}v<version>.<ext>")
        try:
            self.timestamp = parse_file_timestamp(head)
        except FileNameError as e:
            raise FileNameError(f"file name {base!r}: {e}") from None
        try:
            self.version = semantic_version.Version.coerce(tail)
        except ValueError:
            raise FileNameError(f"file name {base!r}: {tail!r} is not a semantic version") from None

    @property
    def is_python(self) -> bool:
        return self.extension == ".py"

    def __repr__(self):
        return (f"FileDateTimeVersion(filename={self.long_filename!r}, timestamp={self.timestamp.isoformat()}, "
                f"version={self.version})")


class FileChannel(ReadOnlyMemoryChannel):
    """Streams are the sub-folders of ``path``; documents are the dated, versioned files in them.

    ``data_loader(short_path, file_info)`` turns a file into a value; the
    default is the parsed ``FileDateTimeVersion`` itself. ``update_state(t)``
    loads every file stamped at or before ``t``.
    """

    path = ""

    def __init__(self, channel_id, path, up_to_timestamp=MIN_DATE):
        self.path = os.path.abspath(path)
        if not os.path.isdir(self.path):
            raise FileNotFoundError(f"channel {channel_id!r}: folder {self.path!r} does not exist")
        self.skipped: list[tuple[str, str]] = []  # (file path, reason) of files that were not loaded
        super().__init__(channel_id, up_to_timestamp)

    @staticmethod
    def walk(directory, level=1):
        """``os.walk`` limited to ``level`` levels below ``directory``."""
        directory = directory.rstrip(os.path.sep)
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"folder {directory!r} does not exist")
        base_depth = directory.count(os.path.sep)
        for root, dirs, files in os.walk(directory):
            yield root, dirs, files
            if root.count(os.path.sep) >= base_depth + level:
                del dirs[:]

    def file_filter(self, sorted_file_names):
        for name in sorted_file_names:
            if name.startswith(".") or name.startswith("__"):
                continue
            yield name

    def data_loader(self, short_path, file_info):
        return file_info

    def _parsed_files(self, folder):
        out = []
        for name in self.file_filter(sorted(os.listdir(folder))):
            full = os.path.join(folder, name)
            if not os.path.isfile(full):
                continue
            try:
                out.append(FileDateTimeVersion(full))
            except FileNameError as e:
                log.warning("channel %s: skipping %s: %s", self.channel_id, full, e)
                self.skipped.append((full, str(e)))
        out.sort(key=lambda info: (info.timestamp, info.version))
        return out

    def update_streams(self, up_to_timestamp):
        self.skipped = []
        for root, dirs, _files in self.walk(self.path, level=1):
            if root != self.path:
                continue
            for d in sorted(dirs):
                if d.startswith(".") or d.startswith("__"):
                    continue
                folder = os.path.join(root, d)
                stream_id = StreamId(d)
                instances = []
                for info in self._parsed_files(folder):
                    if info.timestamp <= up_to_timestamp:
                        instances.append(StreamInstance._make((info.timestamp, self.data_loader(d, info))))
                self._add_instances(stream_id, self._dedupe(instances), replace=True)

    @staticmethod
    def _dedupe(instances):
        """Several files may share a timestamp (different versions); keep the last of each timestamp."""
        by_ts = {}
        for inst in instances:
            by_ts[inst.timestamp] = inst
        return list(by_ts.values())
