"""Reading an import file as columnar batches (the reading half of :mod:`channels.importing`).

Every format comes out the same way: :class:`Batch` — pyarrow arrays by column name, the file line of each
row (a NumPy array; Parquet: the row number) and the rows the reader left out, with why. Nothing here makes
a Python object per row except on the slow path of a batch that needs it (a field that is not UTF-8, a time
or a number Arrow's parsers refuse, a JSON-lines block with a line that is not a plain JSON object), and
then only for that batch, so the rows keep exactly what the row-by-row reading gave them.

* CSV: pyarrow's streaming reader, one thread (its invalid-row handler then knows the line of every row it
  skips), every column read as bytes then checked as UTF-8 in one cast.
* Parquet: ``iter_batches`` of the columns asked for.
* JSON lines: blocks of whole lines parsed by ``pyarrow.json``; a block Arrow cannot take as it is (a bad
  line, a blank line, a value Arrow would turn into something other than text or a number) is read line by
  line instead.

:func:`convert` turns a batch's time column into epoch milliseconds and its numeric columns into float64
arrays with Arrow's compute kernels (Arrow's ISO parser reads ``…Z``/``+hh:mm`` offsets, times without an
offset are put in the chosen zone with ``assume_timezone``).
"""
from __future__ import annotations

import json
import math
import os
import queue
import threading
from dataclasses import dataclass, field

import numpy as np

from .errors import ChannelsError
from .utils import from_ms, parse_datetime, to_ms

_UNIT_TO_MS = {"s": 1e3, "ms": 1.0, "us": 1e-3, "ns": 1e-6}
BATCH_ROWS = 1 << 17             # rows per batch of Parquet (and of JSON lines read line by line)
BLOCK_BYTES = 1 << 22            # bytes per batch of CSV (pyarrow's block size) and of JSON lines (whole lines)


class ImportError_(ChannelsError):
    """A file that cannot be imported as asked (unknown format, missing column, nothing to import)."""


@dataclass
class Batch:
    columns: dict                  # name -> pyarrow Array
    lines: np.ndarray              # int64 file line of each row (Parquet: row number)
    problems: list                 # [(line, why)] rows left out while reading, or found bad while converting
    done: int = 0                  # how far into the file: Parquet rows, CSV and JSON-lines bytes
    ms: np.ndarray | None = None   # after convert(): epoch ms of each row
    ok: np.ndarray | None = None   # after convert(): rows with a valid time (not in the future) and values
    values: dict = field(default_factory=dict)  # after convert(): {column: (float64, present) or [text|None]}


def delimiter_of(path, delimiter) -> str:
    return delimiter or ("\t" if path.lower().endswith(".tsv") else ",")


def batches(path, fmt, delimiter=None, *, columns=None, text_columns=None, skipped_text=None,
            block_bytes=BLOCK_BYTES):
    """The file as :class:`Batch` es. ``columns``: Parquet columns to read (None: all); ``text_columns``: JSON
    lines read block-wise with these columns as text (None: line by line, every value as text, as the preview
    shows them); ``skipped_text``: filled with ``{line: text}`` of CSV rows skipped for their field count;
    ``block_bytes``: the bytes of a CSV or JSON-lines batch."""
    if fmt == "csv":
        return _csv_batches(path, delimiter, skipped_text, block_bytes)
    if fmt == "parquet":
        return _parquet_batches(path, columns)
    return _json_batches(path, text_columns, block_bytes)


# -- CSV --------------------------------------------------------------------------------------------------------

def _csv_names(path, delim):
    import pyarrow.csv as pcsv
    head = pcsv.open_csv(path, read_options=pcsv.ReadOptions(use_threads=False, block_size=1 << 16),
                         parse_options=pcsv.ParseOptions(delimiter=delim, invalid_row_handler=lambda r: "skip"))
    return head.schema.names


