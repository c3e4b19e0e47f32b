"""The line a curve draws breaks where, and only where, the calculated intervals have a gap or there is no value.

Asserted on the arrays the plot draws (``query_curve``, as a curve's read job calls it): a *hole* is a run of
NaN in ``y`` between drawn points. Streams span 300,000 s; calculated intervals have 60 s gaps (no data there).
Views: the whole stream as the plot fits it (2 % padding, then 25 % fetched beyond each side) and exactly, and
zoomed/panned views that put a gap in the first bucket, in the last bucket, on a bucket edge and in the middle,
at several widths; on the memory channel, the embedded store (level-of-detail path and SQL path) and MongoStore
on mongomock (its own level-of-detail path).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from channels.database_channel import DatabaseChannel
from channels.lod import gap_breaks, summarise_arrays
from channels.memory_channel import MemoryChannel
from channels.stream import StreamInstance
from channels.time_interval import TimeInterval, TimeIntervals
from channels.utils import UTC
from hsgui.plotting.plot_data import boundaries_of, query_curve

from stores_fixtures import make_store

T0 = datetime(2024, 3, 1, tzinfo=UTC)
S0 = T0.timestamp()
END = 300_000            # seconds
GAP = 60
MID = 150_000            # one gap (MID, MID + 60]


def near_ends(spacing):
    """Two gaps, in the first and in the last bucket of the exact whole-stream view, with data on both sides."""
    return (max(40, 2 * spacing + 100), END - max(100, 3 * spacing + 100))


class Ctx:
    """What a job hands its function: nothing is ever cancelled here."""

    def check(self):
        pass


def intervals(gap_starts):
    """Calculated intervals of (T0, END] with a 60 s gap after each of ``gap_starts``."""
    cuts = [0] + [x for g in gap_starts for x in (g, g + GAP)] + [END]
    return [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)]


def fill(channel, name, gap_starts, spacing):
    """A stream with an instance every ``spacing`` s inside its calculated intervals (none in the gaps)."""
    stream = channel.create_stream(name)
    for a, b in intervals(gap_starts):
        first = (a // spacing + 1) * spacing
        channel.write_chunk(stream, [StreamInstance(T0 + timedelta(seconds=t), float(t % 977))
                                     for t in range(first, b + 1, spacing)],
                            TimeInterval(T0 + timedelta(seconds=a), T0 + timedelta(seconds=b)))
    ci = TimeIntervals([TimeInterval(T0 + timedelta(seconds=a), T0 + timedelta(seconds=b))
                        for a, b in intervals(gap_starts)])
    stream.set_calculated_intervals_silently(ci)   # the store merged them; the stream object keeps the last chunk's
    return stream


# backend -> (spacing s, bucket counts); mongomock's unique-index check makes each write O(collection), so it
# gets fewer, sparser instances and bucket counts that keep a few instances per bucket
BACKENDS = {"memory": (1, (200, 1000, 2000)), "sqlite": (1, (200, 1000, 2000)), "mongomock": (300, (20, 100, 200))}


@pytest.fixture(scope="module", params=list(BACKENDS))
def streams(request, tmp_path_factory):
    kind = request.param
    spacing, widths = BACKENDS[kind]
    made, fins = {}, []
    for key, name, gaps in (("one", "one_gap", [MID]), ("ends", "gaps_at_ends", list(near_ends(spacing))),
                            ("none", "no_gap", [])):
        if kind == "memory":
            channel = MemoryChannel("mem")
        else:   # a store per stream: mongomock's writes cost O(collection)
            store, fin = make_store(kind, tmp_path_factory.mktemp(kind))
            fins.append(fin)
            channel = DatabaseChannel("db", store)
        made[key] = fill(channel, name, gaps, spacing)
    yield kind, spacing, widths, made
    for fin in fins:
        fin()


def holes(d):
    """``[(x_before, x_after)]`` of every break in the drawn line, in seconds after T0."""
    ok = np.isfinite(d.y)
    idx = np.flatnonzero(ok)
    if len(idx) < 2:
        return []
    jumps = np.flatnonzero(np.diff(idx) > 1)
    return [(d.x[idx[j]] - S0, d.x[idx[j + 1]] - S0) for j in jumps]


def view(a, b):
    return TimeInterval(T0 + timedelta(seconds=a), T0 + timedelta(seconds=b))


def plot_fit(ext):
    """The whole stream as the plot shows it: 2 % padding, and ``ext`` of the width fetched beyond each side."""
    pad = END * 0.02
    w = END + 2 * pad
    return view(-pad - ext * w, END + pad + ext * w)


def check(d, gap_starts, bucket_s):
    """One hole per gap, each within a bucket of its gap, and no other hole."""
    got = holes(d)
    assert len(got) == len(gap_starts), (d.mode, d.buckets, got)
    slack = bucket_s / 2 + 0.002
    for (xa, xb), g in zip(got, sorted(gap_starts)):
        assert xa - slack <= g and g + GAP <= xb + slack, (d.mode, d.buckets, (xa, xb), g)


def read(stream, iv, buckets):
    return query_curve(Ctx(), stream, None, "number", iv, buckets, boundaries_of(stream.calculated_intervals))


@pytest.mark.parametrize("which", ["exact", "fit", "fetched"])
def test_whole_stream_breaks_only_at_its_gaps(streams, which):
    kind, spacing, widths, made = streams
    iv = {"exact": view(0, END), "fit": plot_fit(0.0), "fetched": plot_fit(0.25)}[which]
    for buckets in widths:
        bucket_s = iv.width.total_seconds() / buckets
        for name, gaps in (("one", [MID]), ("none", []), ("ends", list(near_ends(spacing)) if which == "exact" else None)):
            if gaps is None:
                continue
            d = read(made[name], iv, buckets)
            assert d.mode == "summary"
            check(d, gaps, bucket_s)


@pytest.mark.parametrize("where", ["first bucket", "last bucket", "on an edge", "middle"])
def test_zoomed_and_panned_views_break_only_at_the_gap(streams, where):
    kind, spacing, widths, made = streams
    stream = made["one"]
    for width_s in (END, END // 10, END // 100) if spacing == 1 else (END, END // 5):
        for buckets in widths:
            w = width_s / buckets
            o = max(0.3 * w, 1.5 * spacing)   # data on both sides of the gap inside the view
            start = {"first bucket": MID - o, "last bucket": MID + GAP + o - width_s,
                     "on an edge": MID - (buckets // 3) * w, "middle": MID + GAP / 2 - width_s / 2}[where]
            d = read(stream, view(start, start + width_s), buckets)
            if where in ("first bucket", "last bucket") and d.mode == "summary" and w > GAP + o:
                end = 0 if where == "first bucket" else -1     # the gap really is inside that bucket
                assert d.counts[end] > 0 and np.isfinite(d.y[end])
            check(d, [MID], 0.0 if d.mode == "raw" else w)


def test_a_run_without_values_breaks_the_line_and_the_envelope_keeps_a_spike():
    """Non-numeric instances over whole buckets are a break of their own; a one-instance spike reaches the
    envelope's top in exactly one bucket; a bucket without a value has no envelope either."""
    ch = MemoryChannel("mem")
    s = ch.create_stream("mixed")
    values = {t: float(t % 50) for t in range(1, END + 1, 10)}
    for t in range(200_001, 220_001, 10):
        values[t] = "offline"
    values[99_991] = 1e6
    ch.write_chunk(s, [StreamInstance(T0 + timedelta(seconds=t), v) for t, v in values.items()], view(0, END))
    for buckets in (200, 1000, 2000):
        d = read(s, plot_fit(0.25), buckets)
        w = d.interval.width.total_seconds() / buckets
        got = holes(d)
        assert len(got) == 1, got
        assert 200_000 - w <= got[0][0] <= 200_001 + w and 219_991 - w <= got[0][1] <= 220_001 + w, got
        assert np.nanmax(d.hi) == 1e6 and np.count_nonzero(d.hi == 1e6) == 1
        assert np.count_nonzero(d.y > 100) == 1          # the spike's bucket only
        assert np.isnan(d.lo[np.isnan(d.y)]).all() and np.isnan(d.hi[np.isnan(d.y)]).all()


