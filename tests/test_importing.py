"""Importing the user's own files: CSV, Parquet, JSON lines; time columns in every form; malformed rows
reported by line number; cancel and unsorted files keep calculated intervals true."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

import pytest

from channels import ChannelManager, StreamId, TimeInterval, TimeIntervals, UTC
from channels.errors import CancelledError
from channels.importing import ImportError_, ImportSpec, import_file, inspect_file

pa = pytest.importorskip("pyarrow")
T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _db(tmp_path):
    manager = ChannelManager.open(str(tmp_path / "store.sqlite"))
    return manager, manager.get_channel("mongo")


def _csv(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_csv_detects_the_time_column_and_imports_one_stream_per_column(tmp_path):
    path = _csv(tmp_path, "value_a,when,value_b\n1.5,2024-03-01 00:00:01,10\n2.5,2024-03-01 00:00:02,20\n")
    pv = inspect_file(path)
    assert (pv.time_column, pv.time_unit, pv.has_zone) == ("when", "iso", False)
    assert pv.numeric_columns == ["value_a", "value_b"] and pv.rows[0] == ["1.5", "2024-03-01 00:00:01", "10"]
    manager, db = _db(tmp_path)
    report = import_file(db, ImportSpec(path, "when", ["value_a", "value_b"], meta_data=(("house", "1"),)))
    assert report.outcome == "ok" and report.rows_malformed == 0 and report.instances_written == 4
    a = db[StreamId("value_a", {"house": "1"})]
    assert a.window().items() == [(T0 + timedelta(seconds=1), 1.5), (T0 + timedelta(seconds=2), 2.5)]
    assert a.calculated_intervals == TimeIntervals([TimeInterval(T0 + timedelta(seconds=1) - timedelta(milliseconds=1),
                                                                 T0 + timedelta(seconds=2))])
    manager.close()


def test_malformed_rows_are_counted_and_reported_by_line_never_dropped_silently(tmp_path):
    path = _csv(tmp_path, "\n".join([
        "time,temp,label",
        "2024-03-01 00:00:00,20.5,a",    # 2 ok
        "2024-03-01 00:00:01,21",        # 3 missing a field
        "2024-03-01 00:00:02,zz,b",      # 4 not a number
        "yesterday,4,c",                 # 5 not a time
        "2024-03-01 00:00:05,22,e",      # 6 ok
        "2024-03-01 00:00:05,23,f",      # 7 second value for :05
        "2099-01-01 00:00:00,1,g",       # 8 future
        "2024-03-01 00:00:09,30,h",      # 9 ok
    ]) + "\n")
    manager, db = _db(tmp_path)
    report = import_file(db, ImportSpec(path, "time", ["temp", "label"]))
    assert report.rows_read == 7 and report.rows_malformed == 5
    assert [line for line, _ in report.malformed] == [3, 4, 5, 7, 8]
    reasons = dict(report.malformed)
    assert "2 fields where the header has 3" in reasons[3] and "'zz' is not a number" in reasons[4]
    assert "'yesterday' is not a date-time" in reasons[5] and "a second value" in reasons[7]
    assert "in the future" in reasons[8]
    assert db[StreamId("temp")].window().values() == [20.5, 22.0, 30.0]
    assert db[StreamId("label")].window().values() == ["a", "e", "h"]
    assert "5 malformed row(s) not imported (line 3:" in report.describe()
    manager.close()


@pytest.mark.parametrize("unit,scale", [("s", 1), ("ms", 1000), ("us", 10 ** 6), ("ns", 10 ** 9)])
def test_epoch_times_in_every_unit(tmp_path, unit, scale):
    epoch = int(T0.timestamp())
    path = _csv(tmp_path, f"timestamp,v\n{epoch * scale},1\n{(epoch + 1) * scale},2\n")
    pv = inspect_file(path)
    assert (pv.time_column, pv.time_unit) == ("timestamp", unit)
    manager, db = _db(tmp_path)
    import_file(db, ImportSpec(path, "timestamp", ["v"], time_unit=unit))
    assert db[StreamId("v")].window().timestamps() == [T0, T0 + timedelta(seconds=1)]
    manager.close()


def test_iso_times_with_offsets_and_local_times_in_a_chosen_zone(tmp_path):
    path = _csv(tmp_path, "time,v\n2024-03-01T01:00:00+01:00,1\n2024-03-01T00:00:01Z,2\n")
    assert inspect_file(path).has_zone
    manager, db = _db(tmp_path)
    import_file(db, ImportSpec(path, "time", ["v"]))
    assert db[StreamId("v")].window().timestamps() == [T0, T0 + timedelta(seconds=1)]
    local = _csv(tmp_path, "time,w\n2024-07-01 12:00:00,1\n", name="local.csv")
    import_file(db, ImportSpec(local, "time", ["w"], zone="Europe/London"))
    assert db[StreamId("w")].window().timestamps() == [datetime(2024, 7, 1, 11, tzinfo=UTC)]
    manager.close()


def test_dict_mode_writes_one_stream_of_dicts(tmp_path):
    path = _csv(tmp_path, "time,t,h\n2024-03-01 00:00:01,20,40\n2024-03-01 00:00:02,,41\n")
    manager, db = _db(tmp_path)
    import_file(db, ImportSpec(path, "time", ["t", "h"], mode="dict", stream_name="env"))
    assert db[StreamId("env")].window().values() == [{"t": 20.0, "h": 40.0}, {"h": 41.0}]
    manager.close()


def test_parquet_and_json_lines(tmp_path):
    import pyarrow.parquet as pq
    table = pa.table({"ts": pa.array([T0 + timedelta(seconds=i) for i in range(1, 4)], pa.timestamp("ms", tz="UTC")),
                      "x": [1.0, 2.0, 3.0]})
    pq.write_table(table, tmp_path / "d.parquet")
    manager, db = _db(tmp_path)
    pv = inspect_file(str(tmp_path / "d.parquet"))
    assert (pv.time_column, pv.format) == ("ts", "parquet")
    import_file(db, ImportSpec(str(tmp_path / "d.parquet"), "ts", ["x"]))
    assert db[StreamId("x")].window().values() == [1.0, 2.0, 3.0]
    lines = [json.dumps({"time": "2024-03-01T00:00:01Z", "y": 5}), "{not json", json.dumps({"time":
             "2024-03-01T00:00:02Z", "y": 6})]
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n")
    report = import_file(db, ImportSpec(str(tmp_path / "d.jsonl"), "time", ["y"]))
    assert db[StreamId("y")].window().values() == [5.0, 6.0] and report.malformed[0][0] == 2
    manager.close()


def _big_csv(tmp_path, n, shuffled=False):
    rows = [(T0 + timedelta(seconds=i)).isoformat() + f",{i}" for i in range(1, n + 1)]
    if shuffled:
        rows = rows[1::2] + rows[0::2]
    return _csv(tmp_path, "time,v\n" + "\n".join(rows) + "\n", name="big.csv")


def test_cancel_leaves_calculated_intervals_true_to_what_was_written(tmp_path, monkeypatch):
    import channels.importing as imp
    monkeypatch.setattr(imp, "CSV_BLOCK_BYTES", 1 << 15)
    path = _big_csv(tmp_path, 200_000)
    manager, db = _db(tmp_path)
    cancel = threading.Event()
    with pytest.raises(CancelledError):
        import_file(db, ImportSpec(path, "time", ["v"]), progress=lambda f, r: cancel.set(), cancel=cancel)
    stream = db[StreamId("v")]
    items = stream.window().items()
    assert 0 < len(items) < 200_000
    assert stream.calculated_intervals == TimeIntervals([TimeInterval(items[0].timestamp - timedelta(milliseconds=1),
                                                                      items[-1].timestamp)])
    manager.close()


def test_an_unsorted_file_gets_its_calculated_interval_only_when_complete(tmp_path):
    path = _big_csv(tmp_path, 2000, shuffled=True)
    manager, db = _db(tmp_path)
    report = import_file(db, ImportSpec(path, "time", ["v"]))
    assert not report.sorted and report.instances_written == 2000
    stream = db[StreamId("v")]
    assert stream.calculated_intervals == TimeIntervals([TimeInterval(T0 + timedelta(seconds=1) - timedelta(
        milliseconds=1), T0 + timedelta(seconds=2000))])
    # a second import of the same file writes nothing new and reports nothing
    again = import_file(db, ImportSpec(path, "time", ["v"]))
    assert again.rows_malformed == 0 and stream.window().count() == 2000
    manager.close()


def test_bad_requests_name_what_is_wrong(tmp_path):
    path = _csv(tmp_path, "time,v\n2024-03-01 00:00:01,1\n")
    manager, db = _db(tmp_path)
    with pytest.raises(ImportError_, match="no column 'nope'"):
        import_file(db, ImportSpec(path, "time", ["nope"]))
    with pytest.raises(ImportError_, match="at least one value column"):
        import_file(db, ImportSpec(path, "time", []))
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    with pytest.raises(ImportError_, match="cannot tell the format"):
        inspect_file(str(tmp_path / "x.xlsx"))
    with pytest.raises(ImportError_, match="nope.csv does not exist"):
        inspect_file(str(tmp_path / "nope.csv"))
    with pytest.raises(ImportError_, match="is a folder, not a file"):
        inspect_file(str(tmp_path))
    manager.close()


def test_the_preview_shows_ragged_rows_with_their_reason_numbered_by_file_line(tmp_path):
    path = _csv(tmp_path, "time,temp,hum\n"
                          "2024-03-01 00:00:01,20.5,40\n"      # line 2
                          "2024-03-01 00:00:02,21.0\n"         # line 3: one field short
                          "2024-03-01 00:00:03,21.5,41,9\n"    # line 4: one field too many
                          "2024-03-01 00:00:04,22.0,42\n")     # line 5
    pv = inspect_file(path)
    assert pv.lines == [2, 3, 4, 5]
    assert pv.rows[1] == ["2024-03-01 00:00:02", "21.0", ""] and pv.rows[2][:3] == ["2024-03-01 00:00:03", "21.5", "41"]
    assert pv.problems == {3: "2 fields where the header has 3", 4: "4 fields where the header has 3"}
    assert inspect_file(path, rows=2).lines == [2, 3]


def test_a_prefix_ending_in_an_underscore_is_not_doubled():
    assert str(ImportSpec("f.csv", "time", ["pressure"], stream_name="site_").stream_ids()["pressure"]) == \
        "site_pressure"
    assert str(ImportSpec("f.csv", "time", ["pressure"], stream_name="site").stream_ids()["pressure"]) == \
        "site_pressure"


def test_importing_the_same_file_again_reports_nothing_new(tmp_path):
    rows = [f"2024-03-01 00:00:{i:02d},{i},x{i}" for i in range(1, 50)]
    path = _csv(tmp_path, "time,v,label\n" + "\n".join(rows) + "\n")
    manager, db = _db(tmp_path)
    first = import_file(db, ImportSpec(path, "time", ["v", "label"]))
    assert first.instances_written == 98 and first.already_stored == 0
    again = import_file(db, ImportSpec(path, "time", ["v", "label"]))
    assert again.instances_written == 0 and again.already_stored == 98 and again.rows_malformed == 0
    assert "0 new instances" in again.describe() and "98 already stored" in again.describe()
    more = rows + [f"2024-03-01 00:00:{i:02d},{i},x{i}" for i in range(50, 55)]
    (tmp_path / "data.csv").write_text("time,v,label\n" + "\n".join(more) + "\n")
    grown = import_file(db, ImportSpec(path, "time", ["v", "label"]))
    assert grown.written == {"v": 5, "label": 5} and grown.already_stored == 98
    memory = manager.get_channel("memory")
    assert import_file(memory, ImportSpec(path, "time", ["v"])).instances_written == 54
    assert import_file(memory, ImportSpec(path, "time", ["v"])).instances_written == 0
    manager.close()
