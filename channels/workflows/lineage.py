"""Lineage and stale marks for every stream: from run records, from stored workflow definitions, and from
the change log (every write and purge, whoever made it).

A derived stream is made of **computations**: parts of its time line computed at one time from given inputs.
Two sources say what they are:

* the run records (``manager.run_history``): each ``Tool.execute`` records tool, version, parameters, inputs,
  output, when it started and what it committed; a later run of a part replaces an earlier one there;
* for what no run record covers (streams HyperStream itself computed), the stored workflow definitions: each
  plan step (factor x plate value) whose sink is the stream, over the stream's calculated intervals, computed
  when its newest instance was inserted (MongoDB ObjectId time) or, failing that, at its definition's
  ``last_updated``. Function-valued parameters are only named, never decoded.

A part of a computation is **stale** when, after it was computed,

* a newer version of its tool exists (the whole computation);
* an asset input got a new version (the whole computation);
* an input changed inside that part: the change log (:mod:`channels.changes`) records every write and purge
  of a store's or a memory channel's stream, by this or any other process; on MongoDB instances inserted
  by programs that keep no change log (HyperStream, a pymongo script) are found by their ObjectId time;
* an input is stale there (staleness flows downstream).

Each :class:`StaleReason` names its cause: the input, the changed interval, when and by what. A run's own
writes are not a change of its inputs; a recompute is a new computation, so it clears exactly what it
recomputed. Everything is read when asked and cached per stream in the :class:`LineageIndex`, so one
stream's lineage reads only that stream's writers, their inputs' changes and what is upstream of them.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import semantic_version

from ..changes import PURGE, Change
from ..errors import StreamIdError
from ..stream import get_stream_id
from ..time_interval import TimeIntervals
from ..tools.history import READ, WROTE
from ..utils import from_ms, to_ms
from .lineage_steps import StepIndex, step_inputs as _step_inputs, step_outputs as _step_outputs

log = logging.getLogger(__name__)

TOOL, ASSET, CHANGE, INSERT, UPSTREAM = "tool", "asset", "change", "insert", "upstream"
NOT_KNOWN = object()   # see LineageIndex.newest_change


@dataclass
class StaleReason:
    intervals: TimeIntervals
    reason: str
    run_id: str | None                       # the run that computed the stale part (None: a workflow step)
    kind: str = CHANGE                       # tool / asset / change / insert / upstream
    input: tuple | None = None               # (channel_id, StreamId) of the input that changed or is stale
    change: Change | None = None             # the recorded change (kind change / asset)
    at: datetime | None = None               # when the input changed (change / insert / asset)
    by: str | None = None                    # what changed it ("run <id> <tool>", "import f.csv", "write", ...)
    step: object | None = None               # the workflow Step, for a computation from a definition
    computed_at: datetime | None = None      # when the stale part was computed
    cause: "StaleReason | None" = None       # upstream: the input's own reason


@dataclass
class Computation:
    """Part of a stream computed at one time from ``inputs`` by a recorded run or a workflow step."""
    part: TimeIntervals
    at: datetime | None
    inputs: list                              # [(channel_id, StreamId)]
    run: object | None = None                 # RunRecord
    step: object | None = None                # channels.workflows.execution.Step

    @property
    def tool(self) -> str:
        return self.run.tool if self.run is not None else self.step.factor.tool.name

    @property
    def tool_version(self) -> str | None:
        return self.run.tool_version if self.run is not None else self.step.factor.tool.version

    def describe(self) -> str:
        if self.run is not None:
            return f"run {self.run.id[:8]} ({self.run.tool})"
        pv = ", ".join(f"{k}={v}" for k, v in self.step.plate_value) or "no plate"
        return f"workflow step {self.step.factor.tool.name} ({pv})"


@dataclass
class Lineage:
    channel_id: str
    stream_id: object
    writers: list = field(default_factory=list)      # RunRecord (ok) that wrote the stream, oldest first
    readers: list = field(default_factory=list)      # RunRecord (ok) that read it, oldest first
    stale: list = field(default_factory=list)        # StaleReason, newest cause first
    steps: list = field(default_factory=list)        # workflow Steps whose sink is the stream (definition lineage)
    reader_steps: list = field(default_factory=list)  # workflow Steps that read it
    computations: list = field(default_factory=list)  # Computation: what made which part, when

    @property
    def upstream(self) -> list[tuple[str, object]]:
        """(channel_id, StreamId) of every input of every writer (in first-seen order)."""
        return _unique([(c, s) for r in self.writers for c, s in _inputs(r)]
                       + [p for st in self.steps for p in _step_inputs(st)])

    @property
    def downstream(self) -> list[tuple[str, object]]:
        return _unique([(r.output_channel, _sid(r.output_stream)) for r in self.readers if r.output_stream]
                       + [p for st in self.reader_steps for p in _step_outputs(st)])

    @property
    def stale_intervals(self) -> TimeIntervals:
        out = TimeIntervals()
        for s in self.stale:
            out = out + s.intervals
        return out


def _unique(pairs):
    out, seen = [], set()
    for p in pairs:
        if p[1] is not None and p not in seen:
            seen.add(p)
            out.append(p)
    return out


def _sid(text):
    if type(text) is str:
        return _sid_of_text(text)
    try:
        return get_stream_id(text)
    except (StreamIdError, TypeError, ValueError):
        return None


@lru_cache(maxsize=1 << 18)
def _sid_of_text(text):
    """A run record's stream text parsed once (a history names each stream in many records)."""
    try:
        return get_stream_id(text)
    except (StreamIdError, TypeError, ValueError):
        return None