def test_gap_breaks_by_the_buckets_data_not_their_centres():
    """Hand-checked, buckets of 10 ms from -5 ms: (-5, 5] holds data but its centre lies before the calculated
    intervals, so it is joined to the next; a gap inside (35, 45] breaks on its nearer side."""
    base = int(S0 * 1000)   # ms_iv(a, b) is (T0 + a ms, T0 + b ms]

    def summary(missing):
        ms = np.array([m for m in range(1, 101) if m not in missing]) + base
        return summarise_arrays(ms, np.ones(len(ms)), base - 5, base + 95, 10)
    ms_iv = lambda a, b: view(a / 1000, b / 1000)  # noqa: E731
    s = summary(range(39, 43))
    assert np.flatnonzero(gap_breaks(s, boundaries_of([ms_iv(0, 38), ms_iv(42, 100)]))).tolist() == [4]
    s = summary(range(37, 41))
    assert np.flatnonzero(gap_breaks(s, boundaries_of([ms_iv(0, 36), ms_iv(40, 100)]))).tolist() == [3]
    assert not gap_breaks(s, boundaries_of([ms_iv(0, 100)])).any()
    assert not gap_breaks(s, None).any()
    # at either end of the summary a gap inside a bucket breaks on the side where a line is drawn
    one = summarise_arrays(np.array([1, 2, 8, 9, 11, 19]) + base, np.ones(6), base, base + 20, 2)
    assert gap_breaks(one, boundaries_of([ms_iv(0, 2), ms_iv(7, 20)])).tolist() == [True]
    assert gap_breaks(one, boundaries_of([ms_iv(0, 12), ms_iv(18, 20)])).tolist() == [True]