def _csv_reader(path, delimiter, handler, block_bytes, names=None):
    import pyarrow as pa
    import pyarrow.csv as pcsv
    delim = delimiter_of(path, delimiter)
    names = names or _csv_names(path, delim)
    return pcsv.open_csv(path, read_options=pcsv.ReadOptions(use_threads=False, block_size=block_bytes),
                         parse_options=pcsv.ParseOptions(delimiter=delim, invalid_row_handler=handler),
                         convert_options=pcsv.ConvertOptions(column_types={n: pa.binary() for n in names},
                                                             include_columns=names, strings_can_be_null=True))


def _csv_batches(path, delimiter, skipped_text, block_bytes):
    import pyarrow as pa
    problems, skipped = [], []

    def handler(row):
        skipped.append(row.number)
        if skipped_text is not None:
            skipped_text[row.number] = row.text
        problems.append((row.number, f"{row.actual_columns} fields where the header has {row.expected_columns}"))
        return "skip"
    reader = _csv_reader(path, delimiter, handler, block_bytes)
    counter = _LineCounter(skipped)
    size, done = os.path.getsize(path), 0
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except pa.ArrowInvalid as e:
            raise unreadable(path, counter.line + 1, e, block_bytes) from None
        lines = counter.next(batch.num_rows)
        columns, lines = _utf8_columns(batch, lines, problems)
        done = min(size, done + block_bytes)         # a batch is a block of the file
        yield Batch(columns, lines, problems[:], done)
        problems.clear()


