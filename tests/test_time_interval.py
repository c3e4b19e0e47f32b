"""TimeInterval, TimeIntervals, RelativeTimeInterval, parse_time_tuple and the time helpers.

The TimeIntervals algebra is checked against a brute-force model: intervals on
an integer-second grid, where an interval (a, b] covers the unit cells
(k-1, k] for k = a+1 .. b. Union/difference/intersection must give exactly the
model's coverage, in the normalised form (sorted, disjoint, non-touching).
"""
from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from channels import MAX_DATE, MIN_DATE, UTC, RelativeTimeInterval, TimeInterval, TimeIntervals, parse_time_tuple
from channels import TimeError, get_timedelta, utcnow
from channels.utils import parse_duration

T0 = datetime(2017, 6, 20, tzinfo=UTC)


def t(k: float) -> datetime:
    """The grid point k seconds after T0."""
    return T0 + timedelta(seconds=k)


def iv(a: float, b: float) -> TimeInterval:
    return TimeInterval(t(a), t(b))


# ---------------------------------------------------------------------------
# constants and helpers
# ---------------------------------------------------------------------------

def test_min_and_max_date():
    assert MIN_DATE == datetime(1, 1, 1, tzinfo=timezone.utc)
    assert MIN_DATE.utcoffset() == timedelta(0)
    assert MAX_DATE == datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
    assert MAX_DATE.microsecond == 0
    assert MAX_DATE.utcoffset() == timedelta(0)


def test_utcnow_is_aware_utc_with_millisecond_precision():
    before = datetime.now(timezone.utc)
    now = utcnow()
    after = datetime.now(timezone.utc)
    assert now.utcoffset() == timedelta(0)
    assert now.microsecond % 1000 == 0
    # truncated (not rounded) to ms: never later than the real clock
    assert before - timedelta(milliseconds=1) <= now <= after


@pytest.mark.parametrize("value, expected", [
    (30, timedelta(seconds=30)),
    (1.5, timedelta(seconds=1.5)),
    (-60, timedelta(minutes=-1)),
    (timedelta(hours=2), timedelta(hours=2)),
    ("90s", timedelta(seconds=90)),
    ("5m", timedelta(minutes=5)),
    ("2h", timedelta(hours=2)),
    ("1d", timedelta(days=1)),
    ("1w", timedelta(weeks=1)),
    ("250ms", timedelta(milliseconds=250)),
    ("45", timedelta(seconds=45)),
])
def test_get_timedelta(value, expected):
    assert get_timedelta(value) == expected


