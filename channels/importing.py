"""Import the user's own files (CSV, Parquet, JSON lines) into streams, in batches, with a report.

:func:`inspect_file` reads the first rows: the columns, a preview, and a guess of the time column and
its form (ISO text, or epoch seconds / ms / µs / ns). :func:`import_file` then reads the whole file in
batches (pyarrow's streaming CSV and Parquet readers; JSON lines line by line), turns every batch's time
column into epoch milliseconds with vectorised arrow kernels, and writes each value column as one stream
(or all of them as one dict-valued stream) with the channel's ``write_chunk`` — data and calculated
intervals committed together, batch by batch, so memory stays flat and a cancel leaves every stream's
calculated intervals true to what was written.

Nothing is silently dropped: a row that cannot be read (wrong number of fields, a time that does not
parse, a time in the future, a value that is not a number in a numeric column, a second value for a
timestamp already imported) is counted and reported with its line number (the first
:data:`MAX_REPORTED` of each file in :attr:`ImportReport.malformed`, all of them in its counts).

One rule for a bad file: **what is valid is imported and everything else is reported; a file that cannot
be read to its end imports nothing.** Before anything is written the whole file is read once (a row longer
than the read block, e.g. a run of NUL bytes, is an :class:`ImportError_` naming the file and line) and the
zone is checked; a row with a field that is not valid UTF-8 is one malformed row. A stream is created only
when its first instances are written, so a file none of whose rows can be imported is an ImportError_ (with
the first reasons) and leaves no stream or definition behind.

Calculated intervals: a file whose times only increase gets ``(first - 1 ms, last]`` per stream,
extended after each batch. If the times of a file are not sorted, a part written early could still get
rows from a later batch, so the calculated interval is only set once the whole file is imported (a
cancelled import of an unsorted file leaves its streams' data without calculated intervals).
"""
from __future__ import annotations

import csv
import json
import math
import os
import time
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from .changes import change_origin
from .errors import CancelledError, ChannelsError
from .stream import StreamId, StreamInstance
from .time_interval import TimeInterval, TimeIntervals
from .utils import from_ms, parse_datetime, to_ms, utcnow

FORMATS = ("csv", "parquet", "jsonl")
TIME_UNITS = ("iso", "s", "ms", "us", "ns")
_UNIT_TO_MS = {"s": 1e3, "ms": 1.0, "us": 1e-3, "ns": 1e-6}
MAX_REPORTED = 200
BATCH_ROWS = 65536               # rows per batch of Parquet and JSON lines
CSV_BLOCK_BYTES = 1 << 22        # bytes per batch of CSV (pyarrow's block size)
TIME_NAMES = ("timestamp", "time", "datetime", "date", "ts", "t", "epoch", "utc", "time_utc")


class ImportError_(ChannelsError):
    """A file that cannot be imported as asked (unknown format, missing column, nothing to import)."""


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


# -- reading ------------------------------------------------------------------------------------------------

def _delimiter(path, delimiter) -> str:
    return delimiter or ("\t" if path.lower().endswith(".tsv") else ",")


def _csv_reader(path, delimiter, handler, block_size=None):
    import pyarrow as pa
    import pyarrow.csv as pcsv
    delim = _delimiter(path, delimiter)
    head = pcsv.open_csv(path, read_options=pcsv.ReadOptions(use_threads=False, block_size=1 << 16),
                         parse_options=pcsv.ParseOptions(delimiter=delim, invalid_row_handler=lambda r: "skip"))
    names = head.schema.names
    return pcsv.open_csv(path, read_options=pcsv.ReadOptions(use_threads=False,
                                                             block_size=block_size or CSV_BLOCK_BYTES),
                         parse_options=pcsv.ParseOptions(delimiter=delim, invalid_row_handler=handler),
                         convert_options=pcsv.ConvertOptions(column_types={n: pa.binary() for n in names},
                                                             strings_can_be_null=True))


