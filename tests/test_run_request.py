"""Issue 24: one tool run asked for as a value (RunRequest), run by one function (run_request), and "re-run this
recorded run" (request_from_record) — what Run Tool, Compute missing, Recompute and workflow steps share."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from channels import ChannelManager, StreamId, StreamInstance, TimeInterval, TimeIntervals, UTC
from channels.errors import RunRequestError
from channels.tool_channel import ToolChannel
from channels.tools import RunRequest, request_from_record, run_request
from channels.utils import utcnow
from hs_fixtures import scale_tool_source

T0 = datetime(2024, 3, 1, tzinfo=UTC)
DAY = TimeInterval(T0, T0 + timedelta(hours=24))
RAW, OUT = StreamId("raw", {"house": "1"}), StreamId("negated", {"house": "1"})

@pytest.fixture
def manager(tmp_path):
    m = ChannelManager.open(str(tmp_path / "store.sqlite"))
    ch = m.get_channel("mongo")
    raw = ch.get_or_create_stream(RAW)
    ch.write_chunk(raw, [StreamInstance(T0 + timedelta(minutes=10 * k), float(k)) for k in range(1, 145)],
                   TimeIntervals([DAY]))
    yield m
    m.close()


def _values(stream, interval=DAY):
    return [(i.timestamp, i.value) for i in stream.window(interval).items()]


def test_rerunning_a_recorded_run_fills_a_purged_gap_with_the_same_values(manager):
    ch = manager.get_channel("mongo")
    first = run_request(manager, RunRequest("apply", ("mongo", OUT), DAY, {"func": "negate"},
                                            inputs=[("mongo", str(RAW))]))
    out = ch[OUT]
    before = _values(out)
    assert len(before) == 144 and before[0][1] == -1.0
    gap = TimeInterval(T0 + timedelta(hours=6), T0 + timedelta(hours=9))
    ch.purge_interval(OUT, gap)
    assert out.calculated_intervals == TimeIntervals([DAY]) - TimeIntervals([gap])

    again = run_request(manager, request_from_record(manager, first))        # the whole recorded interval
    assert _values(out) == before                                             # the same values, gap filled
    assert out.calculated_intervals == TimeIntervals([DAY])
    assert again.computed == TimeIntervals([gap])                             # only the gap was computed
    assert (again.tool, again.parameters, again.tool_version) == (first.tool, first.parameters, first.tool_version)
    assert again.input_streams == [str(RAW)] and manager.run_history.list(1)[0].id == again.id


def test_a_run_computes_only_where_its_inputs_are_calculated(manager):
    wider = TimeInterval(T0, T0 + timedelta(hours=48))
    record = run_request(manager, RunRequest("apply", ("mongo", OUT), wider, {"func": "negate"},
                                             inputs=[("mongo", RAW)], chunk=timedelta(hours=6)))
    assert manager.get_channel("mongo")[OUT].calculated_intervals == TimeIntervals([DAY])
    assert [(s["start"], s["input"]) for s in record.skipped] == [(DAY.end.isoformat(), str(RAW))]


@pytest.mark.parametrize("change, field", [
    (dict(tool=""), "tool"),
    (dict(output=None), "output"),
    (dict(output=("mongo", "bad: [x")), "output"),
    (dict(interval=(T0, T0 + timedelta(hours=1))), "interval"),
    (dict(parameters=["negate"]), "parameters"),
    (dict(inputs=[("mongo", RAW), ("mongo", 3)]), "inputs[1]"),
    (dict(alignment="mongo/raw"), "alignment"),
    (dict(chunk=-5), "chunk"),
    (dict(version=1), "version"),
    (dict(output_plate=("room", "kitchen")), "output_plate"),
])
def test_a_bad_request_names_the_wrong_field(change, field):
    fields = dict(tool="apply", output=("mongo", OUT), interval=DAY, parameters={"func": "negate"},
                  inputs=[("mongo", RAW)])
    fields.update(change)
    with pytest.raises(RunRequestError) as e:
        RunRequest(**fields)
    assert e.value.field == field
    assert f"run request: {field} " in str(e.value)


def test_a_missing_input_is_named_before_anything_is_written(manager):
    gone = StreamId("raw", {"house": "2"})
    with pytest.raises(RunRequestError, match=r"inputs\[1\] mongo/raw: \[house=2\] does not exist") as e:
        run_request(manager, RunRequest("aligned_merge", ("mongo", OUT), DAY, inputs=[("mongo", RAW), ("mongo", gone)]))
    assert e.value.field == "inputs[1]"
    assert OUT not in manager.get_channel("mongo").streams


def test_a_record_of_a_tool_removed_since_says_which_run_cannot_be_rerun(manager, tmp_path):
    folder = tmp_path / "tools" / "scale"
    folder.mkdir(parents=True)
    (folder / "2024-01-01_v1.0.0.py").write_text(scale_tool_source(1))
    (folder / "2024-02-01_v2.0.0.py").write_text(scale_tool_source(10))
    manager.add_channel(ToolChannel("my_tools", str(tmp_path / "tools"), up_to_timestamp=utcnow()))
    record = run_request(manager, RunRequest("scale", ("mongo", OUT), DAY, {"factor": 3.0}, version="1.0.0",
                                             inputs=[("mongo", RAW)]))
    assert record.tool_version == "1.0.0"
    (folder / "2024-01-01_v1.0.0.py").unlink()
    manager.refresh()                                 # the tool folders are read again

    with pytest.raises(RunRequestError) as e:
        request_from_record(manager, record)
    text = str(e.value)
    assert e.value.field == "tool"
    assert text.startswith("cannot re-run the run of tool 'scale' v1.0.0 that wrote mongo/negated: [house=1]")
    assert text.endswith("tool 'scale' version 1.0.0 not found: searched tools, my_tools")
    # Recompute's choice: the newest version of the same tool, same parameters and streams
    newest = request_from_record(manager, record, newest=True)
    assert (newest.version, newest.tool_channel, newest.parameters) == ("2.0.0", "my_tools", {"factor": 3.0})
    assert newest.inputs == (("mongo", RAW),) and newest.output == ("mongo", OUT) and newest.interval == DAY