def _ok(runs) -> list:
    return [r for r in runs if r.outcome == "ok" and not r.computed.is_empty]


def _started(run):
    return run.started_at


def _merge_runs(index: dict, ids: dict, key, runs) -> None:
    """Add ``runs`` (oldest first) to ``index[key]`` (kept oldest first), each once (``ids[key]``: theirs)."""
    have, seen = index.setdefault(key, []), ids.setdefault(key, set())
    for r in runs:
        if r.id in seen:
            continue
        seen.add(r.id)
        out_of_order = bool(have) and have[-1].started_at > r.started_at
        have.append(r)
        if out_of_order:
            have.sort(key=_started)


def _inputs(run):
    pairs = list(zip(run.input_channels, run.input_streams))
    if run.alignment_stream and run.alignment_channel:
        pairs.append((run.alignment_channel, run.alignment_stream))
    return [(c, _sid(s)) for c, s in pairs]


@lru_cache(maxsize=4096)
def _newer(a: str, b: str) -> bool:
    try:
        return semantic_version.Version.coerce(a) > semantic_version.Version.coerce(b)
    except ValueError:
        return False


def _fmt(iv) -> str:
    return f"({iv.start.isoformat()}, {iv.end.isoformat()}]"


class LineageIndex:
    """Run records and workflow steps indexed by the streams they write and read; answers lineage and staleness
    (cached per stream: build one per question burst, e.g. per graph colouring)."""

    def __init__(self, runs, newest_tool_version=None, asset_updated=None, *, channel=None, steps=(),
                 known_tool_version=None, runs_of=None, definition=None):
        """
        :param runs: RunRecords (any order), or a callable returning them: read when first needed, not when the
            index is made
        :param runs_of: with a callable ``runs``: ``([(channel_id, StreamId)], role) -> RunRecords`` that wrote
            (role "wrote") or read ("read") those streams; then a question about one stream reads only its runs
            (and all are read only when all are asked for: :attr:`runs`)
        :param newest_tool_version: ``(tool name) -> version text | None`` (None: don't check tool versions)
        :param asset_updated: ``(channel_id, StreamId) -> datetime | None``: when an asset input last got a version
            (used for asset channels that keep no change log; None for streams that are not assets)
        :param channel: ``channel_id -> channel | None``: the channels, for their change logs, calculated intervals
            and stores (None: lineage from run records only, no change checks)
        :param steps: workflow plan Steps (lineage of streams no run record covers), or a
            :class:`~channels.workflows.lineage_steps.StepIndex` that plans them per factor when first asked
        :param known_tool_version: ``(tool name, version) -> bool``: the version is one of the tool folders'
            (only then is a workflow step's tool version compared with the newest)
        :param definition: ``(channel_id, StreamId) -> (calculated TimeIntervals, last_updated epoch ms | None) |
            None``: streams' definitions as a caller keeps them (the Workflows dock reads them all); default: the
            channels' known streams
        """
        self.known_tool_version = known_tool_version
        self.newest_tool_version = newest_tool_version
        self.asset_updated = asset_updated
        self._channel = channel
        self._definition = definition
        #: ``(channel_id, StreamId) -> epoch ms of its newest change | None (none) | NOT_KNOWN``: kept by a caller
        #: that follows the change logs (:class:`~channels.workflows.LineageTracker`): inputs with no change
        #: after a computation are not read
        self.newest_change = None
        self._source = runs if callable(runs) else None
        self._runs_of = runs_of if self._source is not None else None
        self._load_lock = threading.RLock()
        self._runs = None                 # every run (ok and computed something), oldest first, once read
        self._w, self._r = {}, {}         # (channel_id, StreamId) -> its writers / readers, oldest first
        self._w_ids, self._r_ids = {}, {}  # ... -> their run ids
        self._fetched: set = set()        # (key, WROTE / READ) whose runs were read alone (runs_of)
        self._upstream_read: set = set()  # keys whose writers and everything upstream were read (_fetch_upstream)
        if self._source is None:
            self._index_runs(runs)
        self.steps = steps if isinstance(steps, StepIndex) else StepIndex(list(steps or ()))
        self._stale_cache: dict = {}
        self._comp_cache: dict = {}

    # -- the run records, read when first needed -------------------------------------------------------------
    def _index_runs(self, runs) -> None:
        ok = sorted(_ok(runs), key=_started)
        writers, readers = {}, {}
        for r in ok:
            writers.setdefault((r.output_channel, _sid(r.output_stream)), []).append(r)
            for inp in _inputs(r):
                readers.setdefault(inp, []).append(r)
        self._w, self._r, self._runs = writers, readers, ok
        self._w_ids = {k: {r.id for r in v} for k, v in writers.items()}
        self._run_ids = {r.id for r in ok}
        self._r_ids = {k: {r.id for r in v} for k, v in readers.items()}

    def _load(self) -> None:
        if self._runs is None:
            with self._load_lock:
                if self._runs is None:
                    self._index_runs(self._source())

    def _fetch(self, key, role) -> None:
        """Read the runs that wrote (``role`` WROTE) or read (READ) one stream, when they have not been read."""
        if self._runs is None and (key, role) not in self._fetched:
            self._fetch_many([key], role)

    def _fetch_many(self, keys, role) -> None:
        """Read the runs that wrote or read those of ``keys`` not read yet, in one history call."""
        if self._runs_of is None:
            self._load()
            return
        with self._load_lock:
            if self._runs is not None:
                return
            keys = [k for k in dict.fromkeys(keys) if k[1] is not None and (k, role) not in self._fetched]
            if not keys:
                return
            wanted = set(keys)
            found: dict = {}
            for r in sorted(_ok(self._runs_of(keys, role)), key=_started):
                if role == WROTE:
                    out = (r.output_channel, _sid(r.output_stream))
                    if out in wanted:
                        found.setdefault(out, []).append(r)
                else:
                    for inp in dict.fromkeys(_inputs(r)):
                        if inp in wanted:
                            found.setdefault(inp, []).append(r)
            index, ids = (self._w, self._w_ids) if role == WROTE else (self._r, self._r_ids)
            for key in keys:
                _merge_runs(index, ids, key, found.get(key, []))
                self._fetched.add((key, role))

    def _fetch_upstream(self, key) -> None:
        """Read the runs that wrote ``key`` and everything upstream of it, one history call per level (a
        stream's staleness asks for its inputs' and theirs: hundreds of streams for a home's summary)."""
        if self._runs is not None or self._runs_of is None or key in self._upstream_read:
            return
        level, seen = [key], {key}
        while level:
            self._fetch_many(level, WROTE)
            nxt = []
            for k in level:
                for r in self._w.get(k, ()):
                    for inp in _inputs(r):
                        if inp not in seen and inp[1] is not None:
                            seen.add(inp)
                            nxt.append(inp)
            level = nxt
        self._upstream_read |= seen   # (runs recorded later are read stream by stream, as ever)

    @property
    def loaded(self) -> bool:
        """Whether every run record has been read (see :attr:`runs`)."""
        return self._runs is not None

    @property
    def runs(self) -> list:
        """The runs that ended ok and committed something, oldest first (read whole when first asked)."""
        self._load()
        return self._runs

    def writers_of(self, key) -> list:
        """The runs that wrote ``key`` ((channel_id, StreamId)), oldest first."""
        self._fetch(key, WROTE)
        return self._w.get(key, [])

    def readers_of(self, key) -> list:
        """The runs that read ``key``, oldest first."""
        self._fetch(key, READ)
        return self._r.get(key, [])

    # -- keeping it up to date (LineageTracker) -------------------------------------------------------------
    def add_runs(self, runs) -> set:
        """Index runs recorded since it was built; return the (channel_id, StreamId) they wrote. Streams whose
        runs have not been read yet only learn of them when they are."""
        out = set()
        with self._load_lock:
            every = self._runs is not None
            for r in sorted(_ok(runs), key=_started):
                key = (r.output_channel, _sid(r.output_stream))
                out.add(key)
                if every or (key, WROTE) in self._fetched:
                    _merge_runs(self._w, self._w_ids, key, [r])
                for inp in _inputs(r):
                    if every or (inp, READ) in self._fetched:
                        _merge_runs(self._r, self._r_ids, inp, [r])
                if every and r.id not in self._run_ids:
                    self._run_ids.add(r.id)
                    self._runs.append(r)
        return out

    def downstream_keys(self, keys) -> set:
        """``keys`` and every stream computed (transitively) from one of them, by a run or a workflow step."""
        out, todo = set(), list(keys)
        while todo:
            k = todo.pop()
            if k in out:
                continue
            out.add(k)
            for r in self.readers_of(k):
                if r.output_stream:
                    todo.append((r.output_channel, _sid(r.output_stream)))
            for st in self.steps.readers(k):
                todo.extend(_step_outputs(st))
        return out

    def forget(self, keys) -> None:
        """Drop the cached answers of ``keys`` (and of what is computed from them): they will be read again."""
        for k in self.downstream_keys(keys):
            self._stale_cache.pop(k, None)
            self._comp_cache.pop(k, None)

    # -- questions ------------------------------------------------------------------------------------------
    def lineage(self, channel_id, stream_id) -> Lineage:
        key = (channel_id, stream_id)
        if key not in self._stale_cache:
            self._fetch_upstream(key)
        lin = Lineage(channel_id, stream_id, list(self.writers_of(key)), list(self.readers_of(key)),
                      steps=self.steps.writers(key), reader_steps=self.steps.readers(key))
        lin.computations = self.computations(channel_id, stream_id)
        lin.stale = self.stale(channel_id, stream_id)
        return lin

    def computations(self, channel_id, stream_id) -> list[Computation]:
        """What made which part of the stream and when: newest run first wins its part; workflow steps cover
        the calculated intervals no run covers. Limited to what the stream has calculated now (if known)."""
        key = (channel_id, stream_id)
        if key in self._comp_cache:
            return self._comp_cache[key]
        state = self._state(channel_id, stream_id)
        calc = state[0] if state is not None else None
        out, covered = [], TimeIntervals()
        for r in reversed(self.writers_of(key)):
            part = r.computed - covered
            covered = covered + r.computed
            if calc is not None:
                part = part & calc
            if not part.is_empty:
                out.append(Computation(part, r.started_at, _inputs(r), run=r))
        out.reverse()
        rest = calc - covered if calc is not None else None
        steps = self.steps.writers(key) if rest is not None and not rest.is_empty else ()   # planned if needed
        if steps:
            at = self._computed_at(channel_id, stream_id, state[1], rest)
            for st in steps:
                out.append(Computation(rest, at, _step_inputs(st), step=st))
        self._comp_cache[key] = out
        return out

    def stale(self, channel_id, stream_id, _seen=None) -> list[StaleReason]:
        key = (channel_id, stream_id)
        if key in self._stale_cache:
            return self._stale_cache[key]
        if _seen is None:
            self._fetch_upstream(key)
        seen = set() if _seen is None else _seen
        if key in seen:  # a stream that (indirectly) reads itself: stop
            return []
        seen.add(key)
        out = []
        comps = self.computations(channel_id, stream_id)
        changes = self._input_changes(comps)
        for c in comps:
            out += self._stale_of(c, changes, seen)
        out.sort(key=lambda s: (s.at.timestamp() if s.at else 0.0, s.change.seq if s.change else 0), reverse=True)
        self._stale_cache[key] = out
        return out

    # -- the parts ----------------------------------------------------------------------------------------------
    def _get_channel(self, channel_id):
        if self._channel is None:
            return None
        try:
            return self._channel(channel_id)
        except Exception:  # noqa: BLE001 - a channel of an old run may be gone
            return None

    def _state(self, channel_id, stream_id):
        """``(calculated TimeIntervals, last_updated)`` of a stream (None: unknown): from ``definition`` if given,
        else the channel's known stream."""
        if stream_id is None:
            return None
        if self._definition is not None:
            d = self._definition(channel_id, stream_id)
            return None if d is None else (d[0], None if d[1] is None else from_ms(d[1]))
        ch = self._get_channel(channel_id)
        stream = None if ch is None else ch.known_stream(stream_id)
        return None if stream is None else (stream.calculated_intervals, getattr(stream, "last_updated", None))

    def _computed_at(self, channel_id, stream_id, last_updated, part) -> datetime | None:
        """When a part no run record covers was computed: its newest instance's insertion (MongoDB), else the
        definition's last_updated."""
        store = getattr(self._get_channel(channel_id), "store", None)
        newest = None
        if store is not None:
            for iv in part:
                try:
                    t = store.newest_insert_time(stream_id, iv.start, iv.end)
                except Exception as e:  # noqa: BLE001 - a failed probe leaves the time to last_updated
                    log.info("lineage: newest insert of %s: %s", stream_id, e)
                    t = None
                if t is not None and (newest is None or t > newest):
                    newest = t
        return newest if newest is not None else last_updated

    def _input_changes(self, comps) -> dict:
        """``(channel_id, StreamId) -> [Change]`` after the oldest computation reading it (one read per input)."""
        since: dict = {}
        for c in comps:
            if c.at is None:
                continue
            for inp in c.inputs:
                if inp[1] is not None and (inp not in since or c.at < since[inp]):
                    since[inp] = c.at
        out = {}
        newest = self.newest_change
        for inp, t in since.items():
            ch = self._get_channel(inp[0])
            if ch is None or not getattr(ch, "keeps_changes", False):
                continue
            if newest is not None:
                at = newest(inp)
                if at is not NOT_KNOWN and (at is None or at <= to_ms(t)):
                    out[inp] = []      # nothing changed it after t: nothing to read
                    continue
            try:
                out[inp] = ch.list_changes(inp[1], since=t)
            except Exception as e:  # noqa: BLE001 - an unreadable change log shows as no change, logged
                log.warning("lineage: cannot read the changes of %s/%s: %s", inp[0], inp[1], e)
        return out

    def _stale_of(self, c: Computation, changes: dict, seen) -> list[StaleReason]:
        from ..assets_channel import AssetsChannel
        from ..assets_file_channel import AssetsFileChannel

        out = []
        run_id = c.run.id if c.run is not None else None
        what = "run" if c.run is not None else "computation"

        def reason(intervals, text, kind, **kw):
            return StaleReason(intervals, text, run_id, kind, step=c.step, computed_at=c.at, **kw)

        newest = self.newest_tool_version(c.tool) if self.newest_tool_version else None
        # a workflow step's version is comparable only when that very version is one of ours (HyperStream's own
        # tools are numbered apart from our re-implementations of them)
        comparable = c.run is not None or (self.known_tool_version is not None
                                           and self.known_tool_version(c.tool, c.tool_version))
        if newest and c.tool_version and comparable and _newer(newest, c.tool_version):
            out.append(reason(c.part, f"tool {c.tool} has a newer version {newest} than the {what}'s "
                                      f"{c.tool_version}", TOOL))
        own = f"run {c.run.id} " if c.run is not None else None
        for inp in c.inputs:
            cid, sid = inp
            if sid is None:
                continue
            ch = self._get_channel(cid)
            is_asset = isinstance(ch, (AssetsChannel, AssetsFileChannel))
            logged = changes.get(inp)
            if c.at is not None and is_asset:
                if logged is not None:
                    later = [ch_ for ch_ in logged if ch_.at > c.at and ch_.kind != PURGE]
                    if later:
                        last = later[-1]
                        out.append(reason(c.part, f"asset {sid} has a version newer than the {what} "
                                                  f"({last.describe()})", ASSET, input=inp, change=last, at=last.at,
                                          by=last.by))
                else:
                    updated = self.asset_updated(cid, sid) if self.asset_updated else None
                    if updated is not None and updated > c.at:
                        out.append(reason(c.part, f"asset {sid} has a version newer than the {what} "
                                                  f"({updated.isoformat()})", ASSET, input=inp, at=updated))
            elif c.at is not None:
                written = []
                merged: dict = {}  # (kind, by) -> [changed intervals, newest change]: one reason per writer
                lo, hi = c.part.start, c.part.end
                for change in logged or ():
                    if change.at <= c.at or (own and change.by.startswith(own)):
                        continue
                    if change.kind != PURGE:
                        written.append(change.interval)
                    if change.interval.end <= lo or change.interval.start >= hi:
                        continue  # outside the computation's span: no overlap
                    m = merged.setdefault((change.kind, change.by), [[], change])
                    m[0].append(change.interval)
                    m[1] = change
                written = TimeIntervals(written)
                for (kind, _by), (ivs, change) in merged.items():
                    changed = TimeIntervals(ivs)
                    ov = changed & c.part
                    if ov.is_empty:
                        continue
                    verb = "was purged" if kind == PURGE else "was written again"
                    where = ", ".join(_fmt(iv) for iv in list(changed)[:5]) + (
                        f" and {len(changed) - 5} more" if len(changed) > 5 else "")
                    out.append(reason(ov, f"input {sid} {verb} in {where} inside what this {what} computed "
                                          f"({change.describe()})", CHANGE, input=inp, change=change,
                                      at=change.at, by=change.by))
                out += self._unlogged(c, inp, ch, written, reason)
            # staleness flows downstream: one reason per input, the input's newest cause named
            ups = self.stale(cid, sid, _seen=seen)
            ov = TimeIntervals()
            for u in ups:
                ov = ov + (u.intervals & c.part)
            if not ov.is_empty:
                first = next(u for u in ups if not (u.intervals & c.part).is_empty)
                out.append(reason(ov, f"input {sid} is stale there ({first.reason})", UPSTREAM, input=inp,
                                  at=first.at, by=first.by, cause=first))
        return out

    def _unlogged(self, c, inp, ch, written, reason) -> list:
        """MongoDB: instances of the input inserted after the computation by a program that keeps no change log
        (their ObjectId time), inside what it computed and outside what the change log already explains."""
        store = getattr(ch, "store", None)
        probe = getattr(store, "inserted_after", None)
        if probe is None or getattr(store, "newest_insert_time", None) is None:
            return []
        out = []
        for piece in c.part - written:
            try:
                iv = probe(inp[1], piece.start, piece.end, c.at)
            except Exception as e:  # noqa: BLE001 - an unreachable server must not hide the rest
                log.warning("lineage: cannot probe %s for inserts: %s", inp[1], e)
                return out
            if iv is None:
                continue
            ov = TimeIntervals([iv]) & TimeIntervals([piece])
            if not ov.is_empty:
                out.append(reason(ov, f"input {inp[1]} has instances in {_fmt(iv)} inserted after "
                                      f"{c.at.isoformat()} by a program that keeps no change log "
                                      f"(their ObjectId times)", INSERT, input=inp, by="insert (ObjectId)"))
        return out