@pytest.mark.parametrize("text, expected", [
    ("30s", timedelta(seconds=30)),
    ("1.5h", timedelta(minutes=90)),
    ("-5m", timedelta(minutes=-5)),
    ("01:30:00", timedelta(hours=1, minutes=30)),
    ("00:00:02.5", timedelta(seconds=2.5)),
    (" 10 min ", timedelta(minutes=10)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["abc", "", "10 parsecs", "1:2", "5 fortnights"])
def test_parse_duration_rejects_garbage_naming_it(bad):
    with pytest.raises(TimeError) as ei:
        parse_duration(bad)
    assert repr(bad) in str(ei.value)


@pytest.mark.parametrize("bad", [None, True, [1, 2], "soon"])
def test_get_timedelta_rejects_bad_values_naming_them(bad):
    with pytest.raises(TimeError) as ei:
        get_timedelta(bad)
    assert repr(bad) in str(ei.value)


# ---------------------------------------------------------------------------
# TimeInterval
# ---------------------------------------------------------------------------

def test_interval_membership_is_half_open():
    i = iv(0, 10)
    assert t(0) not in i  # start excluded
    assert t(0.001) in i
    assert t(5) in i
    assert t(10) in i  # end included
    assert t(10.001) not in i
    assert t(-1) not in i


def test_interval_contains_interval():
    i = iv(0, 10)
    assert iv(0, 10) in i
    assert iv(2, 3) in i
    assert iv(0, 1) in i
    assert iv(9, 10) in i
    assert iv(-1, 5) not in i
    assert iv(5, 11) not in i
    assert iv(20, 30) not in i


def test_interval_width_start_end_and_unpacking():
    i = iv(0, 90)
    assert i.start == t(0)
    assert i.end == t(90)
    assert i.width == timedelta(seconds=90)
    start, end = i
    assert (start, end) == (t(0), t(90))


def test_interval_equality_and_hash():
    assert iv(0, 1) == iv(0, 1)
    assert iv(0, 1) != iv(0, 2)
    assert len({iv(0, 1), iv(0, 1), iv(1, 2)}) == 2


def test_interval_converts_other_zones_to_utc():
    plus2 = timezone(timedelta(hours=2))
    i = TimeInterval(datetime(2017, 1, 1, 2, 0, tzinfo=plus2), datetime(2017, 1, 1, 3, 0, tzinfo=plus2))
    assert i.start == datetime(2017, 1, 1, 0, 0, tzinfo=UTC)
    assert i.start.utcoffset() == timedelta(0)
    assert i.start.hour == 0 and i.end.hour == 1


def test_interval_truncates_to_milliseconds():
    i = TimeInterval(datetime(2017, 1, 1, 0, 0, 0, 123456, tzinfo=UTC), datetime(2017, 1, 2, tzinfo=UTC))
    assert i.start.microsecond == 123000


def test_interval_rejects_naive_datetimes_naming_them():
    naive = datetime(2017, 1, 1, 12, 30)
    with pytest.raises(TimeError) as ei:
        TimeInterval(naive, t(0) + timedelta(days=365))
    assert "2017-01-01T12:30:00" in str(ei.value)
    assert "naive" in str(ei.value)
    with pytest.raises(TimeError) as ei:
        TimeInterval(T0, datetime(2018, 3, 4, 5, 6))
    assert "2018-03-04T05:06:00" in str(ei.value)


@pytest.mark.parametrize("a, b", [(10, 0), (5, 5)])
def test_interval_rejects_end_not_after_start_naming_both(a, b):
    with pytest.raises(TimeError) as ei:
        iv(a, b)
    msg = str(ei.value)
    assert t(a).isoformat() in msg
    assert t(b).isoformat() in msg


@pytest.mark.parametrize("bad", ["2017-01-01", 1498000000, None])
def test_interval_rejects_non_datetimes_naming_them(bad):
    with pytest.raises(TimeError) as ei:
        TimeInterval(bad, T0)
    assert repr(bad) in str(ei.value)


def test_all_time():
    a = TimeInterval.all_time()
    assert a.start == MIN_DATE
    assert a.end == MAX_DATE
    assert T0 in a
    assert MIN_DATE not in a
    assert MAX_DATE in a


def test_up_to_now():
    before = utcnow()
    i = TimeInterval.up_to_now()
    after = utcnow()
    assert i.start == MIN_DATE
    assert before <= i.end <= after


def test_now_minus():
    before = utcnow()
    i = TimeInterval.now_minus(minutes=5)
    after = utcnow()
    assert i.width == timedelta(minutes=5)
    assert before <= i.end <= after
    assert TimeInterval.now_minus(days=1, hours=2).width == timedelta(days=1, hours=2)


def test_now_minus_zero_is_an_error():
    with pytest.raises(TimeError):
        TimeInterval.now_minus()


def test_interval_str_is_readable():
    s = str(TimeInterval(datetime(2017, 6, 20, 12, 0, tzinfo=UTC), datetime(2017, 6, 21, tzinfo=UTC)))
    assert "2017-06-20T12:00:00" in s
    assert "2017-06-21T00:00:00" in s
    assert s.startswith("(") and s.endswith("]")


# ---------------------------------------------------------------------------
# TimeIntervals: hand-checked arrangements
# ---------------------------------------------------------------------------

def test_empty_intervals():
    e = TimeIntervals()
    assert e.is_empty
    assert not e
    assert len(e) == 0
    assert list(e) == []
    assert e.start is None and e.end is None and e.span is None
    assert e == TimeIntervals([])
    assert e == []
    assert TimeIntervals(None).is_empty
    assert T0 not in e


def test_union_disjoint():
    u = TimeIntervals([iv(0, 1)]) + TimeIntervals([iv(3, 4)])
    assert list(u) == [iv(0, 1), iv(3, 4)]
    assert len(u) == 2
    assert u[0] == iv(0, 1) and u[1] == iv(3, 4) and u[-1] == iv(3, 4)
    assert u.start == t(0) and u.end == t(4)
    assert u.span == iv(0, 4)
    assert not u.is_empty


def test_union_touching_merges():
    # (0, 1] and (1, 2] cover (0, 2] without a gap, so they merge
    assert list(TimeIntervals([iv(0, 1)]) + TimeIntervals([iv(1, 2)])) == [iv(0, 2)]
    assert list(TimeIntervals([iv(1, 2), iv(0, 1)])) == [iv(0, 2)]


def test_union_nested_overlapping_identical():
    assert list(TimeIntervals([iv(0, 10)]) + iv(2, 3)) == [iv(0, 10)]
    assert list(TimeIntervals([iv(2, 3)]) + iv(0, 10)) == [iv(0, 10)]
    assert list(TimeIntervals([iv(0, 5)]) + iv(3, 8)) == [iv(0, 8)]
    assert list(TimeIntervals([iv(0, 5)]) + iv(0, 5)) == [iv(0, 5)]
    assert list(TimeIntervals() + iv(0, 5)) == [iv(0, 5)]
    assert list(TimeIntervals([iv(0, 5)]) + TimeIntervals()) == [iv(0, 5)]


def test_union_bridging_several():
    a = TimeIntervals([iv(0, 1), iv(2, 3), iv(4, 5), iv(8, 9)])
    assert list(a + iv(0.5, 4.5)) == [iv(0, 5), iv(8, 9)]


def test_difference_arrangements():
    base = TimeIntervals([iv(0, 10)])
    assert list(base - iv(3, 5)) == [iv(0, 3), iv(5, 10)]  # nested -> split
    assert list(base - iv(0, 10)).__len__() == 0  # identical -> empty
    assert (base - iv(0, 10)).is_empty
    assert list(base - iv(-5, 3)) == [iv(3, 10)]  # overlapping at the start
    assert list(base - iv(7, 15)) == [iv(0, 7)]  # overlapping at the end
    assert list(base - iv(10, 20)) == [iv(0, 10)]  # touching: nothing removed
    assert list(base - iv(-5, 0)) == [iv(0, 10)]  # touching on the other side
    assert list(base - iv(20, 30)) == [iv(0, 10)]  # disjoint
    assert list(base - TimeIntervals()) == [iv(0, 10)]  # empty
    assert (TimeIntervals() - base).is_empty
    assert list(base - iv(-5, 20)) == []  # superset
    assert list(base - [iv(1, 2), iv(4, 5)]) == [iv(0, 1), iv(2, 4), iv(5, 10)]


def test_difference_membership_at_the_cut():
    rest = TimeIntervals([iv(0, 10)]) - iv(3, 5)
    assert t(3) in rest  # (0, 3] keeps 3
    assert t(3.5) not in rest
    assert t(5) not in rest  # (3, 5] removed 5
    assert t(5.001) in rest


def test_interval_plus_and_minus_give_time_intervals():
    assert isinstance(iv(0, 1) + iv(1, 2), TimeIntervals)
    assert list(iv(0, 1) + iv(1, 2)) == [iv(0, 2)]
    assert list(iv(0, 10) - iv(2, 3)) == [iv(0, 2), iv(3, 10)]


def test_equality_is_by_coverage():
    assert TimeIntervals([iv(0, 1), iv(1, 2)]) == TimeIntervals([iv(0, 2)])
    assert TimeIntervals([iv(0, 2)]) == [iv(0, 1), iv(1, 2)]
    assert TimeIntervals([iv(0, 2)]) == iv(0, 2)
    assert TimeIntervals([iv(0, 2)]) != TimeIntervals([iv(0, 3)])
    assert hash(TimeIntervals([iv(0, 1), iv(1, 2)])) == hash(TimeIntervals([iv(0, 2)]))


def test_construction_from_dicts_and_pairs():
    stored = [{"start": t(0), "end": t(1)}, {"start": t(5), "end": t(6)}]
    ti = TimeIntervals(stored)
    assert list(ti) == [iv(0, 1), iv(5, 6)]
    assert ti.to_list() == stored
    assert list(TimeIntervals([(t(0), t(1))])) == [iv(0, 1)]


def test_construction_rejects_garbage_naming_it():
    with pytest.raises(TimeError) as ei:
        TimeIntervals(["yesterday"])
    assert "'yesterday'" in str(ei.value)


def test_time_intervals_str_is_readable():
    s = str(TimeIntervals([TimeInterval(datetime(2017, 6, 20, tzinfo=UTC), datetime(2017, 6, 21, tzinfo=UTC)),
                           TimeInterval(datetime(2017, 7, 1, tzinfo=UTC), datetime(2017, 7, 2, tzinfo=UTC))]))
    for text in ("2017-06-20T00:00:00", "2017-06-21T00:00:00", "2017-07-01T00:00:00", "2017-07-02T00:00:00"):
        assert text in s
    assert s.index("2017-06-20") < s.index("2017-07-01")
    assert "MIN_DATE" in str(TimeIntervals([TimeInterval.all_time()]))


def test_total_width_and_gaps():
    ti = TimeIntervals([iv(0, 2), iv(5, 6)])
    assert ti.total_width == timedelta(seconds=3)
    assert list(ti.gaps()) == [iv(2, 5)]
    assert list(ti.gaps(iv(-1, 10))) == [iv(-1, 0), iv(2, 5), iv(6, 10)]


# ---------------------------------------------------------------------------
# TimeIntervals: brute-force model comparison
# ---------------------------------------------------------------------------

GRID = 24


def cells(pairs) -> set[int]:
    """Unit cells (k-1, k] covered by integer intervals (a, b]."""
    out = set()
    for a, b in pairs:
        out.update(range(a + 1, b + 1))
    return out


def random_pairs(rng: random.Random):
    n = rng.choice([0, 0, 1, 1, 2, 3, 4, 6])
    pairs = []
    for _ in range(n):
        a = rng.randrange(0, GRID)
        b = rng.randrange(a + 1, min(GRID, a + 1 + rng.choice([1, 2, 4, 12, GRID])) + 1)
        pairs.append((a, b))
    if pairs and rng.random() < 0.2:
        pairs.append(rng.choice(pairs))  # identical copies
    return pairs


def build(pairs) -> TimeIntervals:
    return TimeIntervals([iv(a, b) for a, b in pairs])


def coverage(ti: TimeIntervals) -> set[int]:
    """Cells covered by a TimeIntervals, read back through its public intervals."""
    out = set()
    for i in ti:
        a = (i.start - T0).total_seconds()
        b = (i.end - T0).total_seconds()
        assert a == int(a) and b == int(b), f"interval {i} is off the grid"
        out.update(range(int(a) + 1, int(b) + 1))
    return out


def assert_normalised(ti: TimeIntervals):
    items = list(ti)
    assert len(items) == len(ti)
    for i in items:
        assert i.start < i.end
    for prev, nxt in zip(items, items[1:]):
        assert prev.end < nxt.start, f"{ti} is not sorted/disjoint/non-touching"
    assert ti.is_empty == (not items)
    if items:
        assert ti.start == items[0].start
        assert ti.end == items[-1].end
        assert ti.span == TimeInterval(items[0].start, items[-1].end)


def assert_matches(ti: TimeIntervals, model: set[int]):
    assert_normalised(ti)
    assert coverage(ti) == model
    # membership of grid points and half points agrees with the model
    for k2 in range(-1, 2 * GRID + 3):
        x = k2 / 2
        cell = math.ceil(x)  # the cell (k-1, k] containing x
        assert (t(x) in ti) == (cell in model), (x, ti, sorted(model))
    # the normalised form is canonical: it equals one built from the model's maximal runs
    assert ti == build(runs(model))
    assert ti.total_width == timedelta(seconds=len(model))


def runs(model: set[int]):
    """Maximal runs of cells as integer intervals (a, b]."""
    out = []
    for k in sorted(model):
        if out and out[-1][1] == k - 1:
            out[-1][1] = k
        else:
            out.append([k - 1, k])
    return [tuple(p) for p in out]


def test_construction_matches_model():
    rng = random.Random(20170620)
    for _ in range(1500):
        pairs = random_pairs(rng)
        assert_matches(build(pairs), cells(pairs))


def test_union_difference_intersection_match_model():
    rng = random.Random(42)
    for _ in range(1500):
        pa, pb = random_pairs(rng), random_pairs(rng)
        a, b = build(pa), build(pb)
        ca, cb = cells(pa), cells(pb)
        assert_matches(a + b, ca | cb)
        assert_matches(b + a, ca | cb)
        assert_matches(a - b, ca - cb)
        assert_matches(b - a, cb - ca)
        assert_matches(a & b, ca & cb)
        # operands unchanged
        assert coverage(a) == ca and coverage(b) == cb
        assert (a == b) == (ca == cb)


def test_interval_containment_matches_model():
    rng = random.Random(7)
    for _ in range(500):
        pairs = random_pairs(rng)
        ti = build(pairs)
        model = cells(pairs)
        x = rng.randrange(0, GRID)
        y = rng.randrange(x + 1, GRID + 1)
        assert (iv(x, y) in ti) == set(range(x + 1, y + 1)).issubset(model), (x, y, pairs)


def test_union_with_interval_and_list_matches_model():
    rng = random.Random(99)
    for _ in range(300):
        pa, pb = random_pairs(rng), random_pairs(rng)
        a = build(pa)
        assert_matches(a + [iv(x, y) for x, y in pb], cells(pa) | cells(pb))
        if pb:
            x, y = pb[0]
            assert_matches(a + iv(x, y), cells(pa) | cells([(x, y)]))
            assert_matches(a - iv(x, y), cells(pa) - cells([(x, y)]))


# ---------------------------------------------------------------------------
# RelativeTimeInterval and parse_time_tuple
# ---------------------------------------------------------------------------

def test_relative_interval_from_seconds_and_timedeltas():
    r = RelativeTimeInterval(-60, 0)
    assert r.start == timedelta(seconds=-60)
    assert r.end == timedelta(0)
    assert r.width == timedelta(minutes=1)
    assert r == RelativeTimeInterval(timedelta(minutes=-1), timedelta(0))
    assert hash(r) == hash(RelativeTimeInterval(timedelta(minutes=-1), 0))
    assert r.absolute(t(100)) == iv(40, 100)


def test_relative_interval_rejects_end_not_after_start():
    with pytest.raises(TimeError) as ei:
        RelativeTimeInterval(10, 5)
    assert "0:00:05" in str(ei.value) and "0:00:10" in str(ei.value)
    with pytest.raises(TimeError):
        RelativeTimeInterval(0, 0)


def test_relative_interval_absolute_rejects_naive_reference():
    with pytest.raises(TimeError) as ei:
        RelativeTimeInterval(-1, 0).absolute(datetime(2017, 1, 1))
    assert "2017-01-01T00:00:00" in str(ei.value)


def test_parse_time_tuple_datetimes():
    assert parse_time_tuple(t(0), t(10)) == iv(0, 10)


def test_parse_time_tuple_iso_strings_are_utc():
    i = parse_time_tuple("2017-06-20T00:00:00Z", "2017-06-21")
    assert i == TimeInterval(datetime(2017, 6, 20, tzinfo=UTC), datetime(2017, 6, 21, tzinfo=UTC))
    j = parse_time_tuple("2017-06-20T02:00:00+02:00", "2017-06-20T01:00:00")
    assert j == TimeInterval(datetime(2017, 6, 20, 0, tzinfo=UTC), datetime(2017, 6, 20, 1, tzinfo=UTC))


def test_parse_time_tuple_relative():
    assert parse_time_tuple(-3600, 0) == RelativeTimeInterval(-3600, 0)
    assert parse_time_tuple(timedelta(hours=-1), timedelta(0)) == RelativeTimeInterval(-3600, 0)
    # one relative end is taken relative to the absolute one
    assert parse_time_tuple(-60, t(100)) == iv(40, 100)
    assert parse_time_tuple(t(100), 60) == iv(100, 160)
    assert parse_time_tuple(t(100), timedelta(minutes=1)) == iv(100, 160)


def test_parse_time_tuple_iso_start_with_duration_text():
    i = parse_time_tuple("2017-06-20", "1h")
    assert i == TimeInterval(datetime(2017, 6, 20, tzinfo=UTC), datetime(2017, 6, 20, 1, tzinfo=UTC))
    assert parse_time_tuple("-5m", "0s") == RelativeTimeInterval(-300, 0)


def test_parse_time_tuple_none_means_min_date_and_now():
    before = utcnow()
    i = parse_time_tuple(None, None)
    assert i.start == MIN_DATE
    assert before <= i.end <= utcnow()


@pytest.mark.parametrize("bad", ["tomorrow-ish", "2017-99-99"])
def test_parse_time_tuple_rejects_bad_text_naming_it(bad):
    with pytest.raises(TimeError) as ei:
        parse_time_tuple(bad, t(0))
    assert repr(bad) in str(ei.value)


def test_parse_time_tuple_rejects_naive_datetimes():
    with pytest.raises(TimeError) as ei:
        parse_time_tuple(datetime(2017, 1, 1), t(0))
    assert "naive" in str(ei.value)
