"""The demo's asset streams follow the built-in schemas of their names, so the asset editor opens each
one without problems and can save an edit (Save is blocked only because nothing changed yet)."""
import os
from datetime import datetime, timedelta

import pytest
from channels.channel_manager import ChannelManager
from channels.errors import CancelledError
from channels.stream import StreamId
from channels.time_interval import TimeInterval
from channels.utils import UTC
from hsgui.forms.value_model import tree_from_value
from hsgui.forms.value_schema import validate_tree
from hsgui.forms.schemas import schema_for_stream
from resources import demo
from resources.demo import HOUSES, RESIDENTS, build_demo_store, demo_assets, write_demo_assets

from test_asset_editor import open_editor, save_through_dialog, type_into, versions

END = datetime(2024, 2, 1, tzinfo=UTC)
START = END - timedelta(weeks=demo.WEEKS)
NAMES = ["houses", "residents", "workflow_parameters: [workflow=temperature_hourly]",
         "workflow_parameters: [workflow=accelerometer_std_1min]"]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    """A store holding only the demo's asset streams (as build_demo_store writes them)."""
    path = str(tmp_path_factory.mktemp("demo") / "demo.sqlite")
    m = ChannelManager.open(path)
    try:
        write_demo_assets(m.channels["assets"], START, END)
    finally:
        m.close()
    return path


@pytest.fixture
def assets(demo_store):
    m = ChannelManager.open(demo_store)
    yield m.channels["assets"]
    m.close()


def test_demo_assets_match_their_schemas_and_the_demo_streams():
    values = demo_assets(START, END)
    assert sorted(str(s) for s in values) == sorted(NAMES)
    for sid, value in values.items():
        schema = schema_for_stream(sid)
        assert schema is not None, sid
        assert [str(p) for p in validate_tree(tree_from_value(value), schema)] == [], sid
    # ids are the meta-data values the demo's sensor streams carry
    houses = values[StreamId("houses")]
    assert [h["house_id"] for h in houses] == list(HOUSES)
    assert all(h["installed"] == START for h in houses)
    residents = values[StreamId("residents")]
    assert {(r["house_id"], r["resident_id"]) for r in residents} == {(h, r) for h in HOUSES for r in RESIDENTS}
    wearers = [(r["house_id"], r["resident_id"]) for r in residents if r["wearable"]]
    assert wearers == [demo.WEARABLE[:2]]
    for sid, wf in values.items():
        if sid.name == "workflow_parameters":
            assert dict(sid.meta_data) == {"workflow": wf["workflow_id"]}
            assert set(wf["houses"]) <= set(HOUSES) and set(wf["residents"]) <= set(RESIDENTS)
            assert wf["tool_parameters"]["aggregate"]["func"] == wf["aggregate"]


def test_build_demo_store_writes_the_same_assets(tmp_path):
    """build_demo_store writes its assets with write_demo_assets (stopped right after that step)."""
    class CancelAfterAssets:
        calls = 0

        def is_set(self):
            self.calls += 1
            return self.calls > 1

    m = ChannelManager.open(str(tmp_path / "d.sqlite"))
    try:
        with pytest.raises(CancelledError):
            build_demo_store(m, cancel=CancelAfterAssets())
        ch = m.channels["assets"]
        assert sorted(str(s) for s in ch.streams) == sorted(NAMES)
        start = ch[StreamId("houses")].window(TimeInterval.all_time()).last().value[0]["installed"]
        for sid, value in demo_assets(start, start + timedelta(weeks=demo.WEEKS)).items():
            assert ch[sid].window(TimeInterval.all_time()).last().value == value
    finally:
        m.close()


@pytest.mark.parametrize("name", NAMES)
def test_asset_editor_opens_each_demo_asset_without_problems(qtbot, runner, assets, name):
    editor = open_editor(qtbot, runner, assets, name)
    assert editor.form.schema is not None and "schema: " in editor.info_label.text()
    assert editor.form.problem_texts() == []
    assert editor.form.summary_label.text() == "✔ No problems"
    assert editor.save_blocked_reason() == "nothing changed"
    assert not editor.save_button.isEnabled()
    shots = os.environ.get("HSGUI_DEMO_ASSET_SHOTS")
    if shots:
        qtbot.wait(100)
        editor.grab().save(os.path.join(shots, f"demo_asset_{name.split(':')[0]}_{len(name)}.png"))


def test_a_demo_asset_can_be_edited_and_saved(qtbot, runner, tmp_path):
    m = ChannelManager.open(str(tmp_path / "d.sqlite"))
    try:
        ch = m.channels["assets"]
        write_demo_assets(ch, START, END)
        editor = open_editor(qtbot, runner, ch, "houses")
        type_into(qtbot, editor.form.value_editor((1, "name")), "Bramble Cottage")
        assert editor.save_blocked_reason() == ""
        save_through_dialog(qtbot, editor)
        saved = versions(ch, "houses")[-1].value
        assert [h["name"] for h in saved] == ["House 1", "Bramble Cottage"]
        assert saved[0] == demo_assets(START, END)[StreamId("houses")][0]
        assert editor.save_blocked_reason() == "nothing changed"
        assert not editor.save_button.isEnabled()
    finally:
        m.close()