def workflow_steps(store=None, model=None) -> list:
    """Every plan step of every workflow of ``model`` (else loaded from ``store``); factors that cannot be
    planned (e.g. stored code, until plan marks them) are skipped and logged, the rest kept; [] without any."""
    index = StepIndex(model=model if model is not None else _model_of(store))
    return [st for i in range(len(index.factors)) for st in index.planned(i)[2]]


def _model_of(store):
    """The workflow model of ``store`` (None: none, or unreadable: logged)."""
    from .model import load_model
    if store is None:
        return None
    try:
        return load_model(store)
    except NotImplementedError:  # a store that keeps no workflow documents
        return None
    except Exception as e:  # noqa: BLE001 - lineage from runs still works without the definitions
        log.warning("lineage: cannot load the workflow definitions: %s", e)
        return None


class _ToolVersions:
    """The versions of every tool in ``manager``'s tool channels, listed once and again only when a tool channel's
    set of versions changes (a history asks about each of its runs' tools)."""

    def __init__(self, manager):
        self.manager = manager
        self._mark, self._versions, self._newest = None, {}, {}

    def _current(self) -> dict:
        channels = self.manager.tool_channels
        mark = tuple((ch.channel_id, len(getattr(ch, "versions", ()))) for ch in channels)
        if mark != self._mark:
            versions: dict = {}
            for ch in channels:
                for name, vs in ch.list_tools().items():
                    versions.setdefault(name, []).extend(str(v.version) for v in vs)
            self._mark, self._versions = mark, versions
            self._newest = {n: max(vs, key=semantic_version.Version.coerce) for n, vs in versions.items() if vs}
        return self._versions

    def newest(self, name) -> str | None:
        self._current()
        return self._newest.get(name)

    def known(self, name, version) -> bool:
        return str(version) in self._current().get(name, ())


