"""Annotations as an ordinary stream: the library API on both stores (SQLite, mongomock)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from stores_fixtures import store  # noqa: F401  (the parametrised fixture)

from channels.annotations import (
    Annotation,
    AnnotationError,
    AnnotationSet,
    annotation_stream_id,
)
from channels.channel_manager import ChannelManager
from channels.errors import StreamNotFoundError, TimeError
from channels.time_interval import TimeInterval
from channels.utils import MIN_DATE, UTC, utcnow

T0 = datetime(2024, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)
MS = timedelta(milliseconds=1)


@pytest.fixture
def db(store):  # noqa: F811
    m = ChannelManager(store, builtin_tools=False)
    return m.channels["mongo"]


def stored(db):
    """What a tool sees: the raw instances of the annotations stream."""
    return db[annotation_stream_id()].window(TimeInterval.all_time()).items()


def test_round_trip_is_an_ordinary_stream_instance(db):
    ann = AnnotationSet(db)
    a = ann.add("door left open", T0 + 2 * H, start=T0 + H, colour="#FF8800", note="checked by Bob")
    b = ann.add("alarm", T0 + 3 * H)
    assert a == Annotation(T0 + 2 * H, "door left open", T0 + H, "#ff8800", "checked by Bob")
    assert b.is_instant and b.interval is None and a.interval == TimeInterval(T0 + H, T0 + 2 * H)
    # a tool reading the stream sees the end as timestamp and the documented dict as value
    insts = stored(db)
    assert [i.timestamp for i in insts] == [T0 + 2 * H, T0 + 3 * H]
    assert insts[0].value == {"label": "door left open", "start": T0 + H, "colour": "#ff8800",
                              "note": "checked by Bob"}
    assert insts[0].value["start"].tzinfo is not None
    assert insts[1].value == {"label": "alarm", "start": None, "colour": None, "note": None}
    # a second reader over the same store (another process, a notebook) gets the same annotations
    again = ChannelManager(db.store, builtin_tools=False).channels["mongo"]
    assert AnnotationSet(again).list() == [a, b]
    # the default window (the last calculated interval) holds them all
    assert len(again[annotation_stream_id()].window().items()) == 2


def test_calculated_interval_stays_true_through_add_edit_delete(db):
    ann = AnnotationSet(db)
    before = utcnow()
    a = ann.add("x", T0 + H)
    ci = db[annotation_stream_id()].calculated_intervals
    assert len(ci) == 1 and ci.start == MIN_DATE and before <= ci.end <= utcnow()
    ann.edit(a, label="y")
    ann.delete(ann.list()[0])
    ci = db[annotation_stream_id()].calculated_intervals
    assert len(ci) == 1 and ci.start == MIN_DATE and ci.end >= T0 + H   # no hole where it was deleted
    # and the store agrees with the channel
    d = db.store.get_definition(annotation_stream_id())
    assert d.calculated_intervals == ci


def test_edit_changes_label_range_colour_and_keeps_one_instance(db):
    ann = AnnotationSet(db)
    a = ann.add("first", T0 + 2 * H, start=T0 + H)
    b = ann.edit(a, label="renamed", colour="#00aa00")
    assert b == Annotation(T0 + 2 * H, "renamed", T0 + H, "#00aa00", None)
    assert ann.list() == [b]
    c = ann.edit(b, start=T0, end=T0 + 5 * H)
    assert ann.list() == [c] and c.interval == TimeInterval(T0, T0 + 5 * H)
    assert [i.timestamp for i in stored(db)] == [T0 + 5 * H]
    # to an instant and back
    d = ann.edit(c, start=None)
    assert ann.list() == [d] and d.is_instant


def test_edit_that_fails_leaves_the_old_annotation(db):
    ann = AnnotationSet(db)
    a = ann.add("keep me", T0 + 2 * H, start=T0 + H)
    with pytest.raises(AnnotationError, match="label"):
        ann.edit(a, label="  ")
    with pytest.raises(TimeError, match="not before its end"):
        ann.edit(a, start=T0 + 3 * H)
    assert ann.list() == [a]

    # a store that fails the write after the delete: the old one is written back
    real = db.write_chunk
    calls = []

    def failing(stream, instances, ci):
        calls.append(instances)
        if len(calls) == 1:
            raise OSError("disk full")
        return real(stream, instances, ci)
    db.write_chunk = failing
    try:
        with pytest.raises(OSError, match="disk full"):
            ann.edit(a, label="new")
    finally:
        db.write_chunk = real
    assert ann.list() == [a]


def test_edit_of_an_annotation_changed_meanwhile_is_refused(db):
    ann = AnnotationSet(db)
    a = ann.add("mine", T0 + H)
    ann.edit(a, label="theirs")
    with pytest.raises(AnnotationError, match="changed meanwhile"):
        ann.edit(a, label="mine again")
    assert [x.label for x in ann.list()] == ["theirs"]


def test_delete_removes_only_that_one(db):
    ann = AnnotationSet(db)
    a = ann.add("a", T0 + H)
    b = ann.add("b", T0 + H + MS)
    assert ann.delete(a) == a
    assert ann.list() == [b]
    assert [i.timestamp for i in stored(db)] == [T0 + H + MS]
    with pytest.raises(StreamNotFoundError, match="annotation ending at"):
        ann.delete(a)
    # undo = add the deleted one again
    ann.add(a.label, a.end, a.start, a.colour, a.note)
    assert ann.list() == [a, b]


def test_overlap_query_finds_ranges_that_cross_the_interval(db):
    ann = AnnotationSet(db)
    long = ann.add("long", T0 + 10 * H, start=T0)             # covers the whole query
    before = ann.add("before", T0 + 2 * H, start=T0 + H)      # ends exactly at the query's start: outside
    inside = ann.add("inside", T0 + 4 * H)                    # an instant inside
    tail = ann.add("tail", T0 + 6 * H, start=T0 + 4 * H + 30 * timedelta(minutes=1))  # starts inside
    after = ann.add("after", T0 + 8 * H, start=T0 + 5 * H)    # starts exactly at the query's end: outside
    q = TimeInterval(T0 + 2 * H, T0 + 5 * H)
    got = ann.list(q)
    assert got == [inside, tail, long]
    assert before not in got and after not in got
    assert ann.list() == [before, inside, tail, after, long]


def test_same_end_is_nudged_earlier_or_refused(db):
    ann = AnnotationSet(db)
    a = ann.add("one", T0 + H, start=T0)
    b = ann.add("two", T0 + H, start=T0)
    assert b.end == T0 + H - MS and b.start == T0
    c = ann.add("three", T0 + H)
    assert c.end == T0 + H - 2 * MS
    assert {x.label for x in ann.list()} == {"one", "two", "three"}
    with pytest.raises(AnnotationError, match=r"already ends at 2024-03-01T01:00:00\+00:00 \('one'\)"):
        ann.add("four", T0 + H, nudge=False)
    # editing one onto another's end nudges too (its own millisecond counts as free); in place it stays
    d = ann.edit(c, end=T0 + H, label="three!")
    assert d.end == T0 + H - 2 * MS and d.label == "three!"
    e = ann.edit(b, end=T0 + 2 * H)
    assert e.end == T0 + 2 * H
    assert ann.edit(d, end=T0 + H).end == T0 + H - MS      # the millisecond b left is free again
    assert ann.edit(a, label="one!").end == a.end
    # a 1 ms range cannot move
    with pytest.raises(AnnotationError, match="too short"):
        ann.add("tiny", T0 + H, start=T0 + H - MS)
    assert len(ann.list()) == 3


@pytest.mark.parametrize("kwargs, message", [
    ({"label": "", "end": T0}, "needs a label"),
    ({"label": "   ", "end": T0}, "needs a label"),
    ({"label": None, "end": T0}, "needs a label"),
    ({"label": "x" * 201, "end": T0}, "at most 200"),
    ({"label": "x", "end": T0, "start": T0 + H}, "is not before its end"),
    ({"label": "x", "end": T0, "start": T0}, "is not before its end"),
    ({"label": "x", "end": datetime(2024, 3, 1)}, "naive"),
    ({"label": "x", "end": T0, "start": datetime(2024, 2, 1)}, "naive"),
    ({"label": "x", "end": "2024-03-01"}, "must be a datetime"),
    ({"label": "x", "end": utcnow() + timedelta(days=1)}, "in the future"),
    ({"label": "x", "end": T0, "colour": "red"}, "#rrggbb"),
    ({"label": "x", "end": T0, "note": 5}, "note must be text"),
])
def test_bad_input_is_refused_and_nothing_is_written(db, kwargs, message):
    ann = AnnotationSet(db)
    with pytest.raises((AnnotationError, TimeError), match=message):
        ann.add(**kwargs)
    assert ann.list() == []
    assert annotation_stream_id() not in db.streams   # not even an empty stream


def test_sets_are_separate_streams_and_read_only_channels_refuse(db):
    default, review = AnnotationSet(db), AnnotationSet(db, "review")
    default.add("a", T0 + H)
    review.add("b", T0 + H)
    assert [x.label for x in default.list()] == ["a"] and [x.label for x in review.list()] == ["b"]
    assert annotation_stream_id("review") in db.streams
    db.read_only = True
    with pytest.raises(AnnotationError, match="read-only"):
        default.add("c", T0 + 2 * H)
    assert [x.label for x in default.list()] == ["a"]


def test_no_database_channel_says_why():
    with pytest.raises(AnnotationError, match="no database channel"):
        AnnotationSet.of(ChannelManager(builtin_tools=False))


def test_instances_written_by_other_programs_are_read_leniently(db):
    s = db.get_or_create_stream(annotation_stream_id())
    db.write_chunk(s, [(T0 + H, {"label": "ms start", "start": int((T0 - datetime(1970, 1, 1, tzinfo=UTC))
                                                                     .total_seconds() * 1000)}),
                       (T0 + 2 * H, {"label": "iso start", "start": "2024-03-01T01:30:00Z"}),
                       (T0 + 3 * H, "not an annotation")], TimeInterval(MIN_DATE, T0 + 3 * H))
    got = AnnotationSet(db).list()
    assert [(a.label, a.start) for a in got] == [("ms start", T0), ("iso start", T0 + 1.5 * H)]


def test_the_demo_store_has_annotations_in_its_first_week_shown(tmp_path):
    """build_demo_store writes them with its first step (stopped right after it), inside the last week, the
    range the app shows first."""
    from channels.errors import CancelledError
    from resources.demo import build_demo_store

    class CancelAfterFirstStep:
        calls = 0

        def is_set(self):
            self.calls += 1
            return self.calls > 1

    m = ChannelManager.open(str(tmp_path / "d.sqlite"))
    try:
        with pytest.raises(CancelledError):
            build_demo_store(m, cancel=CancelAfterFirstStep())
        got = AnnotationSet.of(m).list()
        assert len(got) == 3 and sum(a.is_instant for a in got) == 1
        week = TimeInterval(utcnow() - timedelta(days=7), utcnow())
        assert all(a.overlaps(week) and a.colour and a.note for a in got)
    finally:
        m.close()
