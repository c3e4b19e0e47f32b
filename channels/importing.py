"""Import the user's own files (CSV, Parquet, JSON lines) into streams, in columnar batches, with a report.

:func:`inspect_file` reads the first rows: the columns, a preview, and a guess of the time column and
its form (ISO text, or epoch seconds / ms / µs / ns). :func:`import_file` then reads the whole file as
columnar batches (:mod:`channels.import_reading`: pyarrow's streaming CSV reader, Parquet's ``iter_batches``,
JSON lines in blocks parsed by ``pyarrow.json``), turns every batch's time column into epoch milliseconds
and its numeric columns into float64 arrays with Arrow's compute kernels, and writes each numeric column as
one stream with the channel's columnar ``insert_arrays`` (text columns, and all of them as one dict-valued
stream, with ``write_chunk``) — data and calculated intervals committed together, batch by batch, so memory
stays flat and a cancel leaves every stream's calculated intervals true to what was written. No Python object
is made per row of a numeric column; the next batches are read and converted in a thread while one is
written (:data:`PREFETCH`).

Nothing is silently dropped: a row that cannot be read (wrong number of fields, a time that does not
parse, a time in the future, a value that is not a number in a numeric column, a second value for a
timestamp already imported) is counted and reported with its line number (the first
:data:`MAX_REPORTED` of each file in :attr:`ImportReport.malformed`, all of them in its counts). A batch
with such a row is read row by row only where Arrow's kernels refused it.

One rule for a bad file: **what is valid is imported and everything else is reported; a file that cannot
be read to its end imports nothing.** Before anything is written a CSV file is checked (its bytes scanned; one
read by pyarrow when it has quotes or very long lines: a row longer than the read block, e.g. a run of NUL
bytes, is an :class:`ImportError_` naming the file and line), and the columns of a Parquet file read once; JSON lines are read line by line wherever a block cannot
be parsed whole, so they can always be read to their end. The zone is checked first; a row with a field that
is not valid UTF-8 is one malformed row. A stream is created only when its first instances are written, so a
file none of whose rows can be imported is an ImportError_ (with the first reasons) and leaves no stream or
definition behind.

Calculated intervals: a file whose times only increase gets ``(first - 1 ms, last]`` per stream,
extended after each batch. If the times of a file are not sorted, a part written early could still get
rows from a later batch, so the calculated interval is only set once the whole file is imported (a
cancelled import of an unsorted file leaves its streams' data without calculated intervals).
"""
from __future__ import annotations

import csv
import math
import os
import time
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from .changes import change_origin
from .errors import CancelledError, ChannelsError
from .import_reading import BATCH_ROWS, ImportError_, TimeParser, ahead, batches, convert, check_csv, delimiter_of
from .import_reading import _float_or_nan, parquet_rows
from .stream import StreamId, StreamInstance
from .time_interval import TimeInterval, TimeIntervals
from .utils import from_ms, parse_datetime, to_ms, utcnow

FORMATS = ("csv", "parquet", "jsonl")
TIME_UNITS = ("iso", "s", "ms", "us", "ns")
MAX_REPORTED = 200
CSV_BLOCK_BYTES = 1 << 22        # bytes per batch of CSV (pyarrow's block size) and of JSON lines
PREFETCH = 2                     # batches read and converted ahead of the writes, in a thread (0: none)
TIME_NAMES = ("timestamp", "time", "datetime", "date", "ts", "t", "epoch", "utc", "time_utc")


def file_format(path: str) -> str:
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    fmt = {"csv": "csv", "tsv": "csv", "txt": "csv", "parquet": "parquet", "pq": "parquet", "jsonl": "jsonl",
           "ndjson": "jsonl", "json": "jsonl"}.get(ext)
    if fmt is None:
        raise ImportError_(f"{path}: cannot tell the format from the extension {ext!r}; expected one of "
                           f".csv, .tsv, .parquet, .jsonl/.ndjson")
    return fmt


@dataclass
class FilePreview:
    path: str
    format: str
    columns: list
    rows: list                 # first rows, as text per column, malformed ones included (as far as they can be split)
    time_column: str | None
    time_unit: str | None      # "iso" / "s" / "ms" / "us" / "ns"
    has_zone: bool             # ISO times carry their own offset
    numeric_columns: list      # value columns whose preview values are all numbers
    lines: list = field(default_factory=list)      # the file line of each row (the row number for Parquet)
    problems: dict = field(default_factory=dict)   # {line: why the import will not take that row}