def check_csv(path, delimiter=None, cancel=None, block_bytes=BLOCK_BYTES) -> None:
    """Make sure pyarrow can read the CSV file to its end, before anything is written; raise
    :func:`unreadable` (naming the line) otherwise.

    Arrow's reader (every column as bytes, rows with the wrong number of fields handed to the invalid-row
    handler) fails part-way only on a row longer than a block or on a quoted field it must carry across a
    block. So the bytes are scanned first (memchr speed): only a file with a quote character, or with half a
    block without a line break, is then read once by pyarrow (threads, one column, nothing converted)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    from .errors import CancelledError
    half = max(1, block_bytes // 2)
    with open(path, "rb") as f:
        while True:
            chunk = f.read(half)
            if not chunk:
                return
            if b'"' in chunk or (len(chunk) == half and b"\n" not in chunk and b"\r" not in chunk):
                break
            if cancel is not None and cancel.is_set():
                raise CancelledError(f"import of {path} cancelled before anything was written")
    delim = delimiter_of(path, delimiter)
    names = _csv_names(path, delim)
    skipped = []
    reader = pcsv.open_csv(path, read_options=pcsv.ReadOptions(use_threads=True, block_size=block_bytes),
                           parse_options=pcsv.ParseOptions(delimiter=delim,
                                                           invalid_row_handler=lambda r: skipped.append(1) or "skip"),
                           convert_options=pcsv.ConvertOptions(include_columns=names[:1],
                                                               column_types={names[0]: pa.binary()}))
    rows = 0
    try:
        for b in reader:
            rows += b.num_rows
            if cancel is not None and cancel.is_set():
                raise CancelledError(f"import of {path} cancelled before anything was written")
    except pa.ArrowInvalid as e:
        for _ in _csv_batches(path, delimiter, None, block_bytes):    # again, counting lines: names the line
            pass
        raise unreadable(path, rows + len(skipped) + 1, e, block_bytes) from None


def unreadable(path, line, e, block_bytes) -> ImportError_:
    """The error for a file pyarrow cannot read past ``line`` (raised before anything is written)."""
    text = str(e)
    if "straddl" in text:
        why = (f"a row longer than the {_size(block_bytes)} read block starts near there (a quote that is "
               f"never closed, or binary data such as NUL bytes)")
    else:
        why = text.splitlines()[0] if text else type(e).__name__
    return ImportError_(f"{path} cannot be read past line {line:,}: {why}; nothing was imported")


def _size(n) -> str:
    return f"{n >> 20} MB" if n >= 1 << 20 else f"{n >> 10} kB"


def _utf8_columns(batch, lines, problems):
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
                    problems.append((int(lines[j]), f"column {name!r}: not valid UTF-8 text (byte {e.start + 1} "
                                                    f"of the field)"))
                bad[j] = True
        cols[name] = pa.array(values, type=pa.string())
    if bad.any():
        keep = pa.array(~bad)
        cols = {n: pc.filter(c, keep) for n, c in cols.items()}
        lines = lines[~bad]
    return cols, lines


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
        out = cand[~np.isin(cand, ahead)][:n] if len(ahead) else cand
        if len(out):
            self.line = int(out[-1])
        while self.j < len(self.skipped) and self.skipped[self.j] <= self.line:
            self.j += 1
        return out


# -- Parquet ----------------------------------------------------------------------------------------------------

def _parquet_batches(path, columns=None):
    import pyarrow.parquet as pq
    done = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=columns):
        n = batch.num_rows
        yield Batch({name: batch.column(i) for i, name in enumerate(batch.schema.names)},
                    np.arange(done + 1, done + n + 1, dtype=np.int64), [], done + n)  # rows, not lines
        done += n


def parquet_rows(path, columns, cancel=None) -> int:
    """Read the columns of a Parquet file once before anything is written (a file that breaks off half-way
    raises here); its number of rows."""
    import pyarrow.parquet as pq
    from .errors import CancelledError
    f = pq.ParquetFile(path)
    for _ in f.iter_batches(batch_size=BATCH_ROWS, columns=columns):
        if cancel is not None and cancel.is_set():
            raise CancelledError(f"import of {path} cancelled before anything was written")
    return f.metadata.num_rows


# -- JSON lines ---------------------------------------------------------------------------------------------------

def _json_batches(path, text_columns, block_bytes):
    with open(path, "rb") as f:
        line0, done, carry = 1, 0, b""
        while True:
            block = f.read(block_bytes)
            data = carry + block if carry else block
            if not data:
                break
            if block:
                cut = data.rfind(b"\n") + 1
                if cut == 0:        # one line longer than the block: read on
                    carry = data
                    continue
                data, carry = data[:cut], data[cut:]
            else:
                carry = b""
            n_lines = data.count(b"\n") + (not data.endswith(b"\n"))
            done += len(data)
            fast = None if text_columns is None else _json_block(data, line0, n_lines, text_columns)
            if fast is not None:
                yield Batch(fast, np.arange(line0, line0 + n_lines, dtype=np.int64), [], done)
            else:
                yield from _json_lines(data, line0, done)
            line0 += n_lines


def _json_block(data, line0, n_lines, text_columns):
    """``{name: Array}`` of a block of JSON lines parsed by Arrow, or None when it must be read line by line:
    Arrow refuses it (a line that is not a JSON object, a column whose type changes), it has blank lines, or a
    column came out as anything but text and numbers (Arrow reads ISO-looking text as timestamps, and the
    line-by-line reading keeps booleans, lists and objects as their JSON text)."""
    import pyarrow as pa
    import pyarrow.json as pj
    schema = pa.schema([(c, pa.string()) for c in text_columns])
    try:
        table = pj.read_json(pa.BufferReader(data),
                             read_options=pj.ReadOptions(use_threads=False, block_size=len(data) + 1),
                             parse_options=pj.ParseOptions(explicit_schema=schema))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    if table.num_rows != n_lines:
        return None
    cols = {}
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        t = col.type
        if not (pa.types.is_string(t) or pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_null(t)):
            return None
        if pa.types.is_string(t):
            try:
                col.validate(full=True)     # Arrow's JSON parser lets bytes that are not UTF-8 through
            except pa.ArrowInvalid:
                return None
        cols[name] = col
    return cols


def _json_lines(data, line0, done):
    """A block of JSON lines, line by line: a bad line is one malformed row, not a failed file."""
    rows, lines, problems = [], [], []
    parts = data.split(b"\n")
    if data.endswith(b"\n"):
        parts.pop()
    for number, raw in enumerate(parts, line0):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append((number, "not valid UTF-8 text"))
            continue
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
            if not isinstance(obj, dict):
                raise ValueError("not an object")
        except ValueError as e:
            problems.append((number, f"not a JSON object ({e})"))
            continue
        rows.append(obj)
        lines.append(number)
        if len(rows) >= BATCH_ROWS:
            yield Batch(_json_columns(rows), np.array(lines, dtype=np.int64), problems, done)
            rows, lines, problems = [], [], []
    if rows or problems:
        yield Batch(_json_columns(rows), np.array(lines, dtype=np.int64), problems, done)


def _json_columns(rows):
    import pyarrow as pa
    names = []
    for r in rows:
        for k in r:
            if k not in names:
                names.append(k)
    return {n: pa.array([json_text(r.get(n)) for r in rows], type=pa.string()) for n in names}


def json_text(v):
    """A JSON value as the text the import reads (None stays None)."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(v)


