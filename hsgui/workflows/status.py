"""How much of a range each workflow node has computed, and whether any of it is stale (pure Python).

Colouring must stay cheap when a workflow has 100,000 streams and is recoloured every few hundred ms while it
runs, so the work is split by how often it is needed:

* :class:`WorkflowStatusIndex` — made once per workflow and model, kept by the dock: every node's streams and a
  :class:`~channels.workflows.LineageTracker` (made once from the run history's summary and the newest change
  per stream -- not from every run record -- then updated from new run records and the change log, never
  rebuilt per refresh; a stream's runs are read when a stale mark or a lineage first needs them);
* :func:`workflow_status` — per refresh: **one** definitions read per channel (the calculated intervals and
  ``last_updated`` of every stream as columns, whoever wrote them, other processes too: first whole, then what was
  updated since), the tracker's update, and stale marks only for the streams that may be stale; each node gets
  counts per state and its worst few streams for its tooltip (each distinct set of intervals measured once);
* :func:`node_detail` — when a node is opened: one line per stream of that node only.

Job bodies: they read the store and never touch a widget.
"""
from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field
from datetime import timedelta

from channels.time_interval import TimeInterval, TimeIntervals
from channels.stream import StreamId
from channels.utils import from_ms, to_ms

ALL, PART, NONE, STALE = "all", "part", "none", "stale"
#: worst streams named in a node's tooltip
WORST = 5


@dataclass
class NodeStatus:
    state: str                         # all / part / none / stale
    streams: list                      # (channel_id, StreamId) of the node, existing or not
    lines: list = field(default_factory=list)   # tooltip: a summary (counts, the worst streams), never one per stream
    fraction: float = 0.0              # calculated share of the range over all streams
    counts: dict = field(default_factory=dict)   # state -> number of streams in it
    worst: list = field(default_factory=list)    # text of the worst few streams (stale first, then least calculated)


class WorkflowStatusIndex:
    """What colouring one workflow needs that does not change between refreshes: each node's streams (planned
    once) and the lineage tracker (built on first use, then updated)."""

    def __init__(self, manager, model, workflow):
        self.manager, self.model, self.workflow = manager, model, workflow
        self._tracker = None
        #: store channel id -> ({StreamId.key: (calculated, last_updated ms)}, newest last_updated ms seen, read
        #: whole at)
        self._defs: dict = {}
        self._current: dict = {}  # channel id -> {StreamId.key: (calculated, last_updated ms)} as last read
        self.replan()

    def replan(self) -> None:
        """Plan the nodes' streams again (after a run that may have added plate values); the tracker stays."""
        self.node_streams: dict = {}    # node name -> [(channel_id, StreamId)]
        self.errors: dict = {}          # node name -> why its streams are unknown
        self._node_keys: dict = {}      # node name -> (channel_id, [StreamId.key of its streams])
        workflow, model = self.workflow, self.model
        for name, node in workflow.nodes.items():
            try:
                sids = list(model.node_streams(node).values())
            except Exception as e:  # noqa: BLE001 - an unknown plate shows on the node, not as a failed job
                self.errors[name] = str(e)
                continue
            self.node_streams[name] = [(node.channel_id, sid) for sid in sids]
            self._node_keys[name] = (node.channel_id, [sid.key for sid in sids])

    def tracker(self):
        """The lineage tracker, up to date with what happened since it was last asked."""
        from channels.workflows import LineageTracker
        if self._tracker is None:
            self._tracker = LineageTracker(self.manager, model=self.model, definition=self.definition)
        else:
            self._tracker.update()
        return self._tracker

    #: definitions updated this long before the newest one seen are read again at the next refresh: a writer
    #: stamps ``last_updated`` just before it commits, so a commit may land a little after a later stamp
    REREAD = timedelta(seconds=2)
    #: and every this often the whole channel is read again: programs that change calculated intervals without
    #: stamping ``last_updated`` (HyperStream itself) show within this time
    FULL_EVERY_S = 30.0

    def definition(self, channel_id, stream_id):
        """``(calculated TimeIntervals, last_updated epoch ms | None)`` of a stream as the last refresh read it
        (None: it has no definition); a channel not read yet is asked."""
        known = self._current.get(channel_id)
        if known is not None:
            return known.get(stream_id.key)
        try:
            stream = self.manager.get_channel(channel_id).known_stream(stream_id)
        except Exception:  # noqa: BLE001 - a channel that is gone has no streams
            return None
        return None if stream is None else (stream.calculated_intervals, _ms_of(stream.last_updated))

    def calculated(self, channel_ids) -> dict:
        """``{(channel_id, StreamId): calculated TimeIntervals}`` of every existing stream of the channels (what
        other processes wrote too); see :meth:`read`."""
        return {(cid, StreamId.from_key(key)): calc for cid, known in self.read(channel_ids).items()
                for key, (calc, _lu) in known.items()}

    def read(self, channel_ids) -> dict:
        """``{channel_id: {StreamId.key: (calculated TimeIntervals, last_updated epoch ms | None)}}`` of every
        existing stream of the channels. A store-backed channel is read whole once (three columns, no object per
        definition), then only the definitions updated since (plus a count, which shows removals: then it is read
        whole again); memory channels are read from memory."""
        out = {}
        for cid in channel_ids:
            try:
                channel = self.manager.get_channel(cid)
            except Exception:  # noqa: BLE001 - reported per node
                continue
            store = getattr(channel, "store", None)
            if store is None or not hasattr(store, "calculated_by_key"):
                out[cid] = {sid.key: (st.calculated_intervals, _ms_of(getattr(st, "last_updated", None)))
                            for sid, st in list(channel.streams.items())}
                continue
            known, mark, full_at = self._defs.get(cid, ({}, None, 0.0))
            if mark is not None and time.monotonic() - full_at > self.FULL_EVERY_S:
                mark = None
            if mark is not None:
                known.update(store.calculated_by_key(cid, updated_since=from_ms(mark) - self.REREAD))
                if len(known) != store.count_definitions(cid):
                    mark = None          # something was removed (or added unstamped): read whole again
            if mark is None:
                known = store.calculated_by_key(cid)
                full_at = time.monotonic()
            mark = max((lu for _c, lu in known.values() if lu is not None), default=0)
            self._defs[cid] = (known, mark, full_at)
            out[cid] = known
        self._current.update(out)
        return out


