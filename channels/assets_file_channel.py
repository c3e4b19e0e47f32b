"""Assets kept as JSON files (HyperStream's ``assets_channel2``): one folder per stream.

Layout under the channel's path::

    <stream folder>/<YYYY-MM-DDTHHMMSS.fffZ>.json     one file per version

HyperStream's file names are read too (``2017-06-12T10:05:59.000Z.json``,
``2017-06-12T10-05-59.000Z.json``, ``2017-07-06.json``; see :func:`parse_file_name`);
files whose name or content cannot be read are listed in ``skipped``.

The folder name is the stream name, plus ``@k=v&k2=v2`` for meta-data (sorted,
percent-quoted). File content is the value in the store codec's tagged JSON,
so datetimes and TimeIntervals round-trip exactly. Files are written to a
temporary name and renamed, so a crash never leaves a half-written version.
"""
from __future__ import annotations

import os
import re
import tempfile
from datetime import datetime, timedelta
from urllib.parse import quote, unquote

from .assets_channel import as_asset_instances, asset_interval
from .errors import StreamIdError
from .memory_channel import MemoryChannel
from .stores.codec import decode_json, encode_json
from .stream import Stream, StreamId, StreamInstance, as_interval, get_stream_id
from .time_interval import TimeIntervals
from .utils import UTC

_TS_FORMAT = "%Y-%m-%dT%H%M%S"


def stream_folder_name(stream_id: StreamId) -> str:
    name = quote(stream_id.name, safe="")
    if not stream_id.meta_data:
        return name
    return name + "@" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(stream_id.meta_data))


def stream_id_from_folder(folder: str) -> StreamId:
    name, _, meta = folder.partition("@")
    pairs = []
    if meta:
        for item in meta.split("&"):
            k, sep, v = item.partition("=")
            if not sep:
                raise StreamIdError(f"asset folder {folder!r}: meta-data item {item!r} is not key=value")
            pairs.append((unquote(k), unquote(v)))
    return StreamId(unquote(name), pairs)


def file_name(ts: datetime) -> str:
    return ts.strftime(_TS_FORMAT) + f".{ts.microsecond // 1000:03d}Z.json"


_HS_NAME = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2})[:\-]?(\d{2})(?:[:\-]?(\d{2})(?:\.(\d{1,6}))?)?)?"
                      r"(Z|[+-]\d{2}:?\d{2})?$")


def parse_file_name(name: str) -> datetime:
    """The timestamp of a version file: ours (``2017-06-12T100559.000Z.json``) and every form HyperStream
    writes or reads — ``2017-06-12T10:05:59.000Z.json`` (its writer), ``2017-06-12T10-05-59.000Z.json``,
    ``2017-07-06.json``, ``20170706.json``, with or without ``Z`` / an offset. No offset means UTC."""
    if not name.endswith(".json"):
        raise ValueError(f"asset file {name!r} is not a .json file")
    m = _HS_NAME.match(name[:-len(".json")])
    if not m:
        raise ValueError(f"asset file {name!r}: cannot read a date-time from its name (expected e.g. "
                         f"2017-06-12T10-05-59.000Z.json or 2017-07-06.json)")
    y, mo, d, hh, mm, ss, frac, tz = m.groups()
    try:
        ts = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0),
                      int((frac or "0").ljust(6, "0")), tzinfo=UTC)
    except ValueError as e:
        raise ValueError(f"asset file {name!r}: {e}") from None
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        ts -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return ts.replace(microsecond=ts.microsecond - ts.microsecond % 1000)


def _is_version_file(name: str) -> bool:
    return name.endswith(".json") and not name.startswith(".")