@dataclass
class ImportSpec:
    path: str
    time_column: str
    value_columns: list
    time_unit: str = "iso"
    zone: str = "UTC"                   # for ISO times without an offset
    mode: str = "columns"               # "columns": a stream per column; "dict": one stream of dicts
    stream_name: str = ""               # "dict" mode: the stream; "columns" mode: prefix ("" = column names)
    meta_data: tuple = ()
    format: str | None = None
    delimiter: str | None = None        # CSV only; None = "," (or tab for .tsv)

    def stream_ids(self) -> dict:
        """``{column or None: StreamId}`` the import writes."""
        if self.mode == "dict":
            return {None: StreamId(self.stream_name or os.path.splitext(os.path.basename(self.path))[0],
                                   list(self.meta_data))}
        prefix = self.stream_name if not self.stream_name or self.stream_name.endswith("_") else \
            f"{self.stream_name}_"
        return {c: StreamId(prefix + c, list(self.meta_data)) for c in self.value_columns}


@dataclass
class ImportReport:
    path: str
    rows_read: int = 0
    rows_malformed: int = 0
    written: dict = field(default_factory=dict)     # str(StreamId) -> instances new in the store
    already_stored: int = 0                         # instances the store held already, with the same value
    malformed: list = field(default_factory=list)   # (line, reason), the first MAX_REPORTED
    seconds: float = 0.0
    bytes: int = 0
    outcome: str = "running"
    sorted: bool = True
    _batch_bad: set = field(default_factory=set, repr=False)

    def bad(self, line, reason) -> None:
        """Count a malformed row once (a row bad for two reasons, or in two streams, is one row)."""
        if line in self._batch_bad:
            return
        self._batch_bad.add(line)
        self.rows_malformed += 1
        if len(self.malformed) < MAX_REPORTED:
            self.malformed.append((line, reason))

    def next_batch(self) -> None:
        self._batch_bad = set()

    @property
    def instances_written(self) -> int:
        return sum(self.written.values())

    def describe(self) -> str:
        rate = self.bytes / self.seconds / 1e6 if self.seconds > 0 else 0.0
        text = (f"{os.path.basename(self.path)}: {self.rows_read:,} rows, {self.instances_written:,} new instances in "
                f"{len(self.written)} stream(s)")
        if self.already_stored:
            text += f" ({self.already_stored:,} already stored with the same values)"
        text += f", {self.seconds:.1f} s ({rate:.1f} MB/s)"
        if self.rows_malformed:
            first = ", ".join(f"line {ln}: {why}" for ln, why in self.malformed[:3])
            text += f"; {self.rows_malformed:,} malformed row(s) not imported ({first}{', …' if self.rows_malformed > 3 else ''})"
        return text


def _parses(text) -> bool:
    try:
        parse_datetime(text)
        return True
    except (ValueError, ChannelsError):
        return False


# -- inspecting -------------------------------------------------------------------------------------------------

def inspect_file(path: str, rows: int = 20, delimiter: str | None = None) -> FilePreview:
    """Columns, the first ``rows`` rows and a guess of the time column and its form."""
    if os.path.isdir(path):
        raise ImportError_(f"{path} is a folder, not a file")
    if not os.path.isfile(path):
        raise ImportError_(f"{path} does not exist")
    fmt = file_format(path)
    skipped_text, first_reasons = {}, {}
    try:
        for b in batches(path, fmt, delimiter, skipped_text=skipped_text, block_bytes=CSV_BLOCK_BYTES):
            for line, why in b.problems:
                first_reasons.setdefault(line, why)
            if len(b.lines):
                break
        else:
            raise ImportError_(f"{path} has no rows")
        columns, lines = b.columns, b.lines
    except ImportError_:
        raise
    except Exception as e:  # noqa: BLE001 - pyarrow raises many kinds on a file that is not what it says
        raise ImportError_(f"{path} could not be read as {fmt}: {e}") from None
    names = list(columns)
    shown = {int(lines[i]): [_cell(columns[c][i]) for c in names] for i in range(min(rows, len(lines)))}
    # the rows the import will not take are shown too, where they are in the file, with the reason
    last = max(shown) if len(shown) == rows else math.inf
    problems = {line: why for line, why in first_reasons.items() if line <= last}
    for line in problems:
        shown[line] = _split_row(skipped_text.get(line), path, delimiter, len(names))
    lines_shown = sorted(shown)[:rows]
    time_col, unit, zoned = _guess_time(columns, names)
    numeric = [c for c in names if c != time_col and _all_numeric(columns[c], rows)]
    return FilePreview(path, fmt, names, [shown[ln] for ln in lines_shown], time_col, unit, zoned, numeric,
                       lines_shown, {ln: problems[ln] for ln in lines_shown if ln in problems})


