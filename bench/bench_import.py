"""Benchmark: import a large file (ISO times + 2 float columns) into the embedded store, as CSV, Parquet and
JSON lines, against pyarrow's own read of the same file; memory flat.

The three files hold the same rows (the CSV is ``--size-mb`` large; the Parquet file stores the time as a
timestamp column, the JSON lines as ISO text). For each format it prints, from this one process:

* pyarrow's own read of the file (streaming, default options, threads: ``pyarrow.csv.open_csv``,
  ``ParquetFile.iter_batches``, ``pyarrow.json.open_json``) — the read limit;
* the import (``channels.importing.import_file``): seconds, MB/s, rows/s, and ``import / read``;
* the store's own columnar write of the same arrays (``insert_arrays`` of every batch, already parsed: the
  write limit of the embedded store -- array blocks, see :mod:`channels.stores.sqlite_blocks`) and
  ``import / store write``;
* the store file's size and the MB the import wrote to disk (``/proc/self/io``: the WAL and its checkpoints into
  the file -- a bulk write is bound by them, hence the encoded blocks of :mod:`channels.stores.block_codec`);
* RSS before the import, its peak during the import (sampled every 20 ms) and the growth.

    python bench/bench_import.py [--size-mb 1024] [--formats csv,parquet,jsonl] [--keep DIR]
    python bench/bench_import.py --smoke      # a 1 MB file: does it run? (no timing claims)
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import numpy as np  # noqa: E402

from channels import ChannelManager, StreamId  # noqa: E402
from channels.importing import ImportSpec, import_file  # noqa: E402

T0_MS = 1_577_836_800_000          # 2020-01-01T00:00:00Z, one row per second from there
BLOCK_ROWS = 500_000
COLUMNS = ["temperature", "humidity"]


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def written_mb() -> float:
    """MB this process has caused to be written to storage so far (``/proc/self/io``; NaN where there is none)."""
    try:
        with open("/proc/self/io") as f:
            return next(int(x.split()[1]) for x in f if x.startswith("write_bytes")) / 2 ** 20
    except (OSError, StopIteration):
        return float("nan")


def _block(i, n, rng):
    """One block of rows as Arrow arrays: ISO time text, the time as a timestamp, two floats as arrays and text."""
    import pyarrow as pa
    import pyarrow.compute as pc
    ms = T0_MS + (np.arange(i, i + n, dtype=np.int64) * 1000)
    ts = pa.array(ms, pa.timestamp("ms", tz="UTC"))
    iso = pc.utf8_replace_slice(pc.cast(pa.array(ms, pa.timestamp("ms")), pa.string()), 10, 11, "T")
    a = np.round(20 + rng.standard_normal(n), 3)
    b = np.round(50 + 5 * rng.standard_normal(n), 2)
    return ts, iso, a, b


def _write_text(f, arr):
    """Write a string array whose values each end in a newline, straight from its buffers."""
    import pyarrow as pa
    arr = arr.cast(pa.large_string()) if arr.type != pa.large_string() else arr
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=len(arr) + 1, offset=arr.offset * 8)
    f.write(memoryview(arr.buffers()[2])[offsets[0]:offsets[-1]])


def make_files(folder, mb, formats):
    """The CSV of ``mb`` MB and the same rows as Parquet and JSON lines; ``{format: path}``."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    paths = {"csv": os.path.join(folder, "big.csv"), "parquet": os.path.join(folder, "big.parquet"),
             "jsonl": os.path.join(folder, "big.jsonl")}
    if all(os.path.exists(paths[f]) for f in formats):
        return paths
    rng = np.random.default_rng(1)
    schema = pa.schema([("time", pa.timestamp("ms", tz="UTC")), ("temperature", pa.float64()),
                        ("humidity", pa.float64())])
    with open(paths["csv"], "wb") as fc, open(paths["jsonl"], "wb") as fj, \
            pq.ParquetWriter(paths["parquet"], schema) as fp:
        fc.write(b"time,temperature,humidity\n")
        i = 0
        while fc.tell() < mb * 2 ** 20:
            n = max(1, min(BLOCK_ROWS, int((mb * 2 ** 20 - fc.tell()) / 30) + 1))
            ts, iso, a, b = _block(i, n, rng)
            sa, sb = pc.cast(pa.array(a), pa.string()), pc.cast(pa.array(b), pa.string())
            _write_text(fc, pc.binary_join_element_wise(iso, ",", sa, ",", sb, "\n", ""))
            _write_text(fj, pc.binary_join_element_wise('{"time":"', iso, '","temperature":', sa, ',"humidity":',
                                                        sb, "}\n", ""))
            fp.write_table(pa.table([ts, pa.array(a), pa.array(b)], schema=schema))
            i += n
    return paths


