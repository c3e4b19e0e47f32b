"""The lineage index kept up to date for a window that asks often (the Workflows dock), and its first look at a
store: what may be stale is found from the run summary and the newest change per stream, so opening a store
and colouring its workflow graph reads neither every run record nor every change (issue 23); see
:mod:`channels.workflows.lineage` for what lineage and staleness are.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from ..stream import StreamId
from ..time_interval import TimeIntervals
from ..utils import from_ms, to_ms
from .lineage import NOT_KNOWN, Lineage, _inputs, _newer, _sid, _step_inputs, _step_outputs, lineage_index

log = logging.getLogger(__name__)


class LineageTracker:
    """A :class:`LineageIndex` built once and then kept up to date, for a window that asks often (the Workflows
    dock recolours every few hundred ms while a workflow runs).

    :meth:`update` reads only what happened since the last call — the run records newer than the newest one it
    has (newest first, stopping at a known one) and each channel's change log after the last change it has seen
    (one store call per channel) — adds the runs to the index and forgets the cached answers of the streams
    touched and of everything computed from them. Streams that *may* be stale are kept as **suspects**: outputs
    of a run that read an input changed, inside what the run computed, after it started; outputs of runs of a tool
    that has a newer version or that read an asset; streams made by workflow steps whose inputs changed (or, on a
    store that can probe inserts made without a change log, every one of them). :meth:`stale_streams` answers
    only for suspects and what is downstream of a stale one, so colouring 100,000 streams costs what changed,
    not the whole history.

    The first look (made here) reads the run history's summary (per stream read, when the oldest run reading
    it started; the tool versions run) and each channel's newest change per stream: a run-made stream can be
    stale only where one of its inputs changed after the oldest run reading it started, so only those inputs'
    changes and readers are read -- after a run and no correction, not one run record. The index reads a
    stream's runs when a question first needs them (a stale mark's reasons, a lineage), every record only for
    an outdated tool version. Workflow steps are planned only for the factors whose outputs may be older than an
    input's newest change (:meth:`StepIndex.maybe_changed`), and for a question about a stream, its factors.

    ``definition(channel_id, StreamId) -> (calculated TimeIntervals, last_updated epoch ms | None) | None``: the
    stream's definition as the caller last read it (the Workflows dock's colouring reads every definition
    anyway); by default the channel's known stream.
    """

    def __init__(self, manager, model=None, steps=None, definition=None):
        from ..tools.history import RunSummary
        self.manager = manager
        history = manager.run_history
        self._seen_runs = {r.id for r in history.list(limit=64)}
        self.index = lineage_index(manager, steps=steps, model=model, lazy=True, definition=definition)
        self._definition = definition if definition is not None else self._known_definition
        self._change_mark: dict = {}     # channel_id -> (newest change time seen, ids of changes at that time)
        self._suspects: set = set()
        store = getattr(manager, "store", None)
        self._probe = getattr(store, "inserted_after", None) is not None and \
            getattr(store, "newest_insert_time", None) is not None and type(store).inserted_after is not \
            _base_inserted_after()
        summary = history.summary() if hasattr(history, "summary") else RunSummary.of(history.list())
        #: what the runs read (``reads``: (channel_id, StreamId.key) -> when the oldest run reading it started),
        #: kept up to date with new runs
        self._summary = summary
        changed = self._first_changes()
        #: (channel_id, StreamId.key) -> epoch ms of its newest change, of the channels in _change_mark (kept up
        #: to date by update): the index reads no change log of an input that has not changed since a computation
        self._newest = changed
        self.index.newest_change = self._newest_change
        self._first_suspects(summary, changed)
        self._suspect_steps(changed)
        if self._probe:
            self._suspects.update(self.index.steps.outputs())

    # -- what happened since --------------------------------------------------------------------------------
    def update(self) -> set:
        """Take in new runs and changes; return the streams whose answers were forgotten."""
        new_runs = self._new_runs()
        touched = self.index.add_runs(new_runs)
        self._suspect_runs(new_runs)
        self._summary.add(new_runs)
        changes = self._read_changes()
        changed = newest_of_keys(changes)
        touched |= set(changed)
        self._suspect_changes(changes)
        changed_ms = {(cid, sid.key): to_ms(at) for (cid, sid), at in changed.items()}
        for key, at in changed_ms.items():
            if self._newest.get(key, -1) < at:
                self._newest[key] = at
        self._suspect_steps(changed_ms)
        if touched:
            self.index.forget(touched)
        return touched

    def _newest_change(self, key):
        """The newest change of ``key`` ((channel_id, StreamId)) as of the last :meth:`update`: epoch ms, None
        (none), or NOT_KNOWN (a channel whose change log is not followed)."""
        cid, sid = key
        if cid not in self._change_mark:
            return NOT_KNOWN
        return self._newest.get((cid, sid.key))

    def _new_runs(self) -> list:
        history = self.manager.run_history
        limit = 64
        while True:
            batch = history.list(limit=limit)
            fresh = [r for r in batch if r.id not in self._seen_runs]
            if len(fresh) < len(batch) or len(batch) < limit:
                break
            limit *= 4
        self._seen_runs.update(r.id for r in fresh)
        return fresh

    def _first_changes(self) -> dict:
        """``{(channel_id, StreamId.key): epoch ms of its newest change}`` of every stream with one, without
        reading the change logs whole (one store call per channel, no object per stream where the store can);
        the next :meth:`update` reads each log from its newest on."""
        changed = {}
        for channel in list(self.manager.channels.values()):
            if not getattr(channel, "keeps_changes", False):
                continue
            cid = channel.channel_id
            try:
                newest = _newest_change_ms(channel)
                last = from_ms(max(newest.values())) if newest else None
                # the changes in the newest millisecond: the mark the next update reads on from
                edge = channel.list_changes(since=last - _MS) if last is not None else []
            except Exception as e:  # noqa: BLE001 - an unreadable change log shows as no change, logged
                log.warning("lineage: cannot read the changes of channel %s: %s", cid, e)
                continue
            if last is not None:
                self._change_mark[cid] = (last, {(c.seq, c.at) for c in edge if c.at == last})
            for key, at in newest.items():
                changed[(cid, key)] = at
        return changed

    def _first_suspects(self, summary, changed) -> None:
        """The runs' suspects from the run summary: a stream a run read that changed (or, an asset without a
        change log, got a version) after the oldest run reading it started -- then the runs of that stream and its
        changes since are read -- or a tool run in a version older than its newest (then every record is read)."""
        from ..assets_channel import AssetsChannel
        from ..assets_file_channel import AssetsFileChannel
        idx = self.index
        newest = idx.newest_tool_version
        if newest is not None and any(version and newest(tool) and _newer(newest(tool), version)
                                      for tool, version in summary.tools):
            self._suspect_runs(idx.runs)
        assets: dict = {}
        changes = []
        for (cid, key), oldest in summary.reads.items():
            at = changed.get((cid, key))    # epoch ms (exact comparisons with datetimes: both whole ms or floored)
            if cid not in assets:
                ch = idx._get_channel(cid)
                assets[cid] = isinstance(ch, (AssetsChannel, AssetsFileChannel))
            if at is None and assets[cid] and idx.asset_updated is not None and \
                    not getattr(idx._get_channel(cid), "keeps_changes", False):
                updated = idx.asset_updated(cid, StreamId.from_key(key))
                at = None if updated is None else to_ms(updated)
            if at is None or at <= to_ms(oldest):
                continue
            sid = StreamId.from_key(key)
            if assets[cid]:   # a newer asset version makes a whole computation stale: every earlier reader
                self._suspects.update((r.output_channel, _sid(r.output_stream)) for r in idx.readers_of((cid, sid))
                                      if to_ms(r.started_at) < at)
                continue
            try:
                changes += [c if c.channel_id == cid else _with_channel(c, cid)
                            for c in idx._get_channel(cid).list_changes(sid, since=oldest)]
            except Exception as e:  # noqa: BLE001 - an unreadable change log shows as no change, logged
                log.warning("lineage: cannot read the changes of %s/%s: %s", cid, sid, e)
        self._suspect_changes(changes)

    def _read_changes(self) -> list:
        out = []
        for channel in list(self.manager.channels.values()):
            if not getattr(channel, "keeps_changes", False):
                continue
            cid = channel.channel_id
            at, ids = self._change_mark.get(cid, (None, set()))
            try:
                # the boundary millisecond is read again (other changes may have landed in it) and de-duplicated
                changes = channel.list_changes(since=None if at is None else at - _MS)
            except Exception as e:  # noqa: BLE001 - an unreadable change log shows as no change, logged
                log.warning("lineage: cannot read the changes of channel %s: %s", cid, e)
                continue
            fresh = [c for c in changes if (c.seq, c.at) not in ids]
            if changes:
                newest = max(c.at for c in changes)
                self._change_mark[cid] = (newest, {(c.seq, c.at) for c in changes if c.at == newest})
            for c in fresh:
                out.append(c if c.channel_id == cid else _with_channel(c, cid))
        return out

    def _suspect_runs(self, runs) -> None:
        from ..assets_channel import AssetsChannel
        from ..assets_file_channel import AssetsFileChannel
        idx = self.index
        for r in runs:
            out = (r.output_channel, _sid(r.output_stream))
            if idx.newest_tool_version is not None and r.tool_version:
                newest = idx.newest_tool_version(r.tool)
                if newest and _newer(newest, r.tool_version):
                    self._suspects.add(out)
                    continue
            for cid, _sid_ in _inputs(r):
                ch = idx._get_channel(cid)
                if isinstance(ch, (AssetsChannel, AssetsFileChannel)):
                    self._suspects.add(out)
                    break

    def _suspect_changes(self, changes) -> None:
        """Outputs of runs that read a change (after the run started, inside what it computed, not its own)."""
        idx = self.index
        for c in changes:
            key = (c.channel_id, c.stream_id)
            oldest = self._summary.reads.get((c.channel_id, c.stream_id.key))
            if oldest is None or c.at <= oldest:
                continue   # no run read it, or every run reading it started after the change: records unread
            for r in idx.readers_of(key):
                if c.at > r.started_at and not c.by.startswith(f"run {r.id} ") and \
                        c.interval.end > r.computed.start and c.interval.start < r.computed.end:
                    self._suspects.add((r.output_channel, _sid(r.output_stream)))

    def _suspect_steps(self, changed) -> None:
        """``changed``: ``{(channel_id, StreamId.key): epoch ms of its newest change}``: the outputs of workflow
        steps reading one of those streams are suspects when the change is after what the step computed (see
        :meth:`_step_check`); only the factors :meth:`StepIndex.maybe_changed` names are planned."""
        if not changed:
            return
        steps = self.index.steps
        may_be_stale, always = self._step_check()
        latest: dict = {}   # step output -> its step inputs' newest change
        for i in steps.maybe_changed(changed, self._definition, always):
            for st in steps.planned(i)[2]:
                at = None
                for cid, sid in _step_inputs(st):
                    t = changed.get((cid, sid.key)) if sid is not None else None
                    if t is not None and (at is None or t > at):
                        at = t
                if at is None:
                    continue
                for out in _step_outputs(st):
                    if out not in self._suspects and (out not in latest or at > latest[out]):
                        latest[out] = at
        self._suspects.update(out for out, at in latest.items() if may_be_stale(out, at))

    def _known_definition(self, channel_id, stream_id):
        ch = self.index._get_channel(channel_id)
        stream = ch.known_stream(stream_id) if ch is not None else None
        if stream is None:
            return None
        at = getattr(stream, "last_updated", None)
        return stream.calculated_intervals, None if at is None else to_ms(at)

    def _step_check(self):
        """``((key, changed_at ms) -> bool, (factor number) -> bool)``: whether an input change at ``changed_at``
        may make a part of ``key`` a workflow step computed stale, and whether every change of a factor's inputs
        may. A step computes only what no run record covers, at its newest instance's insertion (stores that can
        tell: always asked) or else its definition's ``last_updated`` (a run's output is stamped after what it
        read was written, so a run-made stream is not asked); a step of an outdated tool version is always
        asked. Channels and tool versions are looked up once per check."""
        idx = self.index
        channels: dict = {}   # channel id -> (channel, whether its store tells insert times)
        outdated: dict = {}   # (tool, version) -> bool

        def tool_outdated(tool) -> bool:
            k = (tool.name, tool.version)
            if k not in outdated:
                newest = idx.newest_tool_version(tool.name) if idx.newest_tool_version else None
                outdated[k] = bool(newest and tool.version and idx.known_tool_version is not None and
                                   idx.known_tool_version(tool.name, tool.version) and _newer(newest, tool.version))
            return outdated[k]

        def tells(cid) -> bool:
            if cid not in channels:
                ch = idx._get_channel(cid)
                store = getattr(ch, "store", None)
                channels[cid] = (ch, store is not None and
                                 type(store).newest_insert_time is not _base_newest_insert_time())
            return channels[cid][1]

        def check(key, changed_at) -> bool:
            cid, sid = key
            if sid is None:
                return False
            if tells(cid):
                return True
            d = self._definition(cid, sid)
            if d is None:  # no calculated intervals: no step computation
                return False
            if d[1] is not None and changed_at > d[1]:
                return True
            return any(tool_outdated(st.factor.tool) for st in idx.steps.writers(key))

        def always(i) -> bool:
            wf, f = idx.steps.factors[i]
            for node_id in f.sinks:
                node = wf.nodes.get(node_id)
                if node is None:
                    continue
                if tells(node.channel_id) or any(tool_outdated(idx.steps.factors[j][1].tool)
                                                 for j in idx.steps.writer_factors(node.channel_id, node.stream_name)):
                    return True
            return False
        return check, always

    # -- questions ------------------------------------------------------------------------------------------
    def lineage(self, channel_id, stream_id) -> Lineage:
        return self.index.lineage(channel_id, stream_id)

    def stale_streams(self, keys=None, check=None) -> dict:
        """``{(channel_id, StreamId): stale TimeIntervals}`` of the stale streams (among ``keys`` if given): the
        suspects are asked, and what is computed from a stale one. ``check()`` is called between streams (a job's
        cancel check)."""
        idx = self.index
        out, asked, todo = {}, set(), list(self._suspects)
        while todo:
            k = todo.pop()
            if k in asked or k[1] is None:
                continue
            asked.add(k)
            if check is not None:
                check()
            reasons = idx.stale(*k)
            if not reasons:
                continue
            ivs = TimeIntervals()
            for s in reasons:
                ivs = ivs + s.intervals
            out[k] = ivs
            for r in idx.readers_of(k):
                todo.append((r.output_channel, _sid(r.output_stream)))
            for st in idx.steps.readers(k):
                todo.extend(_step_outputs(st))
        if keys is not None:
            keys = set(keys)
            out = {k: v for k, v in out.items() if k in keys}
        return out


_MS = timedelta(milliseconds=1)


def _base_inserted_after():
    from ..stores.base import Store
    return Store.inserted_after


def _base_newest_insert_time():
    from ..stores.base import Store
    return Store.newest_insert_time


def newest_of_keys(changes) -> dict:
    """``{(channel_id, StreamId): time of its newest change}`` of ``changes``."""
    out: dict = {}
    for c in changes:
        key = (c.channel_id, c.stream_id)
        if key not in out or c.at > out[key]:
            out[key] = c.at
    return out


def _newest_change_ms(channel) -> dict:
    """``{StreamId.key: epoch ms of its newest change}`` of a channel that keeps changes."""
    from ..database_channel import DatabaseChannel
    if isinstance(channel, DatabaseChannel) and type(channel).newest_changes is DatabaseChannel.newest_changes:
        return channel.store.newest_change_ms(channel_id=channel.channel_id)
    return {sid.key: to_ms(at) for sid, at in channel.newest_changes().items()}


def _with_channel(change, channel_id):
    from dataclasses import replace
    return replace(change, channel_id=channel_id)


__all__ = ["LineageTracker", "newest_of_keys"]