def _split_row(text, path, delimiter, n) -> list:
    """The fields of a row the reader skipped, as far as they go, for the preview (``n`` of them)."""
    if text is None:
        return [""] * n
    try:
        fields = next(csv.reader([text], delimiter=delimiter_of(path, delimiter)), [])
    except csv.Error:
        fields = [text]
    return (fields + [""] * n)[:n]


def _cell(v):
    v = v.as_py()
    return "" if v is None else str(v)


#: a column is numeric when at least this share of its first values are numbers (the others are then
#: reported as malformed rows, not silently turned into text)
NUMERIC_SHARE = 0.8


def _all_numeric(col, rows):
    import pyarrow as pa
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        return True
    vals = [v for v in col.slice(0, max(rows, 200)).to_pylist() if v not in (None, "")]
    return bool(vals) and sum(not math.isnan(_float_or_nan(v)) for v in vals) >= NUMERIC_SHARE * len(vals)


def _guess_time(columns, names):
    import pyarrow as pa
    ordered = sorted(names, key=lambda n: (n.strip().lower() not in TIME_NAMES, names.index(n)))
    for name in ordered:
        col = columns[name]
        if pa.types.is_timestamp(col.type):
            return name, "iso", bool(col.type.tz)
        sample = [v for v in col.slice(0, 50).to_pylist() if v not in (None, "")]
        if not sample:
            continue
        numbers = [x for x in (_float_or_nan(v) for v in sample) if not math.isnan(x)]
        if len(numbers) >= NUMERIC_SHARE * len(sample):
            if name.strip().lower() not in TIME_NAMES:
                continue
            x = abs(numbers[0])
            unit = "ns" if x > 1e17 else "us" if x > 1e14 else "ms" if x > 1e11 else "s"
            return name, unit, True
        texts = [str(v) for v in sample[:20]]
        parsed = [t for t in texts if _parses(t)]
        if len(parsed) >= NUMERIC_SHARE * len(texts):
            zoned = any(t.endswith(("Z", "z")) or "+" in t[10:] or "-" in t[19:] for t in parsed)
            return name, "iso", zoned
    return None, None, False


# -- importing --------------------------------------------------------------------------------------------------

def import_file(channel, spec: ImportSpec, progress=None, cancel=None) -> ImportReport:
    """Import ``spec.path`` into ``channel`` (a writable channel: memory or a store's database channel).

    :param progress: ``progress(fraction, report)`` after every batch
    :param cancel: object with ``is_set()``, checked between batches (CancelledError; what was written stays)
    """
    fmt = spec.format or file_format(spec.path)
    if spec.time_unit not in TIME_UNITS:
        raise ImportError_(f"time unit {spec.time_unit!r}: expected one of {', '.join(TIME_UNITS)}")
    if not spec.value_columns:
        raise ImportError_("choose at least one value column to import")
    preview = inspect_file(spec.path, delimiter=spec.delimiter)
    missing = [c for c in [spec.time_column] + list(spec.value_columns) if c not in preview.columns]
    if missing:
        raise ImportError_(f"{spec.path}: no column {', '.join(map(repr, missing))} (columns: "
                           f"{', '.join(preview.columns)})")
    _check_zone(spec.zone)
    numeric = {c: c in preview.numeric_columns for c in spec.value_columns}
    needed = list(dict.fromkeys([spec.time_column] + list(spec.value_columns)))
    ids = spec.stream_ids()
    t0 = time.perf_counter()
    try:
        extent = _extent(spec.path, fmt, spec.delimiter, needed, cancel)
    except (ImportError_, CancelledError):
        raise
    except Exception as e:  # noqa: BLE001 - pyarrow and the OS raise many kinds; nothing was written yet
        raise ImportError_(f"{spec.path} could not be read as {fmt}: {e}; nothing was imported") from None
    # a stream is created when its first instances are written: a file with nothing valid creates nothing
    streams = _LazyStreams(channel, ids)
    report = ImportReport(spec.path, bytes=os.path.getsize(spec.path))
    spans = ({}, {})    # first and last ms written per stream key
    parse_time, now_ms = TimeParser(spec.time_unit, spec.zone), to_ms(utcnow())
    text_columns = [c for c in needed if (spec.time_unit == "iso" if c == spec.time_column else not numeric[c])]
    converted = (convert(b, spec.time_column, spec.value_columns, numeric, parse_time, now_ms)
                 for b in batches(spec.path, fmt, spec.delimiter, columns=needed, text_columns=text_columns,
                                  block_bytes=CSV_BLOCK_BYTES))
    reading = ahead(converted, PREFETCH)
    origin = change_origin(f"import {os.path.basename(spec.path)}")
    origin.__enter__()
    try:
        for b in reading:
            report.next_batch()
            if cancel is not None and cancel.is_set():
                raise CancelledError(f"import of {spec.path} cancelled after {report.rows_read:,} rows")
            for line, why in b.problems:
                report.bad(line, why)
            report.rows_read += len(b.lines)
            _write_batch(channel, streams, ids, b, numeric, spec.value_columns, report, spans)
            if progress is not None:
                progress(min(0.99, b.done / extent) if extent else 0.0, report)
        if not report.sorted:  # the whole file is in: now its span is complete
            for key, stream in streams.created.items():
                if key in spans[0]:
                    channel.write_chunk(stream, [], add_intervals=_span(spans[0][key], spans[1][key]))
        if not streams.created:   # no row reached a stream: every row was malformed, or there were none
            report.outcome = "nothing imported"
            first = "; ".join(f"line {ln}: {why}" for ln, why in sorted(report.malformed)[:3])
            err = ImportError_(f"{spec.path}: none of its {report.rows_read:,} row(s) could be imported, nothing was "
                               f"written" + (f" ({first}{' …' if report.rows_malformed > 3 else ''})" if first else ""))
            err.report = report
            raise err
        report.outcome = "ok"
        return report
    except CancelledError:
        report.outcome = "cancelled"
        raise
    finally:
        reading.close()
        origin.__exit__(None, None, None)
        report.seconds = time.perf_counter() - t0
        report.malformed.sort()


