"""The tool engine (channels.tools.Tool.execute): only-missing, chunked commits, errors, cancel, history."""
import json
import threading
from datetime import datetime, timedelta

import pytest

from channels import MemoryChannel, ReadOnlyMemoryChannel, StreamInstance, TimeInterval, TimeIntervals, UTC
from channels.errors import (CancelledError, IncorrectInputCountError, ReadOnlyChannelError, ToolExecutionError,
                             ToolInitialisationError)
from channels.tools import (MemoryRunHistory, RunRecord, StoreRunHistory, Tool, check_input_stream_count,
                           get_default_history)
from channels.utils import utcnow

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def sec(n):
    return T0 + timedelta(seconds=n)


class PerSecond(Tool):
    """One instance per whole second, value = seconds since T0; remembers the intervals it was asked for."""

    def __init__(self, fail_on_call=None):
        super().__init__(fail_on_call=fail_on_call)
        self.calls = []

    @check_input_stream_count(0)
    def _execute(self, sources, alignment_stream, interval):
        self.calls.append((interval.start, interval.end))
        if self.fail_on_call is not None and len(self.calls) == self.fail_on_call:
            yield StreamInstance(interval.end, -1)  # part of the chunk is produced, then it fails
            raise RuntimeError("sensor exploded")
        t = interval.start.replace(microsecond=0) + timedelta(seconds=1)
        while t <= interval.end:
            yield StreamInstance(t, (t - T0).total_seconds())
            t += timedelta(seconds=1)


def assert_consistent(stream, everything=TimeInterval(T0 - timedelta(days=1), T0 + timedelta(days=1))):
    """Every instance lies inside the calculated intervals, and each calculated second has its instance."""
    calc = stream.calculated_intervals
    data = stream.window(everything).items()
    assert all(inst.timestamp in calc for inst in data)
    expected = sum(int(iv.width.total_seconds()) for iv in calc)
    assert len(data) == expected
    for inst in data:
        assert inst.value == (inst.timestamp - T0).total_seconds()


@pytest.fixture
def sink():
    return MemoryChannel("mem").create_stream("out")


def test_computes_only_missing_parts(sink):
    first = PerSecond()
    first.execute([], sink, TimeInterval(sec(10), sec(20)), history=MemoryRunHistory())
    tool = PerSecond()
    run = tool.execute([], sink, TimeInterval(sec(0), sec(30)), chunk=timedelta(hours=1), history=MemoryRunHistory())
    assert tool.calls == [(sec(0), sec(10)), (sec(20), sec(30))]
    assert sink.calculated_intervals == TimeIntervals([TimeInterval(sec(0), sec(30))])
    assert run.instances_written == 20
    assert run.computed == TimeIntervals([TimeInterval(sec(0), sec(10)), TimeInterval(sec(20), sec(30))])
    assert_consistent(sink)
    # nothing missing: no call at all, progress reports completion once
    again = PerSecond()
    seen = []
    run = again.execute([], sink, TimeInterval(sec(5), sec(25)), progress=lambda f, n: seen.append((f, n)),
                        history=MemoryRunHistory())
    assert again.calls == [] and run.instances_written == 0 and run.outcome == "ok"
    assert seen == [(1.0, 0)]


def test_chunks_are_committed_one_by_one_with_progress(sink):
    tool = PerSecond()
    snapshots = []

    def progress(fraction, written):
        snapshots.append((fraction, written, sink.calculated_intervals, sink.window(
            TimeInterval(sec(0), sec(60))).count()))

    tool.execute([], sink, TimeInterval(sec(0), sec(60)), chunk=timedelta(seconds=10), progress=progress,
                 history=MemoryRunHistory())
    assert tool.calls == [(sec(10 * k), sec(10 * k + 10)) for k in range(6)]
    fractions = [s[0] for s in snapshots]
    assert fractions == sorted(fractions) and len(set(fractions)) == 6 and fractions[-1] == 1.0
    assert fractions[0] == pytest.approx(1 / 6)
    for k, (fraction, written, calc, count) in enumerate(snapshots, start=1):
        assert calc == TimeIntervals([TimeInterval(sec(0), sec(10 * k))])  # committed after each chunk
        assert written == count == 10 * k


def test_default_chunking_splits_the_missing_span(sink):
    tool = PerSecond()
    tool.execute([], sink, TimeInterval(sec(0), sec(200)), history=MemoryRunHistory())
    # the first chunk is 1/20 of the span; later ones are as long or longer (see the growth test below)
    assert tool.calls[0] == (sec(0), sec(10)) and tool.calls[-1][1] == sec(200)
    assert all(e - s >= timedelta(seconds=10) for s, e in tool.calls[:-1])
    small = PerSecond()
    small.execute([], MemoryChannel("m2").create_stream("s"), TimeInterval(sec(0), sec(5)),
                  history=MemoryRunHistory())
    assert small.calls[0] == (sec(0), sec(1))  # never below 1 s per chunk


