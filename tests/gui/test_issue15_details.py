"""Small things a user notices: figures that stay while they are re-read, a one-version asset's timeline,
day labels with their month."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QModelIndex

from channels import AssetsChannel, StreamInstance, TimeInterval
from channels.stores.sqlite_store import SQLiteStore
from channels.utils import UTC
from hsgui.browse.inspector import InspectorDock
from hsgui.browse.stream_tree import StreamTreeWidget
from hsgui.browse.tree_model import COL_COUNT
from hsgui.common.timefmt import datetime_to_seconds
from hsgui.plotting.time_axis import TimeAxisItem

from hsgui_test_stores import HOUR, T0, memory_manager
from test_stream_tree import child, expand


def test_inspector_keeps_the_count_while_it_is_read_again(qtbot, runner):
    _m, made = memory_manager()
    ins = InspectorDock(runner)
    qtbot.addWidget(ins)
    ins.show()
    ins.set_interval(TimeInterval(T0, T0 + 25 * HOUR))
    ins.set_stream(made["gappy"])
    qtbot.waitUntil(lambda: ins.fields["count"].text().startswith("15 instances"), timeout=5000)
    ins.refresh()   # after a job: the old figure stays until the new one arrives
    assert ins.fields["count"].text().startswith("15 instances")
    assert ins.fields["first"].text() == "2024-03-01 01:00:00"
    qtbot.waitUntil(lambda: not ins.busy, timeout=5000)
    assert ins.fields["count"].text().startswith("15 instances")


def test_tree_counts_stay_while_they_are_counted_again(qtbot, runner):
    manager, _made = memory_manager()
    tree = StreamTreeWidget(runner)
    qtbot.addWidget(tree)
    tree.show()
    tree.set_manager(manager)
    m = tree.model
    memory = child(m, QModelIndex(), "memory")
    expand(tree, memory)
    row = child(m, memory, "events").row()
    qtbot.waitUntil(lambda: m.index(row, COL_COUNT, memory).data() not in (None, "…"), timeout=5000)
    before = m.index(row, COL_COUNT, memory).data()
    m.reload()          # what a refresh or a finished job does
    memory = child(m, QModelIndex(), "memory")
    expand(tree, memory)
    assert m.index(row, COL_COUNT, memory).data() == before
    m.refresh_data()
    assert m.index(row, COL_COUNT, memory).data() == before
    qtbot.waitUntil(lambda: not m.counts_pending(), timeout=5000)


def test_one_version_asset_timeline_shows_its_calculated_stretch(qtbot, runner, tmp_path):
    ch = AssetsChannel("assets", SQLiteStore(str(tmp_path / "a.sqlite")))
    stream = ch.write_to_stream("config", StreamInstance(T0, {"x": 1}))
    ins = InspectorDock(runner)
    qtbot.addWidget(ins)
    ins.resize(360, 500)
    ins.show()
    ins.set_stream(ch["config"])
    qtbot.waitUntil(lambda: not ins.busy, timeout=5000)
    assert ins.fields["calculated"].text().startswith("all up to")
    tl = ins.timeline
    assert tl.span is not None and tl.span.end == T0
    kind, iv = tl.segment_at(tl._x(T0 - HOUR))
    assert kind == "calculated" and iv.end == T0
    ch.store.close()


def test_multi_day_axis_labels_carry_the_month(qtbot):
    import pyqtgraph as pg
    axis = TimeAxisItem(UTC)
    pw = pg.PlotWidget(axisItems={"bottom": axis})
    qtbot.addWidget(pw)
    pw.resize(800, 300)
    pw.show()
    qtbot.waitExposed(pw)
    lo = datetime_to_seconds(datetime(2024, 3, 2, tzinfo=UTC))
    hi = datetime_to_seconds(datetime(2024, 3, 14, tzinfo=UTC))
    pw.setXRange(lo, hi, padding=0)
    pw.grab()   # paints: the axis picks its zoom level and font metrics
    ticks = axis.tickValues(lo, hi, 700)
    day = [(sp, vals) for sp, vals in ticks if sp == 86400 or sp % 86400 == 0]
    assert day, ticks
    spacing, values = day[-1]
    labels = axis.tickStrings(values, 1.0, spacing)
    assert labels[0].endswith(" Mar"), labels
    assert all(lab.isdigit() for lab in labels[1:]), labels
    # a month change shows the new month
    lo2 = datetime_to_seconds(datetime(2024, 3, 25, tzinfo=UTC))
    hi2 = datetime_to_seconds(datetime(2024, 4, 6, tzinfo=UTC))
    pw.setXRange(lo2, hi2, padding=0)
    pw.grab()
    ticks = axis.tickValues(lo2, hi2, 700)
    spacing, values = [(sp, v) for sp, v in ticks if sp % 86400 == 0 and sp < 30 * 86400][-1]
    labels = axis.tickStrings(values, 1.0, spacing)
    assert any(lab.endswith(" Apr") for lab in labels), labels


def test_a_wrong_number_is_explained_once(qtbot, runner):
    from channels.channel_manager import ChannelManager
    from hsgui.compute.run_tool_dialog import RunToolDialog
    m = ChannelManager()
    dlg = RunToolDialog(m, runner, None, "tools", "gauss", tz=UTC)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.form.editor("mu").setText("twenty")
    text = dlg.form.field("mu").error_label.text()
    assert "got str 'twenty'" in text and text.count("expected") == 1, text
    assert not dlg.run_button.isEnabled()


def test_errors_show_times_as_the_editors_do(qtbot, make_main_window):
    import pytz
    from channels.channel_manager import ChannelManager
    from hsgui.common.timefmt import readable_times
    w = make_main_window(manager=ChannelManager())
    w.picker.set_time_zone(pytz.timezone("Europe/London"))
    job = w.runner.submit("bad interval", lambda ctx: TimeInterval(T0 + HOUR, T0), kind="tool")
    qtbot.waitUntil(lambda: job.is_finished and bool(w.error_bar.text()), timeout=5000)
    text = w.error_bar.text()
    assert "T01:00:00" not in text and "+00:00" not in text, text
    assert "2024-03-01 01:00:00" in text and "2024-03-01 00:00:00" in text, text
    assert readable_times("at 2024-06-01T12:00:00.250000+00:00.", pytz.timezone("Europe/London")) == \
        "at 2024-06-01 13:00:00.250."


def test_a_store_of_only_assets_opens_on_the_range_of_their_versions(qtbot, make_main_window, tmp_path, monkeypatch):
    from channels.channel_manager import ChannelManager
    from channels.stream import StreamId
    from hsgui import settings as hs_settings
    path = str(tmp_path / "assets_only.sqlite")
    m = ChannelManager.open(path)
    m.channels["assets"].write_to_stream(StreamId("site"), StreamInstance(T0, {"a": 1}))
    m.channels["assets"].write_to_stream(StreamId("site"), StreamInstance(T0 + HOUR, {"a": 2}))
    m.close()
    w = make_main_window(path)
    qtbot.waitUntil(lambda: T0 + HOUR in w.picker.interval() and T0 + timedelta(minutes=1) in w.picker.interval(),
                    timeout=5000)
    assert w.tree.select_stream("assets", StreamId("site"))
    qtbot.waitUntil(lambda: w.inspector.fields["count"].text().startswith("2 instances"), timeout=5000)
