"""How the main window ties dialogs, jobs and views together (tool runs, purges, assets, presets)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from channels.channel_manager import ChannelManager
from channels.stream import StreamId
from channels.time_interval import TimeInterval
from hsgui.compute.purge_dialog import SCOPE_DEFINITION, PurgeDialog

from hsgui_test_stores import HOUR, T0, make_sqlite_store


@pytest.fixture
def window(make_main_window, tmp_path):
    return make_main_window(make_sqlite_store(tmp_path / "store.sqlite"), interval=TimeInterval(T0, T0 + 48 * HOUR))


def test_output_of_a_run_whose_dialog_was_closed_appears_in_the_tree(qtbot, window):
    dlg = window.features["compute"].open_run_dialog("tools", "clock")
    dlg.output_name.setText("ticks")
    sid = dlg.output_stream_id()
    channel_id = dlg.output_channel_obj().channel_id
    job = dlg.run()
    assert job is not None
    qtbot.waitUntil(lambda: job.fraction > 0, timeout=15000)  # at least one chunk is committed
    dlg.close()  # closing cancels after the current chunk; what was finished stays
    qtbot.waitUntil(lambda: job.is_finished, timeout=15000)
    out = window.manager.get_channel(channel_id).streams.get(sid)
    assert out is not None and not out.calculated_intervals.is_empty
    qtbot.waitUntil(lambda: window.tree.model.find_index(channel_id, sid).isValid(), timeout=10000)


def test_purge_with_definition_removes_the_curve_and_the_tree_row(qtbot, window):
    stream = window.manager.get_channel("mongo")[StreamId("events")]
    window.plot_streams([stream])
    qtbot.waitUntil(lambda: len(window.plot_area.curves()) == 1, timeout=10000)
    dlg = window.features["compute"].open_purge_dialog([stream])
    assert isinstance(dlg, PurgeDialog)
    dlg.set_scope(SCOPE_DEFINITION)
    dlg.confirm_box.setChecked(True)
    job = dlg.purge()
    qtbot.waitUntil(lambda: job.is_finished, timeout=10000)
    assert StreamId("events") not in window.manager.get_channel("mongo").streams
    qtbot.waitUntil(lambda: window.plot_area.curves() == [], timeout=10000)
    qtbot.waitUntil(lambda: not window.tree.model.find_index("mongo", StreamId("events")).isValid(), timeout=10000)


def test_switching_connection_closes_dialogs_of_the_old_one(qtbot, window, tmp_path):
    run = window.features["compute"].open_run_dialog("tools", "clock")
    purge = window.features["compute"].open_purge_dialog([window.manager.get_channel("mongo")[StreamId("events")]])
    assert run.isVisible() and purge.isVisible()
    window.set_manager(ChannelManager.open(make_sqlite_store(tmp_path / "other.sqlite")))
    assert not run.isVisible() and not purge.isVisible()


def test_asset_streams_offer_edit_in_a_dialog(qtbot, window):
    houses = window.manager.get_channel("assets")[StreamId("houses")]
    menu = window.tree.build_context_menu([houses])
    edit = [a for a in menu.actions() if a.text() == "Edit asset…"]
    assert len(edit) == 1
    data = window.manager.get_channel("mongo")[StreamId("events")]
    assert not [a for a in window.tree.build_context_menu([data]).actions() if a.text() == "Edit asset…"]
    dlg = window.features["assets"].edit_asset(houses)
    assert dlg.isVisible() and dlg.editor.stream is houses


def test_selecting_a_stream_feeds_the_all_and_calc_presets(qtbot, window):
    gappy = window.manager.get_channel("mongo")[StreamId("hourly_mean", {"house": 1})]
    assert window.tree.select_stream("mongo", gappy.stream_id)
    # its data: instances at T0+1h .. T0+10h and T0+21h .. T0+30h; calculated (T0, T0+10h] + (T0+20h, T0+30h]
    data_span = TimeInterval(T0 + HOUR - timedelta(milliseconds=1), T0 + 30 * HOUR)

    def all_gives_data_span():
        window.picker.all_button.click()
        return window.picker.interval() == data_span
    qtbot.waitUntil(all_gives_data_span, timeout=10000)  # the span is read in a job
    window.picker.calc_button.click()
    assert window.picker.interval() == TimeInterval(T0, T0 + 30 * HOUR)


def test_a_purge_updates_counts_without_resetting_the_tree(qtbot, window):
    from hsgui.compute.purge_dialog import SCOPE_RANGE
    from hsgui.browse.tree_model import COL_COUNT
    model = window.tree.model
    idx = model.find_index("mongo", StreamId("events"))
    assert idx.isValid()
    count = lambda: model.index(idx.row(), COL_COUNT, idx.parent()).data()  # noqa: E731
    qtbot.waitUntil(lambda: count() == "3", timeout=10000)
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    stream = window.manager.get_channel("mongo")[StreamId("events")]
    # events at T0+3h, +6h, +9h: purging (T0+2h, T0+7h] removes two
    window.picker.set_interval(TimeInterval(T0 + 2 * HOUR, T0 + 7 * HOUR), emit=True)
    dlg = window.features["compute"].open_purge_dialog([stream])
    dlg.set_scope(SCOPE_RANGE)
    dlg.confirm_box.setChecked(True)
    job = dlg.purge()
    qtbot.waitUntil(lambda: job.is_finished, timeout=10000)
    qtbot.waitUntil(lambda: count() == "1", timeout=10000)
    assert resets == []  # same streams: only the counts were asked again


def test_zooming_away_from_now_or_going_back_stops_live_follow(qtbot, window):
    from channels.utils import utcnow
    now = utcnow()
    window.picker.set_interval(TimeInterval(now - 2 * HOUR, now), emit=True)
    window.picker.set_interval(TimeInterval(now - HOUR, now), emit=True)
    window.picker.set_live(True)
    window.picker.back()
    assert not window.picker.is_live()
    window.picker.set_live(True)
    window.plot_area.sigRangeChanged.emit(TimeInterval(now - 3 * HOUR, now - 2 * HOUR))  # what a zoom/pan reports
    assert not window.picker.is_live()
    assert window.picker.interval() == TimeInterval(now - 3 * HOUR, now - 2 * HOUR)


def test_plot_in_new_pane_keeps_scales_apart(qtbot, window):
    temp = window.manager.get_channel("mongo")[StreamId("temperature", {"house": 1, "resident": "alice"})]
    events = window.manager.get_channel("mongo")[StreamId("hourly_mean", {"house": 1})]
    window.plot_streams([temp])
    qtbot.waitUntil(lambda: len(window.plot_area.curves()) == 1, timeout=10000)
    action = [a for a in window.tree.build_context_menu([events]).actions() if a.text() == "Plot in new pane"]
    assert len(action) == 1
    action[0].trigger()
    qtbot.waitUntil(lambda: len(window.plot_area.curves()) == 2, timeout=10000)
    panes = {c.stream.stream_id: c.pane for c in window.plot_area.curves()}
    assert len(window.plot_area.panes) == 2 and panes[temp.stream_id] is not panes[events.stream_id]
