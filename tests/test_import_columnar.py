"""The columnar import (issue 25): batches parsed by Arrow and written as arrays give the instances, reports and
line numbers of reading row by row — on a file with bad rows, gaps and local times spread over many batches,
as CSV and as JSON lines, with and without reading ahead — and Parquet times finer than a millisecond import
(floored to the millisecond) instead of failing."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import channels.importing as importing
from channels import ChannelManager, StreamId, TimeInterval, TimeIntervals, UTC
from channels.errors import CancelledError
from channels.importing import ImportSpec, import_file

pa = pytest.importorskip("pyarrow")
LONDON = ZoneInfo("Europe/London")
START = datetime(2024, 6, 1)        # summer time: local = UTC + 1 h


def _db(tmp_path):
    manager = ChannelManager.open(str(tmp_path / "store.sqlite"))
    return manager, manager.get_channel("mongo")


def _rows(first_line, n=1200):
    """``(fields per data row, expected)``: local times 7 s apart with gaps, non-numbers, bad times, a ragged
    row and a second value for a timestamp; expected = {stream: [(utc time, value)]} and the malformed lines."""
    rows, temp, hum, bad = [], [], [], []
    for i in range(n):
        line = first_line + i
        local = START + timedelta(seconds=7 * i)
        t, h = f"{20 + i / 8:.3f}", f"{40 + i % 17}.5"
        when = local.isoformat(sep=" ")
        if i == 700:                                   # the time of the row before: a second value
            when = (local - timedelta(seconds=7)).isoformat(sep=" ")
        if i % 97 == 5:
            t = ""                                     # a gap: no temperature in this row, humidity kept
        if i % 131 == 9:
            h = "x7"                                  # not a number ("n/a" would be a gap: Arrow's null)
        if i % 211 == 3:
            when = "yesterday"
        ragged = i == 500
        rows.append(None if ragged else (when, t, h))
        if ragged or h == "x7" or when == "yesterday" or i == 700:
            bad.append(line)
            continue
        utc = local.replace(tzinfo=LONDON).astimezone(UTC)
        if t:
            temp.append((utc, float(t)))
        hum.append((utc, float(h)))
    return rows, {"temp": temp, "hum": hum}, bad


def _write(tmp_path, fmt, rows):
    if fmt == "csv":
        text = "time,temp,hum\n" + "".join("2024-06-01 00:00:00,1,2,3\n" if r is None else ",".join(r) + "\n"
                                           for r in rows)
    else:
        out = []
        for r in rows:
            if r is None:
                out.append("{not json")
                continue
            obj = {"time": r[0], "hum": r[2] if r[2] == "x7" else float(r[2])}
            if r[1]:
                obj["temp"] = float(r[1])
            out.append(json.dumps(obj))
        text = "\n".join(out) + "\n"
    path = tmp_path / f"readings.{fmt}"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("prefetch", [0, 2])
def test_many_batches_with_bad_rows_gaps_and_local_times_give_the_row_by_row_result(tmp_path, monkeypatch, fmt,
                                                                                   prefetch):
    monkeypatch.setattr(importing, "CSV_BLOCK_BYTES", 1 << 12)     # ~100 rows a batch: a dozen batches
    monkeypatch.setattr(importing, "PREFETCH", prefetch)
    first = 2 if fmt == "csv" else 1                                # the CSV header is line 1
    rows, expected, bad = _rows(first)
    path = _write(tmp_path, fmt, rows)
    manager, db = _db(tmp_path)
    fractions = []
    report = import_file(db, ImportSpec(path, "time", ["temp", "hum"], zone="Europe/London"),
                         progress=lambda f, r: fractions.append(f))
    assert len(fractions) > 5 and fractions == sorted(fractions)
    assert [line for line, _ in report.malformed] == bad
    assert report.rows_malformed == len(bad)
    reasons = dict(report.malformed)
    assert "'x7' is not a number" in reasons[first + 9] and "'yesterday' is not a date-time" in reasons[first + 3]
    assert "a second value at" in reasons[first + 700]
    assert reasons[first + 500] == ("4 fields where the header has 3" if fmt == "csv" else
                            "not a JSON object (Expecting property name enclosed in double quotes: line 1 column 2 "
                            "(char 1))")
    for name, items in expected.items():
        stream = db[StreamId(name)]
        assert stream.window().items() == items
        assert stream.calculated_intervals == TimeIntervals([TimeInterval(items[0][0] - timedelta(milliseconds=1),
                                                                          items[-1][0])])
    assert report.written == {"temp": len(expected["temp"]), "hum": len(expected["hum"])}
    again = import_file(db, ImportSpec(path, "time", ["temp", "hum"], zone="Europe/London"))
    assert again.instances_written == 0 and again.already_stored == len(expected["temp"]) + len(expected["hum"])
    manager.close()


def test_a_stopped_import_leaves_no_reading_thread_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "CSV_BLOCK_BYTES", 1 << 12)
    rows, _, _ = _rows(2)
    path = _write(tmp_path, "csv", rows)
    manager, db = _db(tmp_path)
    cancel = threading.Event()
    with pytest.raises(CancelledError):
        import_file(db, ImportSpec(path, "time", ["temp"]), progress=lambda f, r: cancel.set(), cancel=cancel)
    assert not [t for t in threading.enumerate() if t.name == "import-reader"]
    assert 0 < db[StreamId("temp")].window().count() < 1200
    manager.close()


def test_parquet_times_finer_than_a_millisecond_are_floored_to_it(tmp_path):
    import pyarrow.parquet as pq
    base = datetime(2024, 3, 1, tzinfo=UTC)
    us = [base + timedelta(microseconds=1500 * k + 250) for k in range(1, 5)]
    pq.write_table(pa.table({"ts": pa.array(us, pa.timestamp("us", tz="UTC")), "x": [1.0, 2.0, 3.0, 4.0]}),
                   tmp_path / "fine.parquet")
    naive = [datetime(2024, 7, 1, 12, 0, 0, 999_999), datetime(2024, 7, 1, 12, 0, 1, 1)]
    pq.write_table(pa.table({"ts": pa.array(naive, pa.timestamp("ns")), "y": [5.0, 6.0]}), tmp_path / "local.parquet")
    manager, db = _db(tmp_path)
    import_file(db, ImportSpec(str(tmp_path / "fine.parquet"), "ts", ["x"]))
    assert db[StreamId("x")].window().timestamps() == [t.replace(microsecond=t.microsecond // 1000 * 1000) for t in us]
    import_file(db, ImportSpec(str(tmp_path / "local.parquet"), "ts", ["y"], zone="Europe/London"))
    assert db[StreamId("y")].window().timestamps() == [datetime(2024, 7, 1, 11, 0, 0, 999_000, tzinfo=UTC),
                                                       datetime(2024, 7, 1, 11, 0, 1, tzinfo=UTC)]
    manager.close()


def test_iso_times_with_microseconds_and_offsets_import_as_arrays(tmp_path):
    path = tmp_path / "fine.csv"
    path.write_text("time,v\n2024-03-01T00:00:00.123456Z,1\n2024-03-01T01:00:00.9999+01:00,2\n")
    manager, db = _db(tmp_path)
    import_file(db, ImportSpec(str(path), "time", ["v"]))
    base = datetime(2024, 3, 1, tzinfo=UTC)
    assert db[StreamId("v")].window().timestamps() == [base + timedelta(milliseconds=123),
                                                       base + timedelta(milliseconds=999)]
    manager.close()


def test_json_lines_keep_text_as_text_and_refuse_booleans_as_numbers(tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "CSV_BLOCK_BYTES", 1 << 10)
    lines = [json.dumps({"time": f"2024-03-01T00:{i // 60:02d}:{i % 60:02d}Z", "v": i + 0.5,
                         "note": "2024-03-01T00:00:00" if i == 40 else {"k": i} if i == 41 else f"n{i}"})
             for i in range(60)]
    lines[50] = json.dumps({"time": "2024-03-01T00:00:50Z", "v": True, "note": "x"})
    lines[51] = ""                                                   # a blank line: skipped, not malformed
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n")
    manager, db = _db(tmp_path)
    report = import_file(db, ImportSpec(str(path), "time", ["v", "note"]))
    assert report.malformed == [(51, "column 'v': 'true' is not a number")]
    notes = db[StreamId("note")].window().values()
    assert notes[40] == "2024-03-01T00:00:00" and notes[41] == '{"k": 41}' and notes[0] == "n0"
    assert db[StreamId("v")].window().values() == [i + 0.5 for i in range(60) if i not in (50, 51)]
    manager.close()


def test_a_quoted_field_broken_across_read_blocks_still_imports_nothing(tmp_path, monkeypatch):
    # the check before writing scans the bytes; a quote makes it read the file with pyarrow as the import would
    monkeypatch.setattr(importing, "CSV_BLOCK_BYTES", 1 << 12)
    rows = [f'2024-03-01T00:{i // 60:02d}:{i % 60:02d}Z,{i},"line a\nline b {i}"' for i in range(300)]
    path = tmp_path / "notes.csv"
    path.write_text("time,v,note\n" + "\n".join(rows) + "\n")
    manager, db = _db(tmp_path)
    with pytest.raises(importing.ImportError_, match="cannot be read past line .*nothing was imported"):
        import_file(db, ImportSpec(str(path), "time", ["v"]))
    assert list(db.streams) == []
    manager.close()


@pytest.mark.parametrize("damage", ["cut short", "bytes missing in the middle"])
def test_a_damaged_parquet_file_imports_nothing(tmp_path, monkeypatch, damage):
    import pyarrow.parquet as pq
    import channels.import_reading as reading
    monkeypatch.setattr(reading, "BATCH_ROWS", 100)    # many batches: the damage lies after the first ones
    t0 = datetime(2024, 3, 1, tzinfo=UTC)
    path = tmp_path / "readings.parquet"
    pq.write_table(pa.table({"time": pa.array([t0 + timedelta(seconds=i) for i in range(1000)], pa.timestamp("ms", "UTC")),
                             "v": [i * 0.5 for i in range(1000)]}), path, row_group_size=100, compression="none")
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2] if damage == "cut short" else data[:len(data) * 3 // 4] + data[len(data) * 3 // 4 + 200:])
    manager, db = _db(tmp_path)
    with pytest.raises(importing.ImportError_, match="readings.parquet.*(damaged|could not be read)"):
        import_file(db, ImportSpec(str(path), "time", ["v"]))
    assert list(db.streams) == []
    manager.close()