def _extent(path, fmt, delimiter, columns, cancel) -> int:
    """Check what must be readable to its end before anything is written; the measure of the whole file that
    :attr:`Batch.done <channels.import_reading.Batch.done>` counts (Parquet rows, CSV and JSON-lines bytes)."""
    if fmt == "csv":
        check_csv(path, delimiter, cancel, CSV_BLOCK_BYTES)
    if fmt == "parquet":
        return parquet_rows(path, columns, cancel)
    return os.path.getsize(path)


def _write_batch(channel, streams, ids, b, numeric, value_columns, report, spans) -> None:
    """Write one converted batch: each stream's rows in time order, second values for a timestamp reported;
    numeric columns as arrays (``insert_arrays``), text and dict streams as instances."""
    first_ms, last_ms = spans
    ms, lines = b.ms, b.lines
    all_ok = bool(b.ok.all())
    valid = ms if all_ok else ms[b.ok]
    if report.sorted and len(valid) > 1 and np.any(np.diff(valid) < 0):
        report.sorted = False
    for key, sid in ids.items():
        objects = None
        if key is None:
            objects = _dicts(b, value_columns, numeric)
            present = np.fromiter(map(bool, objects), dtype=bool, count=len(objects))
        elif numeric[key]:
            floats, present = b.values[key]
        else:
            objects = b.values[key]
            present = np.fromiter((v is not None for v in objects), dtype=bool, count=len(objects))
        # idx: the rows written, in time order (None: every row of the batch, already in time order)
        idx = None if all_ok and present.all() else np.flatnonzero(b.ok & present)
        t = ms if idx is None else ms[idx]
        if not len(t):
            continue
        stream = streams[key]
        steps = np.diff(t)
        if np.any(steps < 0):
            order = np.argsort(t, kind="stable")
            t, idx = t[order], order if idx is None else idx[order]
            steps = np.diff(t)
        if report.sorted and key in last_ms and t[0] < last_ms[key]:
            report.sorted = False
        if np.any(steps == 0) or (key in last_ms and t[0] == last_ms[key]):
            idx = np.arange(len(t)) if idx is None else idx
            dup = np.zeros(len(t), dtype=bool)
            dup[1:] = steps == 0
            if key in last_ms and t[0] == last_ms[key]:
                dup[0] = True  # sorted files: the previous batch ended on this timestamp
            for j in np.flatnonzero(dup):
                report.bad(int(lines[idx[j]]), f"{sid}: a second value at {from_ms(int(t[j])).isoformat()}")
            good = np.flatnonzero(~dup)
            t, idx = t[good], idx[good]
        if not len(t):
            continue
        lo, hi = int(t[0]), int(t[-1])
        first_ms[key] = min(first_ms.get(key, lo), lo)
        last_ms[key] = max(last_ms.get(key, hi), hi)
        calc = _span(first_ms[key], last_ms[key]) if report.sorted else None  # merged with the stored intervals
        rows = slice(None) if idx is None else idx
        if objects is None:  # floats: the columnar write, no per-instance objects
            written = _write_arrays(channel, stream, t, floats[rows], calc, lines[rows], report)
        else:
            insts = [StreamInstance._make((from_ms(m), objects[i])) for m, i in
                     zip(t.tolist(), range(len(t)) if idx is None else idx.tolist())]
            written = _write(channel, stream, insts, calc, lines[rows], report)
        report.written[str(sid)] = report.written.get(str(sid), 0) + written


