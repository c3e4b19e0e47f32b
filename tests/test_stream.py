"""StreamId, get_stream_id, StreamInstance, Stream, StreamView and StreamDict."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from channels import (MIN_DATE, UTC, MemoryChannel, RelativeTimeInterval, Stream, StreamDict, StreamId,
                      StreamIdError, StreamInstance, StreamView, TimeError, TimeInterval, TimeIntervals,
                      get_stream_id, utcnow)

T0 = datetime(2017, 6, 20, tzinfo=UTC)


def t(k: float) -> datetime:
    return T0 + timedelta(seconds=k)


# ---------------------------------------------------------------------------
# StreamId
# ---------------------------------------------------------------------------

def test_stream_id_equality_ignores_meta_data_order():
    a = StreamId("temperature", [("house", "1"), ("room", "kitchen")])
    b = StreamId("temperature", [("room", "kitchen"), ("house", "1")])
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert StreamId("temperature", {"room": "kitchen", "house": "1"}) == a


def test_stream_id_inequality():
    a = StreamId("temperature", {"house": "1"})
    assert a != StreamId("temperature", {"house": "2"})
    assert a != StreamId("humidity", {"house": "1"})
    assert a != StreamId("temperature")
    assert a != "temperature: [house=1]"


def test_stream_id_as_dict_as_raw_and_str():
    sid = StreamId("temperature", [("house", "1"), ("room", "kitchen")])
    assert sid.name == "temperature"
    assert sid.as_dict() == {"name": "temperature", "meta_data": {"house": "1", "room": "kitchen"}}
    assert sid.as_raw() == {"name": "temperature", "meta_data": [["house", "1"], ["room", "kitchen"]]}
    assert str(sid) == "temperature: [house=1, room=kitchen]"
    assert str(StreamId("clock")) == "clock"
    assert StreamId("clock").as_raw() == {"name": "clock", "meta_data": []}


def test_stream_id_numeric_meta_values_equal_their_text():
    assert StreamId("s", {"house": 1}) == StreamId("s", {"house": "1"})


def test_get_stream_id_from_str_dict_and_stream_id():
    sid = StreamId("temperature", {"house": "1", "room": "kitchen"})
    assert get_stream_id(sid) is sid
    assert get_stream_id("temperature: [house=1, room=kitchen]") == sid
    assert get_stream_id("temperature: [room=kitchen, house=1]") == sid
    assert get_stream_id("clock") == StreamId("clock")
    assert get_stream_id({"name": "temperature", "meta_data": {"house": "1", "room": "kitchen"}}) == sid
    assert get_stream_id({"name": "temperature", "meta_data": [["house", "1"], ["room", "kitchen"]]}) == sid
    assert get_stream_id(sid.as_raw()) == sid
    assert get_stream_id(sid.as_dict()) == sid
    assert get_stream_id({"name": "clock"}) == StreamId("clock")


@pytest.mark.parametrize("sid", [
    StreamId("clock"),
    StreamId("temperature", {"house": "1"}),
    StreamId("sliding window mean", [("house", "1"), ("resident", "r 2"), ("sensor", "env_0.5")]),
    StreamId("t", {"empty": ""}),
])
def test_get_stream_id_round_trips_str(sid):
    back = get_stream_id(str(sid))
    assert back == sid
    assert str(back) == str(sid)


@pytest.mark.parametrize("name, meta", [
    ("house:1 temperature", {}),           # a colon in the name
    ("s", {"residents": "r1, b=2"}),       # a comma and '=' in a value: str() looks like two pairs
    ("s", {"note": "[x]"}),                # brackets in a value
])
def test_stream_id_with_special_characters_round_trips_or_is_rejected(name, meta):
    """Either StreamId refuses text that str() cannot represent, or str() reads back as the same id.

    Silently reading back a *different* id would make two streams share one text key.
    """
    try:
        sid = StreamId(name, meta)
    except StreamIdError as e:
        assert name in str(e) or any(v in str(e) for v in meta.values())
        return
    assert get_stream_id(str(sid)) == sid


@pytest.mark.parametrize("bad", ["", "   ", None, 42])
def test_stream_id_rejects_bad_names_naming_them(bad):
    with pytest.raises(StreamIdError) as ei:
        StreamId(bad)
    assert repr(bad) in str(ei.value)


def test_stream_id_rejects_malformed_meta_pairs_naming_them():
    with pytest.raises(StreamIdError) as ei:
        StreamId("s", [("house",)])
    assert "('house',)" in str(ei.value)
    assert "'s'" in str(ei.value)


def test_stream_id_rejects_non_pair_meta_naming_the_value():
    with pytest.raises(StreamIdError) as ei:
        StreamId("s", "house=1")
    assert "house=1" in str(ei.value)


def test_stream_id_rejects_bad_meta_values_and_keys_naming_them():
    with pytest.raises(StreamIdError) as ei:
        StreamId("s", {"house": [1, 2]})
    assert "house" in str(ei.value) and "[1, 2]" in str(ei.value)
    with pytest.raises(StreamIdError) as ei:
        StreamId("s", [(3, "x")])
    assert "3" in str(ei.value)
    with pytest.raises(StreamIdError) as ei:
        StreamId("s", [("house", "1"), ("house", "2")])
    assert "'house'" in str(ei.value)


@pytest.mark.parametrize("bad", [42, 3.5, ["a", "b"]])
def test_get_stream_id_rejects_other_types_naming_them(bad):
    with pytest.raises(StreamIdError) as ei:
        get_stream_id(bad)
    assert repr(bad) in str(ei.value)


def test_get_stream_id_rejects_malformed_text_naming_it():
    with pytest.raises(StreamIdError) as ei:
        get_stream_id("temperature: [house]")
    assert "'house'" in str(ei.value)
    with pytest.raises(StreamIdError) as ei:
        get_stream_id({"meta_data": {"house": "1"}})
    assert "name" in str(ei.value)


# ---------------------------------------------------------------------------
# StreamInstance
# ---------------------------------------------------------------------------

def test_stream_instance_is_a_named_pair():
    inst = StreamInstance(t(0), 3.5)
    assert inst.timestamp == t(0)
    assert inst.value == 3.5
    ts, v = inst
    assert (ts, v) == (t(0), 3.5)
    assert inst == (t(0), 3.5)


def test_stream_instance_truncates_to_milliseconds():
    inst = StreamInstance(datetime(2017, 1, 1, 0, 0, 0, 123987, tzinfo=UTC), 1)
    assert inst.timestamp.microsecond == 123000


def test_stream_instance_converts_to_utc():
    inst = StreamInstance(datetime(2017, 1, 1, 3, tzinfo=timezone(timedelta(hours=3))), 1)
    assert inst.timestamp == datetime(2017, 1, 1, tzinfo=UTC)
    assert inst.timestamp.utcoffset() == timedelta(0)
    assert inst.timestamp.hour == 0


def test_stream_instance_rejects_future_naming_the_time():
    future = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    with pytest.raises(TimeError) as ei:
        StreamInstance(future, 1)
    assert future.isoformat() in str(ei.value)
    assert "future" in str(ei.value)


def test_stream_instance_accepts_now():
    now = utcnow()
    assert StreamInstance(now, 1).timestamp == now


@pytest.mark.parametrize("bad", ["2017-01-01", 1498000000, None])
def test_stream_instance_rejects_non_datetimes_naming_them(bad):
    with pytest.raises(TimeError) as ei:
        StreamInstance(bad, 1)
    assert repr(bad) in str(ei.value)


def test_stream_instance_rejects_naive_naming_it():
    with pytest.raises(TimeError) as ei:
        StreamInstance(datetime(2017, 3, 4, 5, 6, 7), 1)
    assert "2017-03-04T05:06:07" in str(ei.value)
    assert "naive" in str(ei.value)


# ---------------------------------------------------------------------------
# Stream and StreamView (on a MemoryChannel)
# ---------------------------------------------------------------------------

@pytest.fixture
def channel():
    return MemoryChannel("mem")


@pytest.fixture
def numbers(channel):
    """Stream 'numbers' with value k at t(k), k = 1..10."""
    s = channel.create_stream(StreamId("numbers"))
    s.writer([StreamInstance(t(k), k) for k in range(1, 11)])
    return s


@pytest.fixture
def dicts(channel):
    s = channel.create_stream(StreamId("env", {"house": "1"}))
    s.writer([
        StreamInstance(t(1), {"temp": 20.0, "room": "kitchen"}),
        StreamInstance(t(2), {"hum": 40, "room": "hall"}),
        StreamInstance(t(3), {"temp": 21.5, "room": "hall"}),
        StreamInstance(t(4), None),
        StreamInstance(t(5), {"temp": None, "room": "kitchen"}),
        StreamInstance(t(6), "text"),
    ])
    return s


def test_stream_basics(channel, numbers):
    assert numbers.channel is channel
    assert numbers.stream_id == StreamId("numbers")
    assert numbers.name == "numbers"
    assert numbers.calculated_intervals == TimeIntervals()
    assert numbers == channel["numbers"]
    assert hash(numbers) == hash(channel["numbers"])
    assert "numbers" in str(numbers) and "mem" in str(numbers)


@pytest.mark.parametrize("value, expected", [
    (TimeInterval(t(0), t(10)), [TimeInterval(t(0), t(10))]),
    (TimeIntervals([TimeInterval(t(0), t(5)), TimeInterval(t(5), t(10))]), [TimeInterval(t(0), t(10))]),
    ([TimeInterval(t(20), t(30)), TimeInterval(t(0), t(10))], [TimeInterval(t(0), t(10)), TimeInterval(t(20), t(30))]),
    ([], []),
])
def test_calculated_intervals_accepts_interval_intervals_and_lists(numbers, value, expected):
    numbers.calculated_intervals = value
    assert isinstance(numbers.calculated_intervals, TimeIntervals)
    assert list(numbers.calculated_intervals) == expected


def test_calculated_intervals_setter_stamps_last_updated(numbers):
    before = utcnow()
    numbers.calculated_intervals = TimeInterval(t(0), t(10))
    assert numbers.last_updated is not None and numbers.last_updated >= before


def test_calculated_intervals_rejects_garbage(numbers):
    with pytest.raises(TimeError) as ei:
        numbers.calculated_intervals = "yesterday"
    assert "'yesterday'" in str(ei.value)


def test_window_is_half_open(numbers):
    view = numbers.window(TimeInterval(t(3), t(6)))
    assert isinstance(view, StreamView)
    assert [i.value for i in view] == [4, 5, 6]
    assert view.items() == [StreamInstance(t(k), k) for k in (4, 5, 6)]


def test_window_default_is_all_time(numbers):
    assert numbers.window().values() == list(range(1, 11))


def test_window_accepts_tuples_and_relative_intervals(numbers):
    assert numbers.window((t(8), t(10))).values() == [9, 10]
    assert numbers.window(("2017-06-20T00:00:08Z", "2017-06-20T00:00:10Z")).values() == [9, 10]
    assert numbers.window(RelativeTimeInterval(-3600, 0)).values() == []  # data is from 2017
    assert numbers.window((MIN_DATE, None)).values() == list(range(1, 11))


def test_window_rejects_garbage(numbers):
    with pytest.raises(TimeError) as ei:
        numbers.window("last week")
    assert "'last week'" in str(ei.value)


def test_view_first_last_head_tail(numbers):
    view = numbers.window(TimeInterval(t(2), t(9)))
    assert view.first() == StreamInstance(t(3), 3)
    assert view.last() == StreamInstance(t(9), 9)
    assert [i.value for i in view.head(2)] == [3, 4]
    assert [i.value for i in view.tail(2)] == [8, 9]
    assert [i.value for i in view.head(100)] == list(range(3, 10))
    assert [i.value for i in view.tail(100)] == list(range(3, 10))
    assert view.head(0) == []


def test_view_first_last_of_empty_window(numbers):
    empty = numbers.window(TimeInterval(t(100), t(200)))
    assert empty.first() is None
    assert empty.last() is None
    assert empty.first(default="nothing") == "nothing"
    assert empty.last(default="nothing") == "nothing"
    assert empty.items() == []
    assert empty.count() == 0
    assert len(empty) == 0


def test_view_islice(numbers):
    view = numbers.window()
    assert [i.value for i in view.islice(2, 5)] == [3, 4, 5]
    assert [i.value for i in view.islice(0, None, 3)] == [1, 4, 7, 10]
    assert [i.value for i in view.islice(8)] == [9, 10]  # from index 8 to the end


def test_view_timestamps_values_count(numbers):
    view = numbers.window(TimeInterval(t(0), t(3)))
    assert view.timestamps() == [t(1), t(2), t(3)]
    assert view.values() == [1, 2, 3]
    assert view.count() == 3
    assert len(view) == 3
    assert numbers.window().count() == 10


def test_view_component(dicts):
    got = list(dicts.window().component("temp"))
    assert got == [StreamInstance(t(1), 20.0), StreamInstance(t(3), 21.5), StreamInstance(t(5), None)]
    assert list(dicts.window().component("missing")) == []


def test_view_component_filter(dicts):
    got = list(dicts.window().component_filter("room", ["kitchen"]))
    assert [i.timestamp for i in got] == [t(1), t(5)]
    assert got[0].value == {"temp": 20.0, "room": "kitchen"}  # whole value kept
    assert [i.timestamp for i in dicts.window().component_filter("room", {"kitchen", "hall"})] == \
        [t(1), t(2), t(3), t(5)]


def test_view_delete_nones(dicts):
    got = list(dicts.window().delete_nones())
    assert [i.timestamp for i in got] == [t(1), t(2), t(3), t(5), t(6)]


def test_view_dict_items(numbers):
    assert numbers.window(TimeInterval(t(0), t(2))).dict_items() == [
        {"timestamp": t(1), "value": 1}, {"timestamp": t(2), "value": 2}]


def test_view_columns(dicts, numbers):
    ms, vals = numbers.window(TimeInterval(t(0), t(3))).columns()
    epoch_ms = int((T0 - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 1000
    assert ms.dtype == np.int64 and vals.dtype == np.float64
    assert ms.tolist() == [epoch_ms + 1000, epoch_ms + 2000, epoch_ms + 3000]
    assert vals.tolist() == [1.0, 2.0, 3.0]
    # non-numeric values are left out; components pick numeric parts of dicts
    ms, vals = dicts.window().columns()
    assert len(ms) == 0 and len(vals) == 0
    ms, vals = dicts.window().columns("temp")
    assert ms.tolist() == [epoch_ms + 1000, epoch_ms + 3000]
    assert vals.tolist() == [20.0, 21.5]


def test_view_summary(numbers):
    s = numbers.window(TimeInterval(t(0), t(10))).summary(2)
    assert s.count.tolist() == [5, 5]
    assert s.min.tolist() == [1.0, 6.0]
    assert s.max.tolist() == [5.0, 10.0]
    assert s.mean.tolist() == [3.0, 8.0]
    assert s.total == 10


def test_stream_writer_and_purge(channel, numbers):
    numbers.calculated_intervals = TimeInterval(t(0), t(10))
    numbers.writer([StreamInstance(t(11), 11)])
    assert numbers.window(TimeInterval.all_time()).count() == 11
    assert numbers.window().count() == 10  # no interval: the last calculated one (HyperStream's rule)
    numbers.purge()
    assert numbers.window().items() == []
    assert numbers.calculated_intervals.is_empty
    assert "numbers" in channel  # the definition stays


# ---------------------------------------------------------------------------
# StreamDict
# ---------------------------------------------------------------------------

def test_stream_dict_lookup_by_id_text_and_dict(channel):
    sid = StreamId("temperature", {"house": "1"})
    stream = Stream(channel, sid)
    d = StreamDict()
    d[sid] = stream
    assert d[sid] is stream
    assert d["temperature: [house=1]"] is stream
    assert d[{"name": "temperature", "meta_data": {"house": "1"}}] is stream
    assert StreamId("temperature", [("house", "1")]) in d
    assert "temperature: [house=1]" in d
    assert "temperature: [house=2]" not in d
    assert "temperature: [house" not in d  # malformed text: simply not there
    assert d.get("temperature: [house=1]") is stream
    assert d.get("nope", "default") == "default"
    d2 = StreamDict()
    d2["temperature: [house=1]"] = stream
    assert list(d2) == [sid] and isinstance(list(d2)[0], StreamId)
    assert d.pop("temperature: [house=1]") is stream
    assert sid not in d
    d[sid] = stream
    del d["temperature: [house=1]"]
    assert len(d) == 0


def test_stream_dict_rejects_non_streams():
    d = StreamDict()
    with pytest.raises(TypeError) as ei:
        d["x"] = 42
    assert "int" in str(ei.value)


def test_a_stream_id_sent_to_another_process_is_found_there_in_sets_and_dicts():
    """Workers get stream ids pickled; text hashes differ between processes (PYTHONHASHSEED), so an id made in one
    must still be found, by an equal id made in the other, in a set or as a dict key."""
    import os
    import subprocess
    import sys
    make = ("import pickle, sys; from channels.stream import StreamId; "
            "sys.stdout.buffer.write(pickle.dumps([StreamId('env', {'house': 1, 'sensor': 'a'}), StreamId('x')]))")
    look = ("import pickle, sys; from channels.stream import StreamId; ids = pickle.loads(sys.stdin.buffer.read()); "
            "here = {StreamId('env', {'sensor': 'a', 'house': '1'}): 'env', StreamId('x'): 'x'}; "
            "print([here.get(i) for i in ids], set(ids) == set(here))")

    def run(code, seed, data=None):
        env = dict(os.environ, PYTHONHASHSEED=str(seed))
        return subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, env=env,
                              check=True).stdout
    assert run(look, 2, run(make, 1)).decode().strip() == "['env', 'x'] True"


def test_a_workflow_nodes_stream_ids_are_those_made_one_by_one(tmp_path):
    """A node's streams (named at once for 100,000-stream workflows) are the ids made one by one: equal, the same
    hash, text and store key, whatever characters the plate values hold; a value that is not text is made as ever."""
    import json
    from channels.stores.sqlite_store import SQLiteStore
    from channels.workflows import MetaDataItem, NodeDefinition, PlateDefinition, add_meta_data, add_plates, load_model
    store = SQLiteStore(str(tmp_path / "s.sqlite"))
    homes = ["1", 'the "blue" house', "maison é", "a,b=c]"]
    items = []
    for h in homes:
        items.append(MetaDataItem("house", h))
        items += [MetaDataItem("resident", r, f"house_{h}") for r in ("b", "a\u2028")]
    add_meta_data(store, items)
    add_plates(store, [PlateDefinition("H", "house", complement=True),
                       PlateDefinition("H.R", "resident", complement=True, parent_plate="H")])
    model = load_model(store)
    seen = 0
    for node in (NodeDefinition("per resident", ["H.R"], "mongo"), NodeDefinition("one", [], "mongo")):
        for pv, sid in model.node_streams(node).items():
            one = StreamId(node.stream_name, list(pv))
            assert sid == one and hash(sid) == hash(one) and str(sid) == str(one) and sid.meta_data == one.meta_data
            assert sid.key == json.dumps([one.name, [list(p) for p in sorted(one.meta_data)]], separators=(",", ":"))
            assert StreamId.from_key(sid.key) == one
            seen += 1
    assert seen == 2 * len(homes) + 1
    store.close()