def pyarrow_read(path, fmt) -> int:
    """pyarrow's own streaming read of the file, default options; the number of rows."""
    if fmt == "csv":
        import pyarrow.csv as pcsv
        return sum(b.num_rows for b in pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=1 << 22)))
    if fmt == "parquet":
        import pyarrow.parquet as pq
        return sum(b.num_rows for b in pq.ParquetFile(path).iter_batches())
    import pyarrow.json as pj
    return sum(b.num_rows for b in pj.open_json(path, read_options=pj.ReadOptions(block_size=1 << 22)))


def store_write(path, fmt, folder) -> float:
    """Seconds the embedded store takes to write the file's rows given as arrays (``insert_arrays``, the
    batches already parsed; the parsing is not timed)."""
    from channels.import_reading import TimeParser, batches, convert
    manager = ChannelManager.open(os.path.join(folder, f"floor_{fmt}.sqlite"))
    db = manager.get_channel("mongo")
    streams = [db.get_or_create_stream(StreamId(f"floor_{c}")) for c in COLUMNS]
    parse, numeric, spent = TimeParser("iso", "UTC"), {c: True for c in COLUMNS}, 0.0
    for b in batches(path, fmt, columns=["time"] + COLUMNS, text_columns=["time"]):
        convert(b, "time", COLUMNS, numeric, parse, 2 ** 62)
        t = time.perf_counter()
        for s, c in zip(streams, COLUMNS):
            db.insert_arrays(s, b.ms, b.values[c][0])
        spent += time.perf_counter() - t
    manager.close()
    return spent


def measure(path, fmt, folder, smoke):
    size = os.path.getsize(path) / 2 ** 20
    t = time.perf_counter()
    rows = pyarrow_read(path, fmt)
    t_read = time.perf_counter() - t
    manager = ChannelManager.open(os.path.join(folder, f"store_{fmt}.sqlite"))
    db = manager.get_channel("mongo")
    before = rss_mb()
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    marks = []
    w0, t = written_mb(), time.perf_counter()
    report = import_file(db, ImportSpec(path, "time", COLUMNS),
                         progress=lambda f, r: marks.append(rss_mb()))
    t_imp = time.perf_counter() - t
    done.set()
    sampler.join()
    manager.close()
    written = written_mb() - w0
    store_mb = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)
                   if f.startswith(f"store_{fmt}.sqlite")) / 2 ** 20
    t_store = store_write(path, fmt, folder)
    print(f"{fmt:8s} {size:8,.0f} MB  {rows:,} rows -> {report.instances_written:,} instances "
          f"(malformed {report.rows_malformed})")
    print(f"         pyarrow's own read {t_read:7.2f} s ({size / t_read:6.1f} MB/s)")
    print(f"         import             {t_imp:7.2f} s ({size / t_imp:6.1f} MB/s, {rows / t_imp:,.0f} rows/s)  "
          f"import / read = {t_imp / t_read:.1f}x")
    print(f"         store file {store_mb:,.0f} MB; {written:,.0f} MB written to disk by the import and its close "
          f"(WAL, checkpoints)")
    print(f"         store write alone  {t_store:7.2f} s ({2 * rows / t_store:,.0f} instances/s)  "
          f"import / store write = {t_imp / t_store:.2f}x")
    q = [marks[min(len(marks) - 1, int(x * len(marks)))] for x in (0.25, 0.5, 0.75, 0.999)] if marks else []
    print(f"         RSS before {before:.0f} MB, peak during import {peak[0]:.0f} MB (+{peak[0] - before:.0f} MB); "
          f"at 25/50/75/100 % of the file: {', '.join(f'{x:.0f}' for x in q)} MB")
    return t_read, t_imp


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", "--mb", type=float, default=1024, dest="size_mb", help="size of the CSV (MB)")
    ap.add_argument("--formats", default="csv,parquet,jsonl")
    ap.add_argument("--keep", help="a folder to keep (and reuse) the generated files in")
    ap.add_argument("--smoke", action="store_true", help="a 1 MB file: does it run? (no timing claims)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.size_mb = 1
        print("(smoke run: tiny sizes; no timing claims, the figures below mean nothing)")
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    tmp = tempfile.mkdtemp()
    folder = args.keep or tmp
    os.makedirs(folder, exist_ok=True)
    try:
        t = time.perf_counter()
        paths = make_files(folder, args.size_mb, formats)
        print(f"files ready in {time.perf_counter() - t:.1f} s: " +
              ", ".join(f"{f} {os.path.getsize(paths[f]) / 2 ** 20:,.0f} MB" for f in formats))
        for fmt in formats:
            measure(paths[fmt], fmt, tmp, args.smoke)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