def test_a_tool_run_again_starts_with_the_chunks_it_grew_to(sink):
    # a workflow runs one tool object for every plate value: the second run commits fewer, longer chunks
    tool = PerSecond()
    first = tool.execute([], sink, TimeInterval(sec(0), sec(200)), history=MemoryRunHistory())
    other = MemoryChannel("m3").create_stream("s")
    second = tool.execute([], other, TimeInterval(sec(0), sec(200)), history=MemoryRunHistory())
    assert first.chunks > second.chunks >= 1
    assert other.window(TimeInterval(sec(0), sec(200))).items() == sink.window(TimeInterval(sec(0), sec(200))).items()
    assert_consistent(other)


def test_error_mid_run_keeps_data_and_intervals_consistent(sink):
    history = MemoryRunHistory()
    tool = PerSecond(fail_on_call=3)
    with pytest.raises(ToolExecutionError) as err:
        tool.execute([], sink, TimeInterval(sec(0), sec(50)), chunk=10, history=history)
    assert "sensor exploded" in str(err.value) and "per_second" in str(err.value)
    assert sink.calculated_intervals == TimeIntervals([TimeInterval(sec(0), sec(20))])
    assert_consistent(sink)  # the failed chunk's partial output (value -1) was not written
    [run] = history.list()
    assert run.outcome == "error"
    assert "RuntimeError" in run.error and "sensor exploded" in run.error
    assert run.instances_written == 20 and run.chunks == 2
    # a second run completes the rest and only the rest
    tool2 = PerSecond()
    tool2.execute([], sink, TimeInterval(sec(0), sec(50)), chunk=10, history=history)
    assert tool2.calls[0] == (sec(20), sec(30))
    assert sink.calculated_intervals == TimeIntervals([TimeInterval(sec(0), sec(50))])
    assert_consistent(sink)


def test_cancel_from_progress_callback(sink):
    history = MemoryRunHistory()
    cancel = threading.Event()
    fractions = []

    def progress(fraction, written):
        fractions.append(fraction)
        if len(fractions) == 2:
            cancel.set()

    tool = PerSecond()
    with pytest.raises(CancelledError):
        tool.execute([], sink, TimeInterval(sec(0), sec(100)), chunk=10, progress=progress, cancel=cancel,
                     history=history)
    assert len(tool.calls) == 2
    assert sink.calculated_intervals == TimeIntervals([TimeInterval(sec(0), sec(20))])
    assert_consistent(sink)
    [run] = history.list()
    assert run.outcome == "cancelled" and run.instances_written == 20
    assert run.computed == TimeIntervals([TimeInterval(sec(0), sec(20))])


def test_cancel_before_start_writes_nothing(sink):
    cancel = threading.Event()
    cancel.set()
    tool = PerSecond()
    with pytest.raises(CancelledError):
        tool.execute([], sink, TimeInterval(sec(0), sec(10)), cancel=cancel, history=MemoryRunHistory())
    assert tool.calls == [] and sink.calculated_intervals.is_empty


def test_refuses_interval_after_up_to_timestamp(sink):
    sink.channel.up_to_timestamp = sec(30)
    history = MemoryRunHistory()
    with pytest.raises(ToolExecutionError) as err:
        PerSecond().execute([], sink, TimeInterval(sec(0), sec(60)), history=history)
    assert sec(30).isoformat() in str(err.value) and sec(60).isoformat() in str(err.value)
    assert sink.calculated_intervals.is_empty
    assert history.list()[0].outcome == "error"


def test_refuses_future_interval(sink):
    now = utcnow()
    with pytest.raises(ToolExecutionError, match="future"):
        PerSecond().execute([], sink, TimeInterval(now - timedelta(hours=1), now + timedelta(hours=1)),
                            history=MemoryRunHistory())


class Fixed(ReadOnlyMemoryChannel):
    def update_streams(self, up_to_timestamp):
        self._add_instances("fixed", [StreamInstance(sec(1), 1.0)], replace=True)


def test_refuses_read_only_sink():
    ch = Fixed("ro", up_to_timestamp=sec(100))
    stream = ch["fixed"]
    before = stream.calculated_intervals
    with pytest.raises(ReadOnlyChannelError, match="read-only"):
        PerSecond().execute([], stream, TimeInterval(sec(0), sec(50)), history=MemoryRunHistory())
    assert stream.calculated_intervals == before
    assert stream.window(TimeInterval(sec(0), sec(100))).count() == 1


