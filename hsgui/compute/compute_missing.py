"""Running a tool as a job, and "Compute missing": re-run the run that made a stream over its gaps.

Both are a :class:`channels.tools.RunRequest` run by :func:`channels.tools.run_request` in a job
(:func:`run_request_job`); "Compute missing" gets its request from the defining run's record
(:func:`channels.tools.request_from_record`). Job bodies here run on a pool thread and never touch widgets.
"""
from __future__ import annotations

from dataclasses import replace

from channels.errors import StreamIdError
from channels.stream import get_stream_id
from channels.time_interval import TimeInterval, TimeIntervals
from channels.tools import input_streams, request_from_record, run_request
from channels.utils import format_duration, utcnow
from hsgui.common.background import JobKind

from .run_interval import calculated_span


def default_resolver(manager):
    """``(channel_id, stream_id) -> Stream`` through the manager's channels."""
    def resolve(channel_id, stream_id):
        return manager.get_channel(channel_id)[stream_id]
    return resolve


# -- the job functions (run on a worker thread; no widgets) ---------------------------------------------
def run_request_job(ctx, manager, request):
    """``run_request(manager, request)`` with the job's progress and cancel; returns the RunRecord."""
    ctx.report(0.0, "starting")
    return run_request(manager, request, progress=lambda f, n: ctx.report(f, f"{n:,} instances written"),
                       cancel=ctx.cancel_event)


def output_state_job(ctx, stream, interval):
    """(instances in interval, calculated part of interval) of an existing output stream."""
    calc = stream.calculated_intervals & TimeIntervals([interval])
    n = stream.window(interval).count()
    return n, calc


# -- "Compute missing" ---------------------------------------------------------------------------------
def defining_run(history, stream):
    """The newest run in ``history`` that wrote ``stream`` (preferring successful ones); None if there is none."""
    fallback = None
    cid = stream.channel.channel_id
    for rec in history.list():
        if rec.output_channel != cid or not rec.output_stream:
            continue
        try:
            if get_stream_id(rec.output_stream) != stream.stream_id:
                continue
        except StreamIdError:
            continue
        if rec.outcome == "ok":
            return rec
        if fallback is None and rec.outcome in ("cancelled", "error"):
            fallback = rec
    return fallback


def missing_intervals(stream, interval: TimeInterval, inputs=()) -> TimeIntervals:
    """The parts of ``interval`` that ``stream`` has not calculated, clipped to now and to where the
    ``inputs`` are calculated (computing where no input was calculated would only mark an empty stretch
    as calculated: "0 instances", and the stream's calculated intervals split around it)."""
    start, end = interval.start, min(interval.end, utcnow())
    span = calculated_span(inputs)
    if span is not None:
        start, end = max(start, span.start), min(end, span.end)
    if end <= start:
        return TimeIntervals()
    return TimeIntervals([TimeInterval(start, end)]) - stream.calculated_intervals


def whole_span(stream, record) -> TimeInterval | None:
    """The stream's whole calculated span: from the first calculated time (or the defining run's start) to
    the last (or the run's end) — a purged tail or head counts as missing."""
    ci = stream.calculated_intervals
    ends = [iv for iv in (record.interval if record is not None else None,
                          TimeInterval(ci.start, ci.end) if ci and not ci.is_empty else None) if iv is not None]
    if not ends:
        return None
    return TimeInterval(min(i.start for i in ends), max(i.end for i in ends))


def missing_options(manager, stream, record, visible: TimeInterval | None) -> list:
    """``[(key, label, interval, gaps)]`` for "Compute missing": the visible range and the whole calculated
    span, each with the gaps a run over it would fill (clipped to now and the inputs' calculated span).
    Raises ChannelsError when ``record`` cannot be re-run (its tool or an input gone since), saying why."""
    sources, _al = input_streams(manager, request_from_record(manager, record, TimeInterval.all_time()))  # streams only
    out = []
    if visible is not None:
        out.append(("visible", "the visible range", visible, missing_intervals(stream, visible, sources)))
    span = whole_span(stream, record)
    if span is not None:
        out.append(("span", "the whole calculated span", span, missing_intervals(stream, span, sources)))
    return out


def compute_missing(manager, runner, stream, interval: TimeInterval, record, chunk=None, **job_options):
    """Re-run ``record`` (same tool version, parameters, inputs) over the gaps of ``stream``'s calculated
    intervals within ``interval``; returns the Job, or None when nothing is missing. Raises ChannelsError
    when the run cannot be re-run (its tool or an input gone since), saying which and why.

    The engine itself skips what is calculated, so the job is one run over the clipped interval.
    ``job_options`` (``on_result=`` …) go to ``runner.submit``: a fast job may end before a later ``connect``.
    """
    request = request_from_record(manager, record, interval, chunk=chunk)
    sources, _al = input_streams(manager, request)
    gaps = missing_intervals(stream, interval, sources)
    if gaps.is_empty:
        return None
    request = replace(request, interval=TimeInterval(gaps.start, gaps.end))
    return runner.submit(f"compute missing {stream.channel.channel_id}/{stream.stream_id} "
                         f"({format_duration(gaps.total_width)})", run_request_job, manager, request, kind=JobKind.TOOL,
                         writes=[(stream.channel.channel_id, stream.stream_id)], **job_options)


__all__ = ["run_request_job", "output_state_job", "defining_run", "missing_intervals", "compute_missing",
           "missing_options", "whole_span",
           "default_resolver"]
