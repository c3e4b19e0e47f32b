"""Built-in tool: read a stream from a CSV file."""
from __future__ import annotations

import csv
import os
import threading
from bisect import bisect_right
from datetime import datetime
from typing import Optional

import pytz

from channels.errors import ToolExecutionError, ToolParameterError
from channels.stream import StreamInstance
from channels.tools import Tool, check_input_stream_count
from channels.utils import ensure_utc, from_ms, to_ms


def _cell(text: str):
    t = text.strip()
    if t == "":
        return None
    try:
        return float(t)
    except ValueError:
        return t


class CsvReader(Tool):
    """Reads timestamped rows of a CSV file (with a header row) into a stream; only rows inside the interval.

    The value of a row is the number (or text) in its one value column, or a dict
    ``{column: value}`` when there are several value columns (or ``as_dict`` is set).
    Cells that read as numbers become floats, empty cells None, other cells stay text.

    :param path: The CSV file.
    :param timestamp_column: Name of the column holding the timestamp.
    :param timestamp_format: strptime format of the timestamps; empty for ISO 8601 text or epoch seconds.
    :param time_zone: Time zone of timestamps without an offset (a pytz name such as 'Europe/London').
    :param value_columns: The columns to read as the value (default: every other column).
    :param delimiter: The field separator.
    :param as_dict: Make a dict value even when there is only one value column.
    """

    def __init__(self, path: str, timestamp_column: str = "timestamp", timestamp_format: str = "",
                 time_zone: str = "UTC", value_columns: Optional[list[str]] = None, delimiter: str = ",",
                 as_dict: bool = False):
        super().__init__(path=path, timestamp_column=timestamp_column, timestamp_format=timestamp_format,
                         time_zone=time_zone, value_columns=value_columns, delimiter=delimiter, as_dict=as_dict)
        if not isinstance(path, str) or not path:
            raise ToolParameterError("csv_reader", "path", f"must be a file path, got {path!r}")
        try:
            self._tz = pytz.timezone(time_zone)
        except pytz.UnknownTimeZoneError:
            raise ToolParameterError("csv_reader", "time_zone", f"unknown time zone {time_zone!r}") from None
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            raise ToolParameterError("csv_reader", "delimiter", f"must be one character, got {delimiter!r}")
        self._cache_key = None
        self._rows = ([], [], [])
        self._lock = threading.Lock()

    def _parse_time(self, text: str, where: str) -> datetime:
        t = text.strip()
        try:
            if self.timestamp_format:
                dt = datetime.strptime(t, self.timestamp_format)
            else:
                try:
                    return from_ms(int(round(float(t) * 1000)))
                except ValueError:
                    pass
                dt = datetime.fromisoformat(t[:-1] + "+00:00" if t.endswith(("Z", "z")) else t)
        except ValueError as e:
            raise ToolExecutionError(f"csv_reader: {where}: cannot read timestamp {text!r}: {e}") from None
        if dt.tzinfo is None:
            dt = self._tz.localize(dt) if hasattr(self._tz, "localize") else dt.replace(tzinfo=self._tz)
        return ensure_utc(dt)

    def _load(self):
        path = os.path.abspath(self.path)
        try:
            st = os.stat(path)
        except OSError as e:
            raise ToolExecutionError(f"csv_reader: cannot read {path}: {e}") from None
        key = (path, st.st_mtime_ns, st.st_size)
        with self._lock:
            if key == self._cache_key:
                return self._rows
            rows = []
            with open(path, newline="", encoding="utf-8-sig") as f:
                reader = csv.reader(f, delimiter=self.delimiter)
                header = next(reader, None)
                if header is None:
                    raise ToolExecutionError(f"csv_reader: {path} is empty (expected a header row)")
                header = [h.strip() for h in header]
                if self.timestamp_column not in header:
                    raise ToolExecutionError(f"csv_reader: {path} has no column {self.timestamp_column!r} "
                                             f"(columns: {', '.join(header)})")
                ti = header.index(self.timestamp_column)
                cols = self.value_columns or [h for h in header if h != self.timestamp_column]
                missing = [c for c in cols if c not in header]
                if missing:
                    raise ToolExecutionError(f"csv_reader: {path} has no column(s) {', '.join(missing)} "
                                             f"(columns: {', '.join(header)})")
                idx = [header.index(c) for c in cols]
                as_dict = self.as_dict or len(cols) != 1
                for line_no, row in enumerate(reader, start=2):
                    if not row or all(not c.strip() for c in row):
                        continue
                    if len(row) < len(header):
                        row = row + [""] * (len(header) - len(row))
                    ts = self._parse_time(row[ti], f"{path} line {line_no}")
                    value = ({c: _cell(row[i]) for c, i in zip(cols, idx)} if as_dict else _cell(row[idx[0]]))
                    rows.append((to_ms(ts), ts, value))
            rows.sort(key=lambda r: r[0])
            self._rows = ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
            self._cache_key = key
            return self._rows

    @check_input_stream_count(0)
    def _execute(self, sources, alignment_stream, interval):
        ms, ts, vals = self._load()
        lo = bisect_right(ms, to_ms(interval.start))
        hi = bisect_right(ms, to_ms(interval.end))
        for i in range(lo, hi):
            yield StreamInstance._make((ts[i], vals[i]))