def lineage_index(manager, steps=None, model=None, lazy: bool = False, definition=None) -> LineageIndex:
    """A LineageIndex over ``manager``'s run history, its store's workflow definitions (``model``: the ones
    already loaded, else read from the store; ``steps``: plan steps already made, else each factor is planned when
    a question first needs its steps), its tool channels, assets and change logs; ``lazy``: the run records are
    read when first needed, one stream's alone where the history can (``runs_of``); ``definition``: see
    :class:`LineageIndex`."""
    from ..assets_channel import AssetsChannel
    from ..assets_file_channel import AssetsFileChannel

    def asset_updated(channel_id, stream_id):
        try:
            channel = manager.get_channel(channel_id)
        except Exception:  # noqa: BLE001 - a channel of an old run may be gone
            return None
        if not isinstance(channel, (AssetsChannel, AssetsFileChannel)):
            return None
        stream = channel.known_stream(stream_id)
        last = stream.window().last() if stream is not None else None
        return last.timestamp if last is not None else None

    if steps is None:
        steps = StepIndex(model=model if model is not None else _model_of(getattr(manager, "store", None)))
    tools = _ToolVersions(manager)
    history = manager.run_history
    runs = history.list if lazy else history.list()
    return LineageIndex(runs, tools.newest, asset_updated, channel=manager.get_channel, steps=steps,
                        known_tool_version=tools.known, runs_of=getattr(history, "runs_of", None) if lazy else None,
                        definition=definition)


__all__ = ["Computation", "Lineage", "LineageIndex", "StaleReason", "lineage_index", "workflow_steps"]
