"""What a plot curve reads, and how it turns into arrays to draw. Runs inside jobs; no widgets here.

A curve never loads a whole stream: :func:`query_curve` asks the store for a
bucketed :class:`channels.lod.Summary` sized to the pane's pixel width (flat
cost, from precomputed aggregates) and, when that says the range holds few
enough instances, for their raw numeric columns instead. Either way the arrays that come back are bounded
by the pane width, not by the stream's length.

Raw points come with a coarser level around them (:attr:`CurveData.surround`: a summary of
:data:`SURROUND` fetched widths either side, from the same flat-cost aggregates), so a pan or zoom-out at
raw-point zoom shows that level in the newly exposed strip until the raw points of the new range arrive.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from channels.lod import gap_breaks
from channels.time_interval import TimeInterval
from channels.utils import to_ms

KINDS = ("number", "bool", "dict", "event", "empty")
_MS = timedelta(milliseconds=1)
SAMPLE_SIZE = 50
SURROUND = 2.0     # a raw read also summarises this many of its widths on each side (the coarser level)


@dataclass
class Probe:
    """What a stream holds, learned from a small sample: its kind, numeric dict components, data span."""

    kind: str
    components: list = field(default_factory=list)
    span: TimeInterval | None = None


def kind_of(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dict):
        return "dict"
    return "event"


def numeric_components(values) -> list:
    """Keys of dict values whose values are numbers (booleans count), in order of first appearance."""
    seen = {}
    for v in values:
        if isinstance(v, dict):
            for k, x in v.items():
                if isinstance(x, (int, float)) and k not in seen:
                    seen[k] = None
    return list(seen)


def probe_stream(ctx, stream) -> Probe:
    """Kind, components and span of ``stream`` from its first/last instance and ~50 instances after the first."""
    view = stream.window(TimeInterval.all_time())
    first = view.first()
    if first is None:
        return Probe("empty")
    ctx.check()
    last = view.last() or first
    # a sample from a small slice after the first instance (never the whole stream)
    width = max((last.timestamp - first.timestamp) / 1000, _MS)
    sample = stream.window(TimeInterval(first.timestamp - _MS, first.timestamp + width)).head(SAMPLE_SIZE)
    ctx.check()
    values = [i.value for i in sample] + [first.value, last.value]
    kinds = [kind_of(v) for v in values if v is not None]
    kind = kinds[0] if kinds else "event"
    if kind in ("number", "bool") and any(k not in ("number", "bool") for k in kinds):
        kind = "event"
    components = numeric_components(values) if kind == "dict" else []
    end = last.timestamp if last.timestamp > first.timestamp else first.timestamp + _MS
    return Probe(kind, components, TimeInterval(first.timestamp - _MS, end))


@dataclass
class CurveData:
    """Arrays for one curve over one fetched interval (x in epoch seconds, NaN = break)."""

    mode: str                 # "raw" or "summary"
    interval: TimeInterval    # what was fetched
    buckets: int              # summary buckets asked for (0 for raw)
    x: np.ndarray
    y: np.ndarray
    lo: np.ndarray | None = None      # summary: per point min/max (the envelope) and count
    hi: np.ndarray | None = None
    counts: np.ndarray | None = None
    labels: list | None = None        # events: the text of each point
    categories: list | None = None    # events: y level -> text
    total: int = 0                    # instances in the fetched interval
    surround: "CurveData | None" = None   # raw: a summary of a wider interval, drawn where the raw points end

    @property
    def points(self) -> int:
        """Points drawn (breaks excluded)."""
        return int(np.count_nonzero(np.isfinite(self.y)))


def _segment_ids(ms: np.ndarray, boundaries: np.ndarray | None) -> np.ndarray | None:
    """Which calculated interval (or gap between them) each time falls in; ``None`` when there are no intervals."""
    if boundaries is None or len(boundaries) == 0:
        return None
    return np.searchsorted(boundaries, ms, side="left")


def insert_breaks(x: np.ndarray, y: np.ndarray, ms: np.ndarray, boundaries, extra=()):
    """Put a NaN between raw points that lie in different calculated intervals, so gaps are not joined."""
    seg = _segment_ids(ms, boundaries)
    if seg is None or len(x) < 2:
        return (x, y) + tuple(extra)
    return _break_at(np.nonzero(np.diff(seg) != 0)[0] + 1, x, y, extra)


def _break_at(cut: np.ndarray, x: np.ndarray, y: np.ndarray, extra=()):
    """Insert a NaN point before each index of ``cut`` (x halfway between its neighbours)."""
    if len(cut) == 0:
        return (x, y) + tuple(extra)
    xb = np.insert(x.astype(np.float64), cut, (x[cut - 1] + x[cut]) / 2.0)
    yb = np.insert(y.astype(np.float64), cut, np.nan)
    ex = tuple(np.insert(np.asarray(e, dtype=np.float64), cut, np.nan) for e in extra)
    return (xb, yb) + ex


def step(x: np.ndarray, y: np.ndarray):
    """A state held until the next change: ``x0 x1 x1 x2 …`` / ``y0 y0 y1 y1 …``."""
    if len(x) < 2:
        return x, y
    xs = np.repeat(x, 2)[1:]
    ys = np.repeat(y, 2)[:-1]
    return xs, ys


def boundaries_of(calculated_intervals) -> np.ndarray | None:
    ivs = list(calculated_intervals or [])
    if not ivs:
        return None
    return np.array([to_ms(t) for iv in ivs for t in (iv.start, iv.end)], dtype=np.int64)


def query_curve(ctx, stream, component, kind: str, interval: TimeInterval, buckets: int,
                boundaries=None, raw_limit: int | None = None) -> CurveData:
    """A summary in ``buckets`` buckets, or the raw points if the interval holds at most ``raw_limit`` instances.

    The summary comes first because the store answers it from precomputed
    aggregates at a flat cost, while ``count()`` may scan; its total tells
    whether the raw points are few enough to fetch instead.
    """
    raw_limit = 2 * buckets if raw_limit is None else raw_limit
    view = stream.window(interval)
    summary = view.summary(buckets, component if kind != "event" else None)
    total = summary.total
    ctx.check()
    if total <= raw_limit:
        data = _raw(view, component, kind, interval, boundaries, total)
        if kind != "event":
            ctx.check()
            try:
                data.surround = _surround(stream, component, kind, interval, buckets, boundaries)
            except OverflowError:   # widened past the first or last representable time: no coarser level
                data.surround = None
        return data
    return _summary(summary, kind, interval, buckets, boundaries, total)


def _surround(stream, component, kind, interval: TimeInterval, buckets: int, boundaries) -> "CurveData":
    """A summary over ``interval`` widened by :data:`SURROUND` widths on each side, in ``buckets`` buckets."""
    pad = interval.width * SURROUND
    wide = TimeInterval(interval.start - pad, interval.end + pad)
    s = stream.window(wide).summary(buckets, component)
    return _summary(s, kind, wide, buckets, boundaries, s.total)


def read_curve(ctx, stream, component, kind: str, interval: TimeInterval, buckets: int) -> CurveData:
    """What a curve's read job runs: :func:`query_curve` with the stream's calculated intervals (read here, in the
    job, like everything else the picture needs)."""
    return query_curve(ctx, stream, component, kind, interval, buckets, boundaries_of(stream.calculated_intervals))


def _raw(view, component, kind, interval, boundaries, total) -> CurveData:
    if kind == "event":
        items = view.items()
        ms = np.array([to_ms(i.timestamp) for i in items], dtype=np.int64)
        labels = [_text(i.value) for i in items]
        cats = sorted(set(labels))[:50]
        level = {c: n for n, c in enumerate(cats)}
        y = np.array([level.get(t, len(cats)) for t in labels], dtype=np.float64)
        return CurveData("raw", interval, 0, ms / 1000.0, y, labels=labels, categories=cats, total=total)
    ms, vals = view.columns(component)
    x = ms / 1000.0
    if kind == "bool":
        x, vals = insert_breaks(x, vals, ms, boundaries)
        x, vals = step(x, vals)
        return CurveData("raw", interval, 0, x, vals, total=total)
    x, y = insert_breaks(x, vals, ms, boundaries)
    return CurveData("raw", interval, 0, x, y, total=total)


def _summary(s, kind, interval, buckets, boundaries, total) -> CurveData:
    x = s.centres_ms() / 1000.0
    counts = s.count
    if kind == "event":
        has = counts > 0
        return CurveData("summary", interval, buckets, x[has], np.zeros(int(has.sum())), counts=counts[has],
                         labels=[f"{c} instances" for c in counts[has]], total=total)
    y = np.where(counts > 0, s.mean, np.nan)   # empty bucket = gap
    lo = np.where(counts > 0, s.min, np.nan)
    hi = np.where(counts > 0, s.max, np.nan)
    # breaks placed by the instances each bucket holds, not by bucket centres (see channels.lod.gap_breaks)
    cut = np.flatnonzero(gap_breaks(s, boundaries)) + 1
    x, y, lo, hi, cnt = _break_at(cut, x, y, extra=(lo, hi, counts))
    return CurveData("summary", interval, buckets, x, y, lo=lo, hi=hi, counts=cnt, total=total)


def _text(value) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def read_for_csv(ctx, stream, component, kind, interval: TimeInterval):
    """All instances of the interval as ``(epoch_ms, value)`` rows: numeric columns, or text for events."""
    view = stream.window(interval)
    if kind == "event":
        return [(to_ms(i.timestamp), _text(i.value)) for i in view.items()]
    ms, vals = view.columns(component)
    ctx.check()
    return list(zip(ms.tolist(), vals.tolist()))


def align_columns(columns) -> list:
    """Rows ``(epoch_ms, [v0, v1, …])`` over the union of the columns' timestamps, in time order; a column with
    no instance at a timestamp has ``None`` there. ``columns`` is a list of ``[(epoch_ms, value), …]``."""
    table: dict = {}
    n = len(columns)
    for j, col in enumerate(columns):
        for ms, v in col:
            row = table.get(ms)
            if row is None:
                row = table[ms] = [None] * n
            row[j] = v
    return [(ms, table[ms]) for ms in sorted(table)]