def _batches(path, fmt, delimiter, report, skipped, skipped_text=None):
    """Yield ``(columns: {name: pyarrow Array}, lines: numpy int64 physical line per row)``; CSV rows with the
    wrong number of fields are reported, their lines appended to ``skipped`` (and their text put in
    ``skipped_text`` by line, when given)."""
    import pyarrow as pa
    if fmt == "csv":
        def handler(row):
            skipped.append(row.number)
            if skipped_text is not None:
                skipped_text[row.number] = row.text
            report.bad(row.number, f"{row.actual_columns} fields where the header has {row.expected_columns}")
            return "skip"
        reader = _csv_reader(path, delimiter, handler)
        counter = _LineCounter(skipped)
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as e:
                raise _unreadable(path, counter.line + 1, e) from None
            lines = counter.next(batch.num_rows)
            yield _utf8_columns(batch, lines, report)
    elif fmt == "parquet":
        import pyarrow.parquet as pq
        done = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
            n = batch.num_rows
            yield ({name: batch.column(i) for i, name in enumerate(batch.schema.names)},
                   np.arange(done + 1, done + n + 1, dtype=np.int64))  # parquet has rows, not lines
            done += n
    else:  # JSON lines, line by line: a bad line is one malformed row, not a failed file
        rows, lines = [], []
        with open(path, "rb") as f:
            for number, raw in enumerate(f, 1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    report.bad(number, "not valid UTF-8 text")
                    continue
                if not text.strip():
                    continue
                try:
                    obj = json.loads(text)
                    if not isinstance(obj, dict):
                        raise ValueError("not an object")
                except ValueError as e:
                    report.bad(number, f"not a JSON object ({e})")
                    continue
                rows.append(obj)
                lines.append(number)
                if len(rows) >= BATCH_ROWS:
                    yield _json_columns(rows, pa), np.array(lines, dtype=np.int64)
                    rows, lines = [], []
        if rows:
            yield _json_columns(rows, pa), np.array(lines, dtype=np.int64)


def _unreadable(path, line, e) -> "ImportError_":
    """The error for a file pyarrow cannot read past ``line`` (raised before anything is written)."""
    text = str(e)
    if "straddl" in text:
        why = (f"a row longer than the {CSV_BLOCK_BYTES >> 20} MB read block starts near there (a quote that is "
               f"never closed, or binary data such as NUL bytes)")
    else:
        why = text.splitlines()[0] if text else type(e).__name__
    return ImportError_(f"{path} cannot be read past line {line:,}: {why}; nothing was imported")


def _utf8_columns(batch, lines, report):
    """``(columns as UTF-8 text, lines)`` of a CSV batch read as bytes; rows with a field that is not valid
    UTF-8 are reported (line and column) and left out, the rest of the batch is kept."""
    import pyarrow as pa
    import pyarrow.compute as pc
    cols = {}
    bad = np.zeros(batch.num_rows, dtype=bool)
    for i, name in enumerate(batch.schema.names):
        col = batch.column(i)
        try:
            cols[name] = pc.cast(col, pa.string())
            continue
        except pa.ArrowInvalid:
            pass
        values = []
        for j, v in enumerate(col.to_pylist()):
            try:
                values.append(None if v is None else v.decode("utf-8"))
            except UnicodeDecodeError as e:
                values.append(None)
                if not bad[j]:
                    report.bad(int(lines[j]), f"column {name!r}: not valid UTF-8 text (byte {e.start + 1} of the field)")
                bad[j] = True
        cols[name] = pa.array(values, type=pa.string())
    if bad.any():
        keep = pa.array(~bad)
        cols = {n: pc.filter(c, keep) for n, c in cols.items()}
        lines = lines[~bad]
    return cols, lines


def _check_readable(path, fmt, delimiter, cancel=None) -> int:
    """Read the whole file once without writing (a file that breaks off half-way must write nothing); the
    number of rows, for the progress. Malformed rows are not counted here: the import reports them."""
    scratch = ImportReport(path)
    rows = 0
    for columns, lines in _batches(path, fmt, delimiter, scratch, []):
        rows += len(lines)
        if cancel is not None and cancel.is_set():
            raise CancelledError(f"import of {path} cancelled before anything was written")
        scratch.malformed.clear()
    return rows + scratch.rows_malformed


def _json_columns(rows, pa):
    names = []
    for r in rows:
        for k in r:
            if k not in names:
                names.append(k)
    return {n: pa.array([_json_text(r.get(n)) for r in rows], type=pa.string()) for n in names}


def _json_text(v):
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(v)


class _LineCounter:
    """Physical line numbers of CSV data rows, given the lines the reader skipped (1 = the header).

    Quoted fields with line breaks make a row span several lines; they are counted as one (the number
    is then the row's first line only when no such field came before it)."""

    def __init__(self, skipped):
        self.skipped = skipped      # filled by the reader's invalid-row handler, in increasing order
        self.line = 1
        self.j = 0

    def next(self, n) -> np.ndarray:
        ahead = np.asarray(self.skipped[self.j:], dtype=np.int64)
        cand = np.arange(self.line + 1, self.line + 1 + n + len(ahead), dtype=np.int64)
        out = cand[~np.isin(cand, ahead)][:n]
        if len(out):
            self.line = int(out[-1])
        while self.j < len(self.skipped) and self.skipped[self.j] <= self.line:
            self.j += 1
        return out


# -- converting -----------------------------------------------------------------------------------------------

def _times_ms(col, unit, zone, lines, report):
    """``(ms int64, ok bool)`` for one batch's time column; rows that fail are reported."""
    import pyarrow as pa
    import pyarrow.compute as pc
    n = len(col)
    if pa.types.is_timestamp(col.type):
        arr = col if col.type.tz else pc.assume_timezone(col, timezone=zone, ambiguous="earliest",
                                                         nonexistent="earliest")
        ms = pc.cast(pc.cast(arr, pa.timestamp("ms", tz="UTC")), pa.int64())
        valid = ~np.asarray(pc.is_null(ms).to_numpy(zero_copy_only=False), dtype=bool)
        vals = np.asarray(ms.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
        return _report_bad(vals, valid, lines, report, "no time")
    if unit != "iso":
        try:
            x = np.asarray(pc.cast(col, pa.float64()).fill_null(math.nan).to_numpy(zero_copy_only=False),
                           dtype=np.float64)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            x = np.array([_float_or_nan(v) for v in col.to_pylist()], dtype=np.float64)
        valid = np.isfinite(x)
        ms = np.zeros(n, dtype=np.int64)
        ms[valid] = np.round(x[valid] * _UNIT_TO_MS[unit]).astype(np.int64)
        return _report_bad(ms, valid, lines, report, f"time is not a number of {unit}")
    text = col if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) else pc.cast(col, pa.string())
    for attempt in ("zoned", "naive"):
        try:
            if attempt == "zoned":
                ts = pc.cast(text, pa.timestamp("ms", tz="UTC"))
            else:
                ts = pc.assume_timezone(pc.cast(text, pa.timestamp("ms")), timezone=zone, ambiguous="earliest",
                                        nonexistent="earliest")
            ms = pc.cast(ts, pa.int64())
            valid = ~np.asarray(pc.is_null(ms).to_numpy(zero_copy_only=False), dtype=bool)
            return _report_bad(np.asarray(ms.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64), valid,
                               lines, report, "no time")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    # mixed or malformed: row by row (only for this batch)
    import pytz
    tz = pytz.timezone(zone)
    ms = np.zeros(n, dtype=np.int64)
    valid = np.zeros(n, dtype=bool)
    for i, v in enumerate(text.to_pylist()):
        try:
            dt = parse_datetime(v, tz)
            ms[i], valid[i] = to_ms(dt), True
        except (ValueError, TypeError, ChannelsError):
            report.bad(int(lines[i]), f"time {v!r} is not a date-time")
    return ms, valid


def _parses(text) -> bool:
    try:
        parse_datetime(text)
        return True
    except (ValueError, ChannelsError):
        return False


def _report_bad(ms, valid, lines, report, why):
    for i in np.flatnonzero(~valid):
        report.bad(int(lines[i]), why)
    return ms, valid


def _float_or_nan(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _values(col, numeric: bool, lines, ok, report, name):
    """Python values of a value column (floats for a numeric column, text otherwise); None = missing."""
    import pyarrow as pa
    import pyarrow.compute as pc
    if numeric:
        if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
            arr = np.asarray(pc.cast(col, pa.float64()).fill_null(math.nan).to_numpy(zero_copy_only=False))
            missing = np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False), dtype=bool)
            return [None if m else float(v) for v, m in zip(arr, missing)]
        out = []
        for i, v in enumerate(col.to_pylist()):
            if v is None or v == "":
                out.append(None)
                continue
            try:
                out.append(float(v))
            except ValueError:
                if ok[i]:
                    report.bad(int(lines[i]), f"column {name!r}: {v!r} is not a number")
                ok[i] = False
                out.append(None)
        return out
    return [None if v is None else v for v in col.to_pylist()]