class AssetsFileChannel(MemoryChannel):
    """Writable asset channel persisted as JSON files; served from memory once loaded."""

    holds_assets = True

    def __init__(self, channel_id, path):
        super().__init__(channel_id)
        self.path = os.path.abspath(path)
        os.makedirs(self.path, exist_ok=True)
        self.skipped: list[tuple[str, str]] = []
        self.refresh()

    def refresh(self) -> None:
        """(Re)load every stream folder from disk."""
        self.skipped = []
        self.streams.clear()
        self.data.clear()
        for folder in sorted(os.listdir(self.path)):
            full = os.path.join(self.path, folder)
            if not os.path.isdir(full) or folder.startswith("."):
                continue
            try:
                sid = stream_id_from_folder(folder)
            except StreamIdError as e:
                self.skipped.append((full, str(e)))
                continue
            by_time = {}
            for name in sorted(os.listdir(full)):
                if not _is_version_file(name):
                    continue
                try:
                    ts = parse_file_name(name)
                    with open(os.path.join(full, name), encoding="utf-8") as f:
                        value = decode_json(f.read())
                except (ValueError, OSError) as e:
                    self.skipped.append((os.path.join(full, name), str(e)))
                    continue
                if ts in by_time and by_time[ts] != value:
                    self.skipped.append((os.path.join(full, name), f"another file of {folder!r} has the time "
                                                                    f"{ts.isoformat()} with a different value"))
                    continue
                by_time[ts] = value
            instances = [StreamInstance._make(item) for item in sorted(by_time.items(), key=lambda kv: kv[0])]
            stream = MemoryChannel.create_stream(self, sid)
            if instances:
                self._write(stream, instances)
                stream.set_calculated_intervals_silently(asset_interval(instances, TimeIntervals()))

    def _folder(self, stream_id) -> str:
        return os.path.join(self.path, stream_folder_name(stream_id))

    def create_stream(self, stream_id, sandbox=None) -> Stream:
        stream = super().create_stream(stream_id, sandbox)
        os.makedirs(self._folder(stream.stream_id), exist_ok=True)
        return stream

    def _persist(self, stream, instances) -> None:
        """Validate against what is stored, write the new files atomically, then update memory."""
        with self._lock:
            series = self._series(stream)
            rows = series.prepare(stream.stream_id, instances)
            folder = self._folder(stream.stream_id)
            os.makedirs(folder, exist_ok=True)
            staged = []
            try:
                for _ms, inst in rows:
                    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
                    with os.fdopen(fd, "w", encoding="utf-8") as f:
                        f.write(encode_json(inst.value))
                    staged.append((tmp, os.path.join(folder, file_name(inst.timestamp))))
            except BaseException:
                for tmp, _ in staged:
                    os.unlink(tmp)
                raise
            for tmp, final in staged:
                os.replace(tmp, final)
            series.apply(rows)

    def get_stream_writer(self, stream):
        def writer(document_collection):
            self._persist(stream, list(document_collection))
        return writer

    def write_chunk(self, stream, instances, calculated_intervals=None, *, add_intervals=None):
        add, remove = self._interval_change(stream, calculated_intervals, add_intervals)
        self._persist(stream, list(instances))
        self._apply_interval_change(stream, add, remove)

    def write_to_stream(self, stream_id, data, sandbox=None):
        stream = self.get_or_create_stream(get_stream_id(stream_id))
        instances = as_asset_instances(data)
        self.write_chunk(stream, instances, asset_interval(instances, stream.calculated_intervals))
        return stream

    def _delete_files(self, stream_id, keep=lambda ts: False) -> None:
        folder = self._folder(stream_id)
        if not os.path.isdir(folder):
            return
        for name in os.listdir(folder):
            if not _is_version_file(name):
                continue
            try:
                ts = parse_file_name(name)
            except ValueError:
                continue
            if not keep(ts):
                os.unlink(os.path.join(folder, name))

    def purge_stream(self, stream_id, remove_definition=False, sandbox=None):
        sid = get_stream_id(stream_id)
        self[sid]  # raises StreamNotFoundError naming the stream
        self._delete_files(sid)
        if remove_definition:
            try:
                os.rmdir(self._folder(sid))
            except OSError:
                pass
        super().purge_stream(sid, remove_definition, sandbox)

    def purge_interval(self, stream_id, time_interval):
        time_interval = as_interval(time_interval)
        sid = get_stream_id(stream_id)
        self[sid]
        self._delete_files(sid, keep=lambda ts: ts not in time_interval)
        return super().purge_interval(sid, time_interval)