# -- reading ahead --------------------------------------------------------------------------------------------

def ahead(items, depth: int):
    """``items`` produced in a thread, up to ``depth`` ahead: pyarrow parses without the GIL and SQLite writes
    without it, so the next batches are read and converted while this one is written. Closing the generator
    (a cancel, an error) stops the thread; an error in it is raised here."""
    if depth <= 0:
        yield from items
        return
    q = queue.Queue(depth)
    stop = threading.Event()
    end = object()

    def put(x) -> bool:
        while not stop.is_set():
            try:
                q.put(x, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def run():
        try:
            for x in items:
                if not put((x, None)):
                    return
            put((end, None))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, raised there
            put((None, e))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=run, name="import-reader", daemon=True)
    worker.start()
    try:
        while True:
            x, err = q.get()
            if err is not None:
                raise err
            if x is end:
                return
            yield x
    finally:
        stop.set()
        worker.join()


# -- converting -----------------------------------------------------------------------------------------------

class TimeParser:
    """Epoch ms of a batch's time column; remembers which of Arrow's parses worked for the previous batch."""

    def __init__(self, unit, zone):
        self.unit, self.zone, self.attempt = unit, zone, 0

    def __call__(self, col, lines, bad):
        """``(ms int64, ok bool)``; ``bad(line, why)`` for each row that fails."""
        import pyarrow as pa
        import pyarrow.compute as pc
        n = len(col)
        if pa.types.is_timestamp(col.type):
            arr = col if col.type.tz else pc.assume_timezone(col, timezone=self.zone, ambiguous="earliest",
                                                             nonexistent="earliest")
            return _report_bad(*_floor_ms(arr), lines, bad, "no time")
        if self.unit != "iso":
            try:
                x = np.asarray(pc.cast(col, pa.float64(), safe=False).fill_null(math.nan)
                               .to_numpy(zero_copy_only=False), dtype=np.float64)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                x = np.array([_float_or_nan(v) for v in col.to_pylist()], dtype=np.float64)
            valid = np.isfinite(x)
            ms = np.zeros(n, dtype=np.int64)
            ms[valid] = np.round(x[valid] * _UNIT_TO_MS[self.unit]).astype(np.int64)
            return _report_bad(ms, valid, lines, bad, f"time is not a number of {self.unit}")
        text = col if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) else \
            pc.cast(col, pa.string())
        # microseconds take up to 6 decimals (milliseconds only 3); zoned text first, then local in the zone
        attempts = (pa.timestamp("us", tz="UTC"), pa.timestamp("us"))
        for k in range(len(attempts)):
            a = (self.attempt + k) % len(attempts)
            try:
                ts = pc.cast(text, attempts[a])
                if not attempts[a].tz:
                    ts = pc.assume_timezone(ts, timezone=self.zone, ambiguous="earliest", nonexistent="earliest")
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
            self.attempt = a
            return _report_bad(*_floor_ms(ts), lines, bad, "no time")
        # mixed or malformed: row by row (only for this batch)
        import pytz
        tz = pytz.timezone(self.zone)
        ms = np.zeros(n, dtype=np.int64)
        valid = np.zeros(n, dtype=bool)
        for i, v in enumerate(text.to_pylist()):
            try:
                dt = parse_datetime(v, tz)
                ms[i], valid[i] = to_ms(dt), True
            except (ValueError, TypeError, AttributeError, ChannelsError):
                bad(int(lines[i]), f"time {v!r} is not a date-time")
        return ms, valid