# -- inspecting -------------------------------------------------------------------------------------------------

def inspect_file(path: str, rows: int = 20, delimiter: str | None = None) -> FilePreview:
    """Columns, the first ``rows`` rows and a guess of the time column and its form."""
    if os.path.isdir(path):
        raise ImportError_(f"{path} is a folder, not a file")
    if not os.path.isfile(path):
        raise ImportError_(f"{path} does not exist")
    fmt = file_format(path)
    report = ImportReport(path)
    skipped_text = {}
    try:
        columns, lines = next(_batches(path, fmt, delimiter, report, [], skipped_text))
    except StopIteration:
        raise ImportError_(f"{path} has no rows") from None
    except ImportError_:
        raise
    except Exception as e:  # noqa: BLE001 - pyarrow raises many kinds on a file that is not what it says
        raise ImportError_(f"{path} could not be read as {fmt}: {e}") from None
    names = list(columns)
    shown = {int(lines[i]): [_cell(columns[c][i]) for c in names] for i in range(min(rows, len(lines)))}
    # the rows the import will not take are shown too, where they are in the file, with the reason
    last = max(shown) if len(shown) == rows else math.inf
    problems = {line: why for line, why in report.malformed if line <= last}
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
        fields = next(csv.reader([text], delimiter=_delimiter(path, delimiter)), [])
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
    ids = spec.stream_ids()
    t0 = time.perf_counter()
    try:
        rows_total = _check_readable(spec.path, fmt, spec.delimiter, cancel)
    except (ImportError_, CancelledError):
        raise
    except Exception as e:  # noqa: BLE001 - pyarrow and the OS raise many kinds; nothing was written yet
        raise ImportError_(f"{spec.path} could not be read as {fmt}: {e}; nothing was imported") from None
    # a stream is created when its first instances are written: a file with nothing valid creates nothing
    streams = _LazyStreams(channel, ids)
    report = ImportReport(spec.path, bytes=os.path.getsize(spec.path))
    first_ms, last_ms = {}, {}
    now_ms = to_ms(utcnow())
    origin = change_origin(f"import {os.path.basename(spec.path)}")
    origin.__enter__()
    try:
        for columns, lines in _batches(spec.path, fmt, spec.delimiter, report, []):
            report.next_batch()
            if cancel is not None and cancel.is_set():
                raise CancelledError(f"import of {spec.path} cancelled after {report.rows_read:,} rows")
            report.rows_read += len(lines)
            ms, ok = _times_ms(columns[spec.time_column], spec.time_unit, spec.zone, lines, report)
            future = ok & (ms > now_ms)
            for i in np.flatnonzero(future):
                report.bad(int(lines[i]), f"time {from_ms(int(ms[i])).isoformat()} is in the future")
            ok &= ~future
            values = {c: _values(columns[c], numeric[c], lines, ok, report, c) for c in spec.value_columns}
            for key in ids:
                idx = np.flatnonzero(ok)
                if key is None:
                    vals = [{c: values[c][i] for c in spec.value_columns if values[c][i] is not None} for i in idx]
                else:
                    vals = [values[key][i] for i in idx]
                keep = [j for j, v in enumerate(vals) if v not in (None, {})]
                idx = idx[keep]
                vals = [vals[j] for j in keep]
                if not len(idx):
                    continue
                stream = streams[key]
                t = ms[idx]
                order = np.argsort(t, kind="stable")
                t, idx = t[order], idx[order]
                vals = [vals[j] for j in order]
                dup = np.zeros(len(t), dtype=bool)
                dup[1:] = t[1:] == t[:-1]
                if key in last_ms and t[0] == last_ms[key]:
                    dup[0] = True  # sorted files: the previous batch ended on this timestamp
                for j in np.flatnonzero(dup):
                    report.bad(int(lines[idx[j]]), f"{ids[key]}: a second value at {from_ms(int(t[j])).isoformat()}")
                if report.sorted and ((key in last_ms and t[0] < last_ms[key]) or
                                      np.any(np.diff(ms[np.flatnonzero(ok)]) < 0)):
                    report.sorted = False
                good = np.flatnonzero(~dup)
                lo, hi = int(t[good[0]]), int(t[good[-1]])
                first_ms[key] = min(first_ms.get(key, lo), lo)
                last_ms[key] = max(last_ms.get(key, hi), hi)
                calc = None  # the piece this batch adds to the calculated intervals (merged in the store)
                if report.sorted:
                    calc = _span(first_ms[key], last_ms[key])
                good_lines = [int(lines[idx[j]]) for j in good]
                if key is not None and numeric[key]:  # floats: the columnar write, no per-instance objects
                    written = _write_arrays(channel, stream, t[good], np.array([vals[j] for j in good], dtype=float),
                                            calc, good_lines, report)
                else:
                    insts = [StreamInstance._make((from_ms(int(t[j])), vals[j])) for j in good]
                    written = _write(channel, stream, insts, calc, good_lines, report)
                report.written[str(ids[key])] = report.written.get(str(ids[key]), 0) + written
            if progress is not None:
                progress(min(0.99, report.rows_read / rows_total) if rows_total else 0.0, report)
        if not report.sorted:  # the whole file is in: now its span is complete
            for key, stream in streams.created.items():
                if key in first_ms:
                    channel.write_chunk(stream, [], add_intervals=_span(first_ms[key], last_ms[key]))
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
        origin.__exit__(None, None, None)
        report.seconds = time.perf_counter() - t0
        report.malformed.sort()


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
            report.bad(line, f"{stream.stream_id}: a second value at {inst.timestamp.isoformat()} "
                             f"({inst.value!r}; {old!r} is there)")
        else:
            report.already_stored += 1
    return _new(channel.write_chunk(stream, fresh, add_intervals=calc), len(fresh), report)


_MISSING = object()


__all__ = ["inspect_file", "import_file", "ImportSpec", "ImportReport", "FilePreview", "ImportError_", "FORMATS",
           "TIME_UNITS", "file_format"]
