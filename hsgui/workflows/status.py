"""How much of a range each workflow node has computed, and whether any of it is stale (pure Python).

:func:`workflow_status` is a job body: it reads the streams' calculated intervals (in memory) and
the run history, the workflow definitions and the inputs' change logs (store reads, for stale marks) and
never touches a widget.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from channels.time_interval import TimeInterval, TimeIntervals

ALL, PART, NONE, STALE = "all", "part", "none", "stale"


@dataclass
class NodeStatus:
    state: str                         # all / part / none / stale
    streams: list                      # (channel_id, StreamId) of the node, existing or not
    lines: list = field(default_factory=list)   # tooltip: one line per stream
    fraction: float = 0.0              # calculated share of the range over all streams


def _coverage(stream, interval: TimeInterval) -> float:
    if stream is None:
        return 0.0
    part = stream.calculated_intervals & TimeIntervals([interval])
    total = (interval.end - interval.start).total_seconds()
    return part.total_width.total_seconds() / total if total > 0 else 0.0


def workflow_status(ctx, manager, model, workflow, interval: TimeInterval, describe=str) -> dict:
    """``{node name: NodeStatus}`` over ``interval``; ``describe(TimeIntervals) -> text`` for tooltips."""
    from channels.workflows import lineage_index
    index = lineage_index(manager, model=model)
    out = {}
    rng = TimeIntervals([interval])
    for name, node in workflow.nodes.items():
        if ctx is not None:
            ctx.check()
        try:
            streams = model.node_streams(node)
        except Exception as e:  # noqa: BLE001 - an unknown plate shows on the node, not as a failed job
            out[name] = NodeStatus(NONE, [], [str(e)])
            continue
        try:
            channel = manager.get_channel(node.channel_id)
        except Exception as e:  # noqa: BLE001
            out[name] = NodeStatus(NONE, [], [str(e)])
            continue
        fractions, lines, stale_any = [], [], False
        pairs = []
        for pv, sid in streams.items():
            pairs.append((node.channel_id, sid))
            stream = channel.streams.get(sid)
            frac = _coverage(stream, interval)
            fractions.append(frac)
            label = ", ".join(f"{k}={v}" for k, v in sid.meta_data) or sid.name
            calc = (stream.calculated_intervals & rng) if stream is not None else TimeIntervals()
            text = f"{label}: {frac:.0%} calculated" + (f" — {describe(calc)}" if not calc.is_empty else "")
            stale = index.lineage(node.channel_id, sid).stale_intervals & rng if stream is not None else TimeIntervals()
            if not stale.is_empty:
                stale_any = True
                text += f"; stale: {describe(stale)}"
            lines.append(text)
        mean = sum(fractions) / len(fractions) if fractions else 0.0
        state = STALE if stale_any else ALL if fractions and min(fractions) >= 0.999999 else \
            NONE if mean <= 0.0 else PART
        out[name] = NodeStatus(state, pairs, lines, mean)
    return out


__all__ = ["workflow_status", "NodeStatus", "ALL", "PART", "NONE", "STALE"]