def _dicts(b, value_columns, numeric) -> list:
    """The dict value of every row of a batch (its present columns)."""
    cols = []
    for c in value_columns:
        if numeric[c]:
            floats, present = b.values[c]
            vals = floats.tolist()
            for i in np.flatnonzero(~present).tolist():
                vals[i] = None
        else:
            vals = b.values[c]
        cols.append((c, vals))
    return [{c: vals[i] for c, vals in cols if vals[i] is not None} for i in range(len(b.lines))]


class _LazyStreams:
    """``{key: Stream}`` of an import, each created on first use; :attr:`created` holds those made or found."""

    def __init__(self, channel, ids):
        self.channel, self.ids, self.created = channel, ids, {}

    def __getitem__(self, key):
        if key not in self.created:
            self.created[key] = self.channel.get_or_create_stream(self.ids[key])
        return self.created[key]


def _check_zone(zone) -> None:
    import pytz
    try:
        pytz.timezone(zone)
    except (pytz.UnknownTimeZoneError, AttributeError, TypeError, ValueError):
        raise ImportError_(f"time zone {zone!r} is unknown (the zone of ISO times without an offset: use a name "
                           f"such as 'UTC' or 'Europe/London'); nothing was imported") from None


def _span(lo_ms, hi_ms) -> TimeIntervals:
    return TimeIntervals([TimeInterval(from_ms(lo_ms) - timedelta(milliseconds=1), from_ms(hi_ms))])


def _new(n, offered, report) -> int:
    """How many of ``offered`` instances a write added (the channel's count, when it gives one); the rest were
    stored already with the same value."""
    new = n if isinstance(n, int) else offered
    report.already_stored += offered - new
    return new


def _write_arrays(channel, stream, ms, values, calc, lines, report) -> int:
    """A batch of floats through ``insert_arrays``; on a conflict with what is stored, row by row (reported).
    Returns how many instances were new."""
    from .errors import DuplicateInstanceError
    try:
        return _new(channel.insert_arrays(stream, ms, values, add_intervals=calc), len(ms), report)
    except DuplicateInstanceError:
        insts = [StreamInstance._make((from_ms(int(m)), float(v))) for m, v in zip(ms, values)]
        return _write(channel, stream, insts, calc, lines, report)


def _write(channel, stream, insts, calc, lines, report) -> int:
    """Write one batch; rows the store refuses as a second value for a timestamp are reported, the rest written.
    Returns how many instances were new."""
    from .errors import DuplicateInstanceError
    try:
        return _new(channel.write_chunk(stream, insts, add_intervals=calc), len(insts), report)
    except DuplicateInstanceError:
        pass
    # some timestamps already hold a value (an unsorted file, or a second import): compare with what is there
    lo, hi = insts[0].timestamp - timedelta(milliseconds=1), insts[-1].timestamp
    there = dict(stream.window(TimeInterval(lo, hi)).items())
    fresh = []
    for inst, line in zip(insts, lines):
        old = there.get(inst.timestamp, _MISSING)
        if old is _MISSING:
            fresh.append(inst)
        elif old != inst.value:
            report.bad(int(line), f"{stream.stream_id}: a second value at {inst.timestamp.isoformat()} "
                             f"({inst.value!r}; {old!r} is there)")
        else:
            report.already_stored += 1
    return _new(channel.write_chunk(stream, fresh, add_intervals=calc), len(fresh), report)


_MISSING = object()


__all__ = ["inspect_file", "import_file", "ImportSpec", "ImportReport", "FilePreview", "ImportError_", "FORMATS",
           "TIME_UNITS", "file_format", "BATCH_ROWS"]