def _ms_of(at) -> int | None:
    return None if at is None else to_ms(at)


def _covered(calc: TimeIntervals | None, lo, hi, width: float) -> float:
    if calc is None or width <= 0:
        return 0.0
    total = 0.0
    for iv in calc:
        a, b = max(iv.start, lo), min(iv.end, hi)
        if b > a:
            total += (b - a).total_seconds()
    return total / width


def _label(sid) -> str:
    return ", ".join(f"{k}={v}" for k, v in sid.meta_data) or sid.name


def _state_of(frac: float, stale: bool) -> str:
    return STALE if stale else ALL if frac >= 0.999999 else NONE if frac <= 0.0 else PART


def workflow_status(ctx, manager, model, workflow, interval: TimeInterval, describe=str, index=None,
                    stale_marks: bool = True) -> dict:
    """``{node name: NodeStatus}`` over ``interval``; ``describe(TimeIntervals) -> text`` for tooltips; ``index``:
    the :class:`WorkflowStatusIndex` kept between refreshes (made here when None)."""
    check = ctx.check if ctx is not None else None
    if index is None:
        index = WorkflowStatusIndex(manager, model, workflow)
    defs = index.read({node.channel_id for node in workflow.nodes.values()})
    stale = index.tracker().stale_streams(check=check) if stale_marks else {}
    lo, hi = interval.start, interval.end
    width = (hi - lo).total_seconds()
    rng = TimeIntervals([interval])
    fractions: dict = {}   # id(calculated intervals) -> (them, fraction of the range): streams share them
    out = {}
    for name in workflow.nodes:
        if check is not None:
            check()
        if name in index.errors:
            out[name] = NodeStatus(NONE, [], [index.errors[name]])
            continue
        pairs = index.node_streams[name]
        cid, keys = index._node_keys[name]
        known = defs.get(cid, {})
        counts = {ALL: 0, PART: 0, NONE: 0, STALE: 0}
        total, ranked = 0.0, []
        for i, text in enumerate(keys):
            d = known.get(text)
            calc = d[0] if d is not None else None
            hit = fractions.get(id(calc))
            if hit is None:
                hit = fractions[id(calc)] = (calc, _covered(calc, lo, hi, width))
            frac = hit[1]
            total += frac
            st = stale.get(pairs[i]) if stale else None
            if st is not None:
                st = st & rng
                if st.is_empty:
                    st = None
            state = _state_of(frac, st is not None)
            counts[state] += 1
            if state != ALL:
                ranked.append((0 if st is not None else 1, frac, i, st, calc))
        worst = []
        for _o, frac, i, st, c in heapq.nsmallest(WORST, ranked, key=lambda r: (r[0], r[1])):
            sid = pairs[i][1]
            c = (c & rng) if c is not None else TimeIntervals()
            text = f"{_label(sid)}: {frac:.0%} calculated" + (f" — {describe(c)}" if not c.is_empty else "")
            if st is not None:
                text += f"; stale: {describe(st)}"
            worst.append(text)
        n = len(pairs)
        mean = total / n if n else 0.0
        state = STALE if counts[STALE] else ALL if n and counts[ALL] == n else NONE if mean <= 0.0 else PART
        summary = f"{n:,} stream{'s' if n != 1 else ''}: " + ", ".join(
            f"{counts[s]:,} {word}" for s, word in ((ALL, "all"), (PART, "part"), (NONE, "none"), (STALE, "stale"))
            if counts[s])
        lines = [summary] + worst + ([f"… and {len(ranked) - WORST:,} more not fully calculated"]
                                     if len(ranked) > WORST else [])
        out[name] = NodeStatus(state, list(pairs), lines, mean, counts, worst)
    return out


