"""The stream index the Streams tree filters with: for any filter it keeps exactly the streams
``StreamFilter.matches`` keeps one by one, groups names case-insensitively, sorts variants, restricts to
meta-data sets, and can be built in slices. Pure: no Qt."""
from __future__ import annotations

import numpy as np
import pytest

from channels.memory_channel import MemoryChannel
from channels.stream import StreamId
from hsgui.common.stream_filter import StreamFilter, StreamIndex, stream_list_key


def _streams():
    ch = MemoryChannel("c")
    ids = [StreamId("Temperature", {"house": h, "room": r}) for h in (1, 2, 10, 12) for r in ("kitchen", "hall")]
    ids += [StreamId("temperature_raw", {"house": 1}), StreamId("Straße", {"Ort": "Köln"}), StreamId("summary"),
            StreamId("acc", {"a=b": "c"}), StreamId("acc", {"a": "b=c"}), StreamId("hum", {"house": 2, "x": "y z"})]
    return [ch.create_stream(i) for i in ids]


def _one_by_one(streams, text, keep=lambda s: True) -> set:
    f = StreamFilter(text)
    out = set()
    for s in streams:
        t = StreamFilter.search_text(s.stream_id)
        if f.matches(t, t.casefold()) and keep(s):
            out.add(s.stream_id)
    return out


def _kept(index, mask) -> set:
    chosen = index.streams if mask is None else index.streams[mask]
    return {s.stream_id for s in chosen}


@pytest.mark.parametrize("text", [
    "", "temp", "TEMP", "house=1", "house=1 kitchen", "house=1*", "house=1?", "*=kitchen", "t*e", "temperature",
    "[Tt]emperature", "house=[!1]*", "*[!a]", "strasse", "STRASSE", "köln", "ort=köln", "a=b", "a=b=c", "b=c",
    "summary", "z", "y z", "x=y", "nothing-like-it", "h?m", "*",
])
def test_the_index_keeps_exactly_what_the_filter_matches_one_by_one(text):
    streams = _streams()
    index = StreamIndex(streams).complete()
    assert _kept(index, index.mask(StreamFilter(text))) == _one_by_one(streams, text)


def test_a_typed_and_erased_filter_gives_the_same_answers_as_fresh_ones():
    streams = _streams()
    index = StreamIndex(streams).complete()
    typed = ["h", "ho", "hou", "house", "house=", "house=1", "house=1 k", "house=1 ki", "house=1 k", "house=1",
             "house=", "h", "", "t", "te*"]
    for text in typed + typed[::-1]:
        assert _kept(index, index.mask(StreamFilter(text))) == _one_by_one(streams, text), text


def test_names_group_without_case_and_variants_sort_by_meta_data():
    index = StreamIndex(_streams()).complete()
    assert index.names == ["acc", "hum", "Straße", "summary", "Temperature", "temperature_raw"]
    assert list(index.group_counts(None)) == [2, 1, 1, 1, 8, 1]
    g = index.names.index("Temperature")
    labels = [dict(s.stream_id.meta_data) for s in index.take(index.variants(g))]
    assert labels == sorted(labels, key=lambda d: (d["house"], d["room"]))
    mask = index.mask(StreamFilter("kitchen"))
    assert list(index.group_counts(mask)) == [0, 0, 0, 0, 4, 0]
    assert [dict(s.stream_id.meta_data)["house"] for s in index.take(index.variants(g, mask))] == ["1", "10", "12",
                                                                                                    "2"]


def test_a_restriction_keeps_streams_whose_meta_data_is_one_of_the_sets_and_composes_with_the_filter():
    streams = _streams()
    index = StreamIndex(streams).complete()
    plate = {frozenset({("house", "1"), ("room", "kitchen")}), frozenset({("house", "1")}),
             frozenset({("house", "2")})}     # hum has house=2 but also x: not in it
    in_plate = lambda s: frozenset(s.stream_id.meta_data) in plate  # noqa: E731
    assert _kept(index, index.mask(None, plate)) == {StreamId("Temperature", {"house": 1, "room": "kitchen"}),
                                                     StreamId("temperature_raw", {"house": 1})}
    for text in ("", "raw", "house=1", "hall"):
        assert _kept(index, index.mask(StreamFilter(text), plate)) == _one_by_one(streams, text, in_plate)


def test_a_large_index_builds_in_slices_names_first_with_the_same_result():
    ch = MemoryChannel("big")
    streams = [ch.create_stream(StreamId(f"n{i % 7}", {"house": i % 100, "k": i // 100})) for i in range(30_000)]
    sliced = StreamIndex(streams)
    assert not sliced.grouped and not sliced.searchable
    steps = 0
    while not sliced.advance(0.0):       # one step at a time
        steps += 1
        if sliced.grouped and not sliced.searchable:
            assert list(sliced.group_counts(None)) == [len(streams) // 7 + (1 if i < len(streams) % 7 else 0)
                                                      for i in range(7)]
    assert steps > 5 and sliced.searchable
    whole = StreamIndex(streams).complete()
    for text in ("n3", "house=42", "k=2 n1", "house=4? k=1*"):
        assert np.array_equal(sliced.mask(StreamFilter(text)), whole.mask(StreamFilter(text)))


def test_an_empty_channel_and_the_key_of_a_stream_list():
    index = StreamIndex([]).complete()
    assert len(index) == 0 and index.names == [] and index.mask(StreamFilter("x")).tolist() == []
    streams = _streams()
    assert stream_list_key(streams) == stream_list_key(list(streams))
    assert stream_list_key(streams) != stream_list_key(streams[::-1])
    assert StreamIndex(streams).key == stream_list_key(streams)
