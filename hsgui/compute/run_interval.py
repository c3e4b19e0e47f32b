"""The interval a Run Tool dialog opens with: one that can run.

The visible plot range often ends in the future (a "last 24 h" view, a zoom past now), and a
tool cannot compute the future, so the dialog would open saying "Cannot run". Instead the
requested range is clipped: to the inputs' calculated span (where there is input to read) and to
now (and the output channel's horizon); when nothing of it is left, the inputs' whole
calculated span (or the last hour) is used. The note says what was chosen and why.

Reads only ``stream.calculated_intervals`` (definitions already in memory), never a store.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from channels.time_interval import TimeInterval
from channels.utils import MAX_DATE, MIN_DATE

from hsgui.common.timefmt import format_time


def calculated_span(streams) -> TimeInterval | None:
    """Where every input has been calculated (start of the latest, end of the earliest); None when unknown."""
    start, end = None, None
    for s in streams:
        ci = s.calculated_intervals
        if ci is None or ci.is_empty or (ci.start == MIN_DATE and ci.end == MAX_DATE):
            continue
        start = ci.start if start is None else max(start, ci.start)
        end = ci.end if end is None else min(end, ci.end)
    if start is None or end is None or start >= end:
        return None
    return TimeInterval(start, end)


def runnable_interval(requested: TimeInterval | None, inputs, now: datetime, horizon: datetime | None = None,
                      tz=None, what: str = "the visible plot range") -> tuple[TimeInterval, str]:
    """``(interval, note)``: ``requested`` clipped so that a tool can run over it; see the module docstring."""
    limit = now.replace(microsecond=0)
    if horizon is not None and horizon < limit:
        limit = horizon
    span = calculated_span(inputs)
    if requested is None:
        requested = TimeInterval(limit - timedelta(hours=1), limit)
        what = "the last hour"
    start, end = requested.start, requested.end
    why = []
    if span is not None and start < span.start:
        start = span.start
        why.append("start moved to where the inputs begin")
    if span is not None and end > span.end:
        end = span.end
        why.append("end moved to where the inputs end")
    if end > limit:
        end = limit
        why.append("end clipped to now" if horizon is None or limit != horizon else
                   "end clipped to the output channel's horizon")
    if start >= end:
        if span is not None and span.start < limit:
            start, end = span.start, min(span.end, limit)
            what, why = "the inputs' whole calculated span", ["the visible range has none of it"]
        else:
            start, end = limit - timedelta(hours=1), limit
            what, why = "the last hour", ["the visible range is in the future"]
    iv = TimeInterval(start, end)
    fmt = (lambda t: format_time(t, tz)) if tz is not None else (lambda t: format_time(t))
    note = f"Interval: {what}" + (f" ({'; '.join(why)})" if why else "") + f": {fmt(iv.start)} → {fmt(iv.end)}"
    return iv, note


__all__ = ["calculated_span", "runnable_interval"]
