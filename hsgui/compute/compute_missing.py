"""Running a tool as a job, and "Compute missing": re-run the run that made a stream over its gaps.

Job bodies here run on a pool thread and never touch widgets.
"""
from __future__ import annotations

from channels.errors import StreamIdError
from channels.stream import get_stream_id
from channels.time_interval import TimeInterval, TimeIntervals
from channels.tools import load_tool
from channels.utils import format_duration, utcnow

from .dialog_text import expected_input_count
from .run_interval import calculated_span


def default_resolver(manager):
    """``(channel_id, stream_id) -> Stream`` through the manager's channels."""
    def resolve(channel_id, stream_id):
        return manager.get_channel(channel_id)[stream_id]
    return resolve


# -- the job functions (run on a worker thread; no widgets) ---------------------------------------------
def run_tool_job(ctx, tool_channel, tool_name, version, parameters, sources, out_channel, out_sid, interval,
                  history, alignment=None, chunk=None):
    tool = load_tool(tool_channel, tool_name, parameters, version)
    sink = out_channel.get_or_create_stream(out_sid)
    ctx.report(0.0, "starting")
    record = tool.execute(sources, sink, interval, alignment_stream=alignment,
                          progress=lambda f, n: ctx.report(f, f"{n:,} instances written"),
                          cancel=ctx.cancel_event, chunk=chunk, history=history)
    return record


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


def _sources(manager, record, resolve):
    sources = [resolve(cid, get_stream_id(s)) for cid, s in zip(record.input_channels, record.input_streams)]
    alignment = (resolve(record.alignment_channel, get_stream_id(record.alignment_stream))
                 if record.alignment_stream and record.alignment_channel else None)
    return sources, alignment


def missing_options(manager, stream, record, visible: TimeInterval | None, resolve_stream=None) -> list:
    """``[(key, label, interval, gaps)]`` for "Compute missing": the visible range and the whole calculated
    span, each with the gaps a run over it would fill (clipped to now and the inputs' calculated span)."""
    resolve = resolve_stream or default_resolver(manager)
    try:
        sources, _al = _sources(manager, record, resolve)
    except Exception:  # noqa: BLE001 - an input gone since the run: the run itself will say so
        sources = []
    out = []
    if visible is not None:
        out.append(("visible", "the visible range", visible, missing_intervals(stream, visible, sources)))
    span = whole_span(stream, record)
    if span is not None:
        out.append(("span", "the whole calculated span", span, missing_intervals(stream, span, sources)))
    return out


def compute_missing(manager, runner, stream, interval: TimeInterval, record, resolve_stream=None, chunk=None):
    """Run ``record``'s tool (same version, parameters, inputs) over the gaps of ``stream``'s calculated
    intervals within ``interval``; returns the Job, or None when nothing is missing.

    The engine itself skips what is calculated, so the job is one ``execute`` over the clipped interval.
    """
    resolve = resolve_stream or default_resolver(manager)
    sources, alignment = _sources(manager, record, resolve)
    gaps = missing_intervals(stream, interval, sources)
    if gaps.is_empty:
        return None
    tool_channel, _tv = manager.find_tool(record.tool, record.tool_version)
    span = TimeInterval(gaps.start, gaps.end)
    return runner.submit(f"compute missing {stream.channel.channel_id}/{stream.stream_id} "
                         f"({format_duration(gaps.total_width)})", run_tool_job, tool_channel, record.tool,
                         record.tool_version, dict(record.parameters), sources, stream.channel, stream.stream_id,
                         span, manager.run_history, alignment, chunk, kind="tool",
                         writes=[(stream.channel.channel_id, stream.stream_id)])


def _takes_input(tool_channel, name) -> bool:
    """Whether the tool can take the chosen streams as input: not a source tool that declares none (clock,
    random values, windows, file readers). A tool that cannot be loaded is kept: its dialog says why."""
    try:
        cls = tool_channel.get_tool_class(name)
    except Exception:  # noqa: BLE001 - a broken tool file is shown by the dialog, never a crash here
        return True
    return expected_input_count(cls) != 0


def make_compute_menu_hook(get_manager, open_run_dialog, compute_missing_for):
    """A ``StreamTreeWidget.context_menu_hooks`` entry adding "Compute with…" and "Compute missing".

    :param get_manager: ``() -> ChannelManager | None``
    :param open_run_dialog: ``(tool_channel_id, tool_name, streams)``: open a RunToolDialog with ``streams`` as inputs
    :param compute_missing_for: ``(stream)``: look up its defining run and start :func:`compute_missing`
    """
    def hook(menu, streams):
        manager = get_manager()
        if manager is None or not streams:
            return
        menu.addSeparator()
        sub = menu.addMenu("Compute with…")
        several = len(manager.tool_channels) > 1
        for ch in manager.tool_channels:
            for name in ch.list_tools():
                if not _takes_input(ch, name):
                    continue
                action = sub.addAction(f"{name}  ({ch.channel_id})" if several else name)
                action.triggered.connect(lambda _=False, c=ch.channel_id, n=name: open_run_dialog(c, n, list(streams)))
        if len(streams) == 1:
            action = menu.addAction("Compute missing")
            action.setToolTip("compute the gaps of the calculated intervals (in the visible range or over the "
                              "whole calculated span) with the run that made this stream")
            action.setEnabled(not getattr(streams[0].channel, "read_only", False))
            action.triggered.connect(lambda _=False, s=streams[0]: compute_missing_for(s))
    return hook


__all__ = ["run_tool_job", "output_state_job", "defining_run", "missing_intervals", "compute_missing",
           "missing_options", "whole_span",
           "make_compute_menu_hook", "default_resolver"]