class Mutating(Tool):
    """A HyperStream-style tool that moves interval.start (allowed on its private copy)."""

    def _execute(self, sources, alignment_stream, interval):
        interval.start = interval.start + timedelta(seconds=1)
        yield StreamInstance(interval.end, 1)


def test_interval_given_is_never_modified(sink):
    interval = TimeInterval(sec(0), sec(30))
    kept = (interval.start, interval.end)
    Mutating().execute([], sink, interval, chunk=10, history=MemoryRunHistory())
    PerSecond().execute([], MemoryChannel("m3").create_stream("s"), interval, history=MemoryRunHistory())
    assert (interval.start, interval.end) == kept
    assert [i.timestamp for i in sink.window(interval)] == [sec(10), sec(20), sec(30)]


class Echo(Tool):
    @check_input_stream_count(1)
    def _execute(self, sources, alignment_stream, interval):
        yield from sources[0].window(interval)


def test_missing_or_wrong_inputs():
    ch = MemoryChannel("mem")
    out = ch.create_stream("out")
    src = ch.create_stream("src")
    iv = TimeInterval(sec(0), sec(10))
    with pytest.raises(ToolExecutionError, match="input stream #1 is missing"):
        Echo().execute([None], out, iv, history=MemoryRunHistory())
    ch.purge_stream(src.stream_id, remove_definition=True)
    with pytest.raises(ToolExecutionError, match="src does not exist"):
        Echo().execute([src], out, iv, history=MemoryRunHistory())
    with pytest.raises(IncorrectInputCountError) as err:
        Echo().execute([], out, iv, history=MemoryRunHistory())
    assert "'echo'" in str(err.value) and "expects 1 input stream" in str(err.value) and "got 0" in str(err.value)
    assert out.calculated_intervals.is_empty


class OutOfRange(Tool):
    def _execute(self, sources, alignment_stream, interval):
        yield StreamInstance(interval.start, 0)  # start is excluded from (start, end]


def test_instance_outside_chunk_is_an_error(sink):
    with pytest.raises(ToolExecutionError) as err:
        OutOfRange().execute([], sink, TimeInterval(sec(0), sec(10)), history=MemoryRunHistory())
    assert sec(0).isoformat() in str(err.value) and "outside the interval" in str(err.value)
    assert sink.calculated_intervals.is_empty
    assert sink.window(TimeInterval(sec(-10), sec(10))).count() == 0


def test_tool_identity_and_parameters():
    a, b, c = PerSecond(fail_on_call=2), PerSecond(fail_on_call=2), PerSecond(fail_on_call=3)
    assert a == b and hash(a) == hash(b) and a != c
    assert a.name == "per_second"
    assert a.parameters == {"fail_on_call": 2} == a.parameters_dict
    assert "fail_on_call=2" in repr(a) and str(a).startswith("per_second(")


def test_history_newest_first_and_round_trip():
    history = MemoryRunHistory()
    ch = MemoryChannel("mem")
    src = ch.create_stream("src")
    src.channel.write_chunk(src, [StreamInstance(sec(i), float(i)) for i in range(1, 11)],
                            TimeIntervals([TimeInterval(sec(0), sec(10))]))
    runs = []
    for name in ("a", "b", "c"):
        runs.append(Echo().execute([src], ch.create_stream(name), TimeInterval(sec(0), sec(10)), history=history))
    listed = history.list()
    assert [r.output_stream for r in listed] == ["c", "b", "a"]
    assert [r.id for r in history.list(limit=2)] == [runs[2].id, runs[1].id]
    rec = listed[0]
    assert rec.input_streams == ["src"] and rec.input_channels == ["mem"] and rec.output_channel == "mem"
    assert rec.interval == TimeInterval(sec(0), sec(10)) and rec.instances_written == 10 and rec.outcome == "ok"
    assert rec.duration_s >= 0 and rec.started_at.tzinfo is not None
    d = rec.to_dict()
    text = json.dumps(d)  # JSON only
    back = RunRecord.from_dict(json.loads(text))
    assert back == rec
    assert d["interval"] == {"start": sec(0).isoformat(), "end": sec(10).isoformat()}


def test_parameters_recorded_in_json_form():
    class Params(Tool):
        def __init__(self, when=T0, step=timedelta(seconds=90), window=TimeInterval(sec(0), sec(5)), names=("a",)):
            super().__init__(when=when, step=step, window=window, names=names)

        def _execute(self, sources, alignment_stream, interval):
            return iter(())

    history = MemoryRunHistory()
    run = Params().execute([], MemoryChannel("m").create_stream("s"), TimeInterval(sec(0), sec(1)), history=history)
    params = history.list()[0].to_dict()["parameters"]
    assert params == {"when": T0.isoformat(), "step": 90.0,
                      "window": {"start": sec(0).isoformat(), "end": sec(5).isoformat()}, "names": ["a"]}
    assert run.parameters == params


