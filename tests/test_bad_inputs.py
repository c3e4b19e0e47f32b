"""Issue 27: every bad input gets one clear error naming the file/field/value, and changes nothing.

CSV import (rule: what is valid is imported and the rest reported; a file that cannot be read to its end
imports nothing; a file with nothing importable is an error and leaves no stream), configuration files and
URIs, workflow documents, and TimeInterval arithmetic past year 9999. The workspace cases are in
tests/gui/test_bad_inputs_gui.py."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

import pytest

import channels.importing as importing
from channels import ChannelManager, StreamId, TimeInterval, UTC
from channels.config import Config
from channels.errors import ConfigError, TimeError
from channels.importing import ImportError_, ImportSpec, import_file
from channels.stores.mongo_store import MongoStore
from channels.workflows.model import load_model

pa = pytest.importorskip("pyarrow")
mongomock = pytest.importorskip("mongomock")

BLOCK = 1 << 16


def _db(tmp_path):
    manager = ChannelManager.open(str(tmp_path / "store.sqlite"))
    return manager, manager.get_channel("mongo")


def _rows(n, start=0, day=1):
    return b"".join(b"2020-01-%02dT%02d:%02d:%02dZ,%d\n" % (day, (i // 3600) % 24, (i // 60) % 60, i % 60, i)
                    for i in range(start, start + n))


def _names(channel):
    return sorted(str(s) for s in channel.streams)


# -- CSV -----------------------------------------------------------------------------------------------------------

def test_csv_invalid_utf8_after_the_first_block_is_one_reported_row_and_the_rest_is_imported(tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "CSV_BLOCK_BYTES", BLOCK)          # the 4 MB block, small: same effect
    path = tmp_path / "sensor.csv"
    head = b"time,v\n" + _rows(3000)                                    # > one block
    assert len(head) > BLOCK
    path.write_bytes(head + b"2020-01-02T00:00:00Z,\xff\xfe\n" + _rows(500, day=3))
    manager, db = _db(tmp_path)
    report = import_file(db, ImportSpec(str(path), "time", ["v"]))
    bad_line = 2 + 3000
    assert report.rows_malformed == 1 and report.malformed[0][0] == bad_line
    assert "not valid UTF-8" in report.malformed[0][1] and "'v'" in report.malformed[0][1]
    assert report.written == {"v": 3500}                                # the valid rest is imported
    assert f"line {bad_line}" in report.describe()
    manager.close()


def test_csv_a_row_longer_than_the_read_block_imports_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "CSV_BLOCK_BYTES", BLOCK)
    path = tmp_path / "nul.csv"
    path.write_bytes(b"time,v\n" + _rows(5) + b"\x00" * (3 * BLOCK))   # straddles two block boundaries
    manager, db = _db(tmp_path)
    with pytest.raises(ImportError_) as ei:
        import_file(db, ImportSpec(str(path), "time", ["v"]))
    msg = str(ei.value)
    assert str(path) in msg and "cannot be read past line" in msg and "NUL" in msg and "nothing was imported" in msg
    assert "ArrowInvalid" not in msg
    assert _names(db) == []                                             # no definition, no instance
    manager.close()
    again = ChannelManager.open(str(tmp_path / "store.sqlite"))
    assert _names(again.get_channel("mongo")) == []
    again.close()


def test_csv_unknown_time_zone_is_refused_before_anything(tmp_path):
    path = tmp_path / "naive.csv"
    path.write_bytes(b"time,v\n2020-01-01T00:00:00,1\n2020-01-01T00:00:01,2\n")
    manager, db = _db(tmp_path)
    with pytest.raises(ImportError_) as ei:
        import_file(db, ImportSpec(str(path), "time", ["v"], zone="Mars/Olympus_Mons"))
    assert "'Mars/Olympus_Mons'" in str(ei.value) and "time zone" in str(ei.value)
    assert "UnknownTimeZoneError" not in str(ei.value)
    assert _names(db) == []
    manager.close()


def test_csv_whose_rows_are_all_malformed_is_an_error_and_creates_no_stream(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(b"time,v\nyesterday,1\nnot a time,2\n2020-01-01T00:00:00Z,x,y,z\n")
    manager, db = _db(tmp_path)
    with pytest.raises(ImportError_) as ei:
        import_file(db, ImportSpec(str(path), "time", ["v"], time_unit="iso"))
    msg = str(ei.value)
    assert str(path) in msg and "none of its" in msg and "nothing was written" in msg and "line 2" in msg
    assert ei.value.report.rows_malformed == 3
    assert _names(db) == []
    manager.close()


def test_jsonl_invalid_utf8_is_one_reported_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"time": "2020-01-01T00:00:00Z", "v": 1}\n{"time": "\xff", "v": 2}\n'
                     b'{"time": "2020-01-01T00:00:02Z", "v": 3}\n')
    manager, db = _db(tmp_path)
    report = import_file(db, ImportSpec(str(path), "time", ["v"]))
    assert report.malformed == [(2, "not valid UTF-8 text")] and report.written == {"v": 2}
    manager.close()


# -- configuration ----------------------------------------------------------------------------------------------------

def _config(tmp_path, raw, name="hyperstream_config.json"):
    path = tmp_path / name
    path.write_text(json.dumps(raw)) if not isinstance(raw, bytes) else path.write_bytes(raw)
    return str(path)


def test_config_timeout_that_is_not_a_number(tmp_path):
    path = _config(tmp_path, {"mongo": {"host": "localhost", "serverSelectionTimeoutMS": "soon"}})
    with pytest.raises(ConfigError) as ei:
        Config.load(path)
    assert path in str(ei.value) and "mongo.serverSelectionTimeoutMS" in str(ei.value) and "'soon'" in str(ei.value)


def test_config_in_utf16_names_the_file(tmp_path):
    path = _config(tmp_path, json.dumps({"store": {"sqlite": "x.sqlite"}}).encode("utf-16"))
    with pytest.raises(ConfigError) as ei:
        Config.load(path)
    assert path in str(ei.value) and "UTF-16" in str(ei.value) and "UTF-8" in str(ei.value)


def test_config_port_true_is_not_port_1(tmp_path):
    path = _config(tmp_path, {"mongo": {"host": "localhost", "port": True}})
    with pytest.raises(ConfigError) as ei:
        Config.load(path)
    assert "mongo.port" in str(ei.value) and "True" in str(ei.value) and path in str(ei.value)
    with pytest.raises(ConfigError) as ei:
        MongoStore.from_config({"mongo": {"host": "localhost", "port": True}}, client_class=mongomock.MongoClient)
    assert "mongo.port" in str(ei.value)


def test_uri_timeout_that_is_not_a_number_is_refused_not_30_seconds(tmp_path):
    # refused as a ConfigError before any server is tried (how long that takes: bench/bench_connect_failures.py)
    uri = "mongodb://127.0.0.1:9/hs?serverSelectionTimeoutMS=abc"
    with pytest.raises(ConfigError) as ei:
        ChannelManager.open(uri)
    assert "serverSelectionTimeoutMS" in str(ei.value) and "'abc'" in str(ei.value)
    path = _config(tmp_path, {"store": {"mongo_uri": uri}})
    with pytest.raises(ConfigError) as ei:
        Config.load(path)
    assert "serverSelectionTimeoutMS" in str(ei.value) and path in str(ei.value)


def test_missing_tls_key_file_is_named(tmp_path):
    missing = str(tmp_path / "nope" / "client.pem")
    with pytest.raises(ConfigError) as ei:
        MongoStore.from_uri(f"mongodb://127.0.0.1:9/hs?tls=true&tlsCertificateKeyFile={missing}")
    assert missing in str(ei.value) and "tlsCertificateKeyFile" in str(ei.value)
    path = _config(tmp_path, {"mongo": {"host": "localhost", "tls": True, "tlsCertificateKeyFile": missing}})
    with pytest.raises(ConfigError) as ei:
        Config.load(path)
    assert missing in str(ei.value) and path in str(ei.value)


# -- workflow documents ---------------------------------------------------------------------------------------------

class _Docs:
    """A store as load_model reads it: documents by collection."""

    def __init__(self, **collections):
        self.collections = collections

    def list_documents(self, name):
        return [json.loads(json.dumps(d)) for d in self.collections.get(name, [])]


def _workflow(wid="good", **changes):
    d = {"workflow_id": wid, "name": wid,
         "nodes": [{"stream_name": "x", "plate_ids": [], "channel_id": "mongo"},
                   {"stream_name": "y", "plate_ids": [], "channel_id": "mongo"}],
         "factors": [{"tool": {"name": "clock", "version": "0.0.1", "parameters": [{"key": "stride", "value": 1}]},
                      "factor_type": "Factor", "sources": ["x"], "sinks": ["y"]}]}
    for path, value in changes.items():
        target = d
        keys = path.split("__")
        for k in keys[:-1]:
            target = target[int(k)] if k.isdigit() else target[k]
        target[int(keys[-1]) if keys[-1].isdigit() else keys[-1]] = value
    return d


WRONG_TYPES = [
    ({"nodes": {"x": 1}}, "nodes must be a list"),
    ({"factors": "clock"}, "factors must be a list"),
    ({"nodes__0": "x"}, "node 0 must be an object"),
    ({"factors__0": ["clock"]}, "factor 0 must be an object"),
    ({"factors__0__sources": "xy"}, "sources must be a list, got text 'xy'"),
    ({"factors__0__tool": "clock"}, "tool must be an object"),
    ({"factors__0__tool__parameters": {"stride": 1}}, "parameters must be a list"),
    ({"nodes__0__plate_ids": "P1"}, "node 0 plate_ids must be a list"),
]


@pytest.mark.parametrize("changes, expected", WRONG_TYPES, ids=[e for _c, e in WRONG_TYPES])
def test_workflow_field_of_the_wrong_type_is_reported_and_the_others_load(changes, expected):
    store = _Docs(workflow_definitions=[_workflow("bad", **changes), _workflow("good")])
    model = load_model(store)
    assert list(model.workflows) == ["good"]
    messages = [m for what, m in model.errors if what == "workflow bad"]
    assert len(messages) == 1 and expected in messages[0] and "'bad'" in messages[0], model.errors


def test_sources_text_is_never_split_into_characters():
    model = load_model(_Docs(workflow_definitions=[_workflow("w", factors__0__sources="xy")]))
    assert "w" not in model.workflows


@pytest.mark.parametrize("field", ["nodes", "factors"])
def test_workflow_with_nothing_to_run_is_reported(field):
    empty = {"nodes": [], "factors": []} if field == "nodes" else {"factors": []}
    model = load_model(_Docs(workflow_definitions=[_workflow("empty", **empty), _workflow("good")]))
    assert list(model.workflows) == ["good"]
    assert any(what == "workflow empty" and f"no {field}" in m for what, m in model.errors)


def test_two_documents_with_one_workflow_id_are_reported_not_the_later_one_used():
    later = _workflow("twin", factors__0__tool__name="sliding_window")
    model = load_model(_Docs(workflow_definitions=[_workflow("twin"), later, _workflow("good")]))
    assert "twin" not in model.workflows and "good" in model.workflows
    assert any(what == "workflow twin" and "2 stored documents" in m for what, m in model.errors)


def test_a_document_that_is_not_an_object_is_reported():
    model = load_model(_Docs(workflow_definitions=["junk", _workflow("good")], workflow_status=["junk"]))
    assert list(model.workflows) == ["good"] and any("must be an object" in m for _w, m in model.errors)


# -- time -------------------------------------------------------------------------------------------------------------

def test_interval_shifted_past_year_9999_is_a_clear_error():
    iv = TimeInterval(datetime(2020, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC))
    with pytest.raises(TimeError) as ei:
        iv + timedelta(days=2)
    assert "9999-12-31T23:59:59" in str(ei.value) and "2 d" in str(ei.value)
    with pytest.raises(TimeError):
        TimeInterval(datetime(1, 1, 2, tzinfo=UTC), datetime(2, 1, 1, tzinfo=UTC)) - timedelta(days=5)
    assert iv == TimeInterval(datetime(2020, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC))