def _floor_ms(ts):
    """``(ms int64, valid bool)`` of a timestamp array of any unit (floored to the millisecond, as ``to_ms``)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    per_ms = {"s": None, "ms": 1, "us": 1000, "ns": 1_000_000}[ts.type.unit]
    raw = pc.cast(ts, pa.int64())
    valid = ~np.asarray(pc.is_null(raw).to_numpy(zero_copy_only=False), dtype=bool)
    x = np.asarray(raw.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
    return (x * 1000 if per_ms is None else x // per_ms), valid


def _report_bad(ms, valid, lines, bad, why):
    for i in np.flatnonzero(~valid):
        bad(int(lines[i]), why)
    return ms, valid


def _float_or_nan(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def floats(col, lines, ok, bad, name):
    """``(float64 values, present bool)`` of a numeric column: one Arrow cast; only a batch with a field Arrow
    does not read as a number goes row by row (Python's ``float``), each non-number reported and its row
    cleared in ``ok``. Missing (empty) fields are not present."""
    import pyarrow as pa
    import pyarrow.compute as pc
    t = col.type
    if (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_null(t) or pa.types.is_string(t) or
            pa.types.is_large_string(t)):
        try:
            x = pc.cast(col, pa.float64(), safe=False)
            present = ~np.asarray(pc.is_null(x).to_numpy(zero_copy_only=False), dtype=bool)
            return np.asarray(x.fill_null(math.nan).to_numpy(zero_copy_only=False), dtype=np.float64), present
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    n = len(col)
    out = np.full(n, math.nan)
    present = np.zeros(n, dtype=bool)
    for i, v in enumerate(col.to_pylist()):
        if v is None or v == "":
            continue
        try:
            out[i] = float(v)
            present[i] = True
        except (TypeError, ValueError):
            if ok[i]:
                bad(int(lines[i]), f"column {name!r}: {v!r} is not a number")
            ok[i] = False
    return out, present


def texts(col) -> list:
    """The values of a column that is not numeric (None = missing): text as it is, numbers (which only a block of
    JSON lines parsed by Arrow gives here) as their JSON text, the values of other Parquet types as they are."""
    import pyarrow as pa
    values = col.to_pylist()
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        return [json_text(v) for v in values]
    return values


def convert(b: Batch, time_column, value_columns, numeric, parse_time, now_ms) -> Batch:
    """Fill ``b.ms``, ``b.ok`` and ``b.values``; rows that fail go to ``b.problems``."""
    import pyarrow as pa
    n = len(b.lines)
    bad = _collector(b.problems)
    col = b.columns.get(time_column)
    ms, ok = parse_time(col if col is not None else pa.nulls(n, pa.string()), b.lines, bad)
    future = ok & (ms > now_ms)
    for i in np.flatnonzero(future):
        bad(int(b.lines[i]), f"time {from_ms(int(ms[i])).isoformat()} is in the future")
    ok &= ~future
    for c in value_columns:
        col = b.columns.get(c)
        if col is None:
            col = pa.nulls(n, pa.string())
        b.values[c] = floats(col, b.lines, ok, bad, c) if numeric[c] else texts(col)
    b.ms, b.ok = ms, ok
    return b


def _collector(problems):
    def bad(line, why):
        problems.append((line, why))
    return bad


__all__ = ["Batch", "batches", "convert", "check_csv", "parquet_rows", "ahead", "TimeParser", "ImportError_",
           "BATCH_ROWS", "BLOCK_BYTES"]