def test_parameter_named_like_a_tool_property_is_refused():
    class Named(Tool):
        def __init__(self, name="x"):
            super().__init__(name=name)

    with pytest.raises(ToolInitialisationError, match="'name' clashes"):
        Named()


def test_cancel_object_must_have_is_set(sink):
    with pytest.raises(ToolExecutionError, match="is_set"):
        PerSecond().execute([], sink, TimeInterval(sec(0), sec(5)), cancel=True, history=MemoryRunHistory())


class FakeStore:
    """The two store methods StoreRunHistory relies on (channels/stores/base.py)."""

    def __init__(self):
        self.runs = []

    def record_run(self, run: dict):
        json.dumps(run)
        self.runs.append(run)

    def list_runs(self, limit=None):
        out = list(reversed(self.runs))
        return out if limit is None else out[:limit]


def test_store_run_history_and_default_history(sink):
    store = FakeStore()
    history = StoreRunHistory(store)
    PerSecond().execute([], sink, TimeInterval(sec(0), sec(5)), history=history)
    with pytest.raises(ToolExecutionError):
        PerSecond(fail_on_call=1).execute([], sink, TimeInterval(sec(5), sec(10)), history=history)
    listed = history.list()
    assert [r.outcome for r in listed] == ["error", "ok"]
    assert listed[0].parameters == {"fail_on_call": 1}
    # without a history argument the run goes to the module default
    before = len(get_default_history().list())
    PerSecond().execute([], sink, TimeInterval(sec(10), sec(12)))
    assert len(get_default_history().list()) == before + 1
    assert get_default_history().list(1)[0].interval == TimeInterval(sec(10), sec(12))


def test_sqlite_store_history_when_available(tmp_path):
    sqlite_store = pytest.importorskip("channels.stores.sqlite_store")
    store = sqlite_store.SQLiteStore(str(tmp_path / "s.sqlite"))
    try:
        history = StoreRunHistory(store)
        sink = MemoryChannel("mem").create_stream("out")
        r1 = PerSecond().execute([], sink, TimeInterval(sec(0), sec(3)), history=history)
        r2 = PerSecond().execute([], sink, TimeInterval(sec(3), sec(6)), history=history)
        listed = history.list()
        assert [r.id for r in listed] == [r2.id, r1.id]
        assert listed[0].to_dict() == r2.to_dict()
    finally:
        store.close()


class SlowPerSecond(PerSecond):
    """PerSecond that takes 40 ms per chunk (slower than the engine's growth threshold)."""

    def _execute(self, sources, alignment_stream, interval):
        import time
        time.sleep(0.04)
        yield from super()._execute(sources, alignment_stream, interval)


def test_default_chunks_grow_for_a_fast_tool_and_stay_small_for_a_slow_one():
    day = TimeInterval(sec(0), sec(86400))
    fast_sink = MemoryChannel("a").create_stream("fast")
    fast = PerSecond()
    fast_run = fast.execute([], fast_sink, TimeInterval(sec(0), sec(2000)), history=MemoryRunHistory())
    # the first chunk is 1/20 of the span (100 s); quick chunks double the next: 100, 200, 400, 800, rest 500
    assert fast.calls[0] == (sec(0), sec(100))
    assert fast_run.chunks < 20 and fast.calls[1] == (sec(100), sec(300))
    assert fast_sink.calculated_intervals == TimeIntervals([TimeInterval(sec(0), sec(2000))])
    assert_consistent(fast_sink)
    # a chunk per call, contiguous, in order, covering the interval once
    assert [c[0] for c in fast.calls[1:]] == [c[1] for c in fast.calls[:-1]] and fast.calls[-1][1] == sec(2000)

    slow_sink = MemoryChannel("b").create_stream("slow")
    slow = SlowPerSecond()
    progress = []
    slow.execute([], slow_sink, TimeInterval(sec(0), sec(200)), history=MemoryRunHistory(),
                 progress=lambda f, n: progress.append(f))
    assert len(slow.calls) == 20 and all(e - s == timedelta(seconds=10) for s, e in slow.calls)
    assert len(progress) == 20 and progress[-1] == 1.0
    assert_consistent(slow_sink)
    # an explicit chunk length is kept as given, however fast the tool
    explicit_sink = MemoryChannel("c").create_stream("explicit")
    explicit = PerSecond()
    run = explicit.execute([], explicit_sink, day, chunk=3600, history=MemoryRunHistory())
    assert run.chunks == 24 and all(e - s == timedelta(hours=1) for s, e in explicit.calls)