def node_detail(ctx, index: WorkflowStatusIndex, node_name: str, interval: TimeInterval, describe=str,
                limit: int = 500) -> NodeStatus:
    """One node's status with a line per stream (the first ``limit``, least calculated first), for when the user
    opens it: reads only that node's streams' definitions and lineage."""
    check = ctx.check if ctx is not None else None
    if node_name in index.errors:
        return NodeStatus(NONE, [], [index.errors[node_name]])
    pairs = index.node_streams[node_name]
    manager = index.manager
    rng = TimeIntervals([interval])
    lo, hi, width = interval.start, interval.end, (interval.end - interval.start).total_seconds()
    stale = index.tracker().stale_streams(keys=pairs, check=check)
    store_of = {}
    rows, counts, total = [], {ALL: 0, PART: 0, NONE: 0, STALE: 0}, 0.0
    for cid, sid in pairs:
        if check is not None:
            check()
        if cid not in store_of:
            try:
                store_of[cid] = manager.get_channel(cid)
            except Exception:  # noqa: BLE001
                store_of[cid] = None
        channel = store_of[cid]
        store = getattr(channel, "store", None)
        if store is not None and hasattr(store, "get_definition"):
            d = store.get_definition(sid)
            calc = d.calculated_intervals if d is not None else None
        else:
            stream = channel.streams.get(sid) if channel is not None else None
            calc = stream.calculated_intervals if stream is not None else None
        frac = _covered(calc, lo, hi, width)
        total += frac
        st = (stale[(cid, sid)] & rng) if (cid, sid) in stale else TimeIntervals()
        state = _state_of(frac, not st.is_empty)
        counts[state] += 1
        c = (calc & rng) if calc is not None else TimeIntervals()
        text = f"{_label(sid)}: {frac:.0%} calculated" + (f" — {describe(c)}" if not c.is_empty else "")
        if not st.is_empty:
            text += f"; stale: {describe(st)}"
        rows.append((0 if not st.is_empty else 1, frac, text))
    rows.sort(key=lambda r: (r[0], r[1]))
    n = len(pairs)
    mean = total / n if n else 0.0
    state = STALE if counts[STALE] else ALL if n and counts[ALL] == n else NONE if mean <= 0.0 else PART
    lines = [r[2] for r in rows[:limit]] + ([f"… and {n - limit:,} more"] if n > limit else [])
    return NodeStatus(state, list(pairs), lines, mean, counts, [r[2] for r in rows if r[0] == 0 or r[1] < 1][:WORST])


__all__ = ["workflow_status", "node_detail", "WorkflowStatusIndex", "NodeStatus", "ALL", "PART", "NONE", "STALE"]
