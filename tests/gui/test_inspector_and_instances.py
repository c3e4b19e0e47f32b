"""Inspector dock and instances table: what the user sees for the selected stream."""
from __future__ import annotations

import csv
import json
from datetime import timedelta

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication

from channels.time_interval import TimeInterval
from hsgui.browse.inspector import InspectorDock
from hsgui.browse.instances_table import LEAF, PAGE, InstancesTable, RowIndex
from hsgui.common.background import JobRunner

from hsgui_test_stores import HOUR, T0, memory_manager

N_BIG = 300_000


@pytest.fixture
def runner():
    r = JobRunner()
    yield r
    r.shutdown()


@pytest.fixture(scope="module")
def streams():
    _m, made = memory_manager(big=N_BIG)
    return made


def test_selecting_a_stream_fills_the_inspector(qtbot, runner, streams):
    ins = InspectorDock(runner)
    qtbot.addWidget(ins)
    ins.resize(360, 500)
    ins.show()
    s = streams["gappy"]
    ins.set_interval(TimeInterval(T0, T0 + 25 * HOUR))
    ins.set_stream(s)
    assert ins.title.text() == "hourly_mean: [house=1]"
    assert ins.fields["channel"].text() == "memory (MemoryChannel)"
    assert ins.fields["meta"].text() == "house = 1"
    assert ins.fields["calculated"].text() == "2 intervals, 20 h (1 gap)"
    qtbot.waitUntil(lambda: ins.fields["count"].text().startswith("15 instances"), timeout=5000)
    assert ins.fields["first"].text() == "2024-03-01 01:00:00"
    assert ins.fields["last"].text() == "2024-03-02 06:00:00"
    assert ins.fields["type"].text() == "number"
    # the timeline: two bars, one gap, and hovering tells the exact interval
    tl = ins.timeline
    assert len(tl.intervals) == 2 and len(tl.gaps()) == 1
    gap = tl.gaps()[0]
    assert (gap.start, gap.end) == (T0 + 10 * HOUR, T0 + 20 * HOUR)
    x_gap = (tl._x(gap.start) + tl._x(gap.end)) / 2
    assert tl.segment_at(x_gap) == ("gap", gap)
    x_bar = (tl._x(T0 + 21 * HOUR) + tl._x(T0 + 29 * HOUR)) / 2
    kind, iv = tl.segment_at(x_bar)
    assert kind == "calculated" and (iv.start, iv.end) == (T0 + 20 * HOUR, T0 + 30 * HOUR)
    with qtbot.waitSignal(tl.hovered) as sig:
        qtbot.mouseMove(tl, QPoint(int(x_gap), tl.height() // 2 - 6))
    assert sig.args[0].startswith("gap: (2024-03-01 10:00:00, 2024-03-01 20:00:00]")
    # a dict stream reports its keys
    ins.set_stream(streams["environment"])
    qtbot.waitUntil(lambda: ins.fields["type"].text().startswith("dict"), timeout=5000)
    assert "temp" in ins.fields["type"].text()


def test_instances_table_pages_a_big_stream(qtbot, runner, streams):
    table = InstancesTable(runner)
    qtbot.addWidget(table)
    table.resize(700, 400)
    table.show()
    s = streams["big"]
    model = table.model
    table.set_stream(s, TimeInterval(T0, T0 + timedelta(seconds=N_BIG)))
    qtbot.waitUntil(lambda: model.rowCount() == N_BIG, timeout=10000)
    assert model.index(0, 0).data() in ("…", "2024-03-01 00:00:01.000")
    qtbot.waitUntil(lambda: model.index(0, 1).data() == "0.0", timeout=5000)
    assert model.index(0, 0).data() == "2024-03-01 00:00:01.000"
    # jump near the end: only the pages there are read, not everything before them
    row = N_BIG - 10
    table.view.scrollTo(model.index(row, 0))
    assert model.index(row, 1).data() == "…"
    qtbot.waitUntil(lambda: model.index(row, 1).data() != "…", timeout=5000)
    assert model.index(row, 1).data() == repr(float(row % 1000))
    assert model.index(row, 0).data() == (T0 + timedelta(seconds=row + 1)).strftime("%Y-%m-%d %H:%M:%S.000")
    assert model.index_.rows_read < 20 * LEAF
    assert model._pages.keys() >= {row // PAGE}


def test_row_index_matches_a_plain_read(streams):
    s = streams["big"]
    iv = TimeInterval(T0 + timedelta(seconds=1234), T0 + timedelta(seconds=98765))
    idx = RowIndex(s, iv)
    assert idx.prepare() == 98765 - 1234
    plain = s.window(iv).items()
    for a in (0, 1, 4999, 50_000, 97_000):
        assert idx.rows(a, a + 300) == plain[a:a + 300]
    assert idx.rows(len(plain) - 5, len(plain) + 50) == plain[-5:]


def test_dict_values_readable_detail_copy_and_export(qtbot, runner, streams, tmp_path):
    table = InstancesTable(runner)
    qtbot.addWidget(table)
    table.show()
    s = streams["environment"]
    model = table.model
    table.set_stream(s, TimeInterval(T0, T0 + 48 * HOUR))
    qtbot.waitUntil(lambda: model.rowCount() == 24, timeout=5000)
    qtbot.waitUntil(lambda: model.index(1, 1).data() != "…", timeout=5000)
    assert model.index(1, 1).data() == '{"temp": 22.5, "humidity": 41, "room": "kitchen"}'
    table.view.selectRow(1)
    assert '"humidity": 41' in table.detail.toPlainText() and "\n" in table.detail.toPlainText()
    table.view.selectionModel().select(model.index(2, 0), table.view.selectionModel().SelectionFlag.Select |
                                       table.view.selectionModel().SelectionFlag.Rows)
    job = table.copy_selection()
    qtbot.waitUntil(lambda: job.is_finished, timeout=5000)
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text().count("\n") == 1, timeout=2000)
    lines = QGuiApplication.clipboard().text().split("\n")
    assert lines[0].startswith("2024-03-01 02:00:00.000\t{") and lines[1].startswith("2024-03-01 03:00:00.000\t")
    # export the shown range
    job = table.export_to(str(tmp_path / "env.csv"), "csv")
    qtbot.waitUntil(lambda: job.is_finished, timeout=5000)
    rows = list(csv.reader(open(tmp_path / "env.csv")))
    assert rows[0] == ["timestamp", "value"] and len(rows) == 25
    assert json.loads(rows[1][1]) == {"temp": 21.5, "humidity": 40, "room": "kitchen"}
    job = table.export_to(str(tmp_path / "env.json"), "json")
    qtbot.waitUntil(lambda: job.is_finished, timeout=5000)
    data = json.load(open(tmp_path / "env.json"))
    assert len(data) == 24 and data[0]["timestamp"] == "2024-03-01T01:00:00+00:00"


def test_cancelled_export_leaves_no_file(qtbot, runner, streams, tmp_path):
    table = InstancesTable(runner)
    qtbot.addWidget(table)
    table.set_stream(streams["big"], TimeInterval(T0, T0 + timedelta(seconds=N_BIG)))
    qtbot.waitUntil(lambda: table.model.rowCount() == N_BIG, timeout=10000)
    path = tmp_path / "big.json"
    job = table.export_to(str(path), "json")
    qtbot.waitUntil(lambda: job.fraction > 0, timeout=10000)
    job.cancel()
    qtbot.waitUntil(lambda: job.is_finished, timeout=10000)
    assert job.state.value == "cancelled"
    assert not path.exists() and not (tmp_path / "big.json.part").exists()



def test_time_zone_change_rewrites_every_time_shown(qtbot, runner, streams):
    """Switching to Asia/Kolkata (UTC+05:30) leaves no UTC text behind: inspector and instances status."""
    import pytz
    kolkata = pytz.timezone("Asia/Kolkata")
    s = streams["gappy"]
    s.last_updated = T0 + 30 * HOUR + timedelta(minutes=5)
    iv = TimeInterval(T0 + 12 * HOUR + timedelta(minutes=50), T0 + 25 * HOUR + timedelta(minutes=10))
    # inspector
    ins = InspectorDock(runner)
    qtbot.addWidget(ins)
    ins.set_interval(iv)
    ins.set_stream(s)
    qtbot.waitUntil(lambda: ins.fields["count"].text().startswith("5 instances"), timeout=5000)
    assert ins.fields["updated"].text() == "2024-03-02 06:05:00"
    assert ins.fields["count"].text() == "5 instances in 2024-03-01 12:50 → 2024-03-02 01:10"
    ins.timeline_label.setText("gap: (2024-03-01 10:00:00, 2024-03-01 20:00:00]  — 10 h")
    ins.set_time_zone(kolkata)
    assert ins.fields["updated"].text() == "2024-03-02 11:35:00"
    assert ins.fields["first"].text() == "2024-03-01 06:30:00"
    assert ins.fields["last"].text() == "2024-03-02 11:30:00"
    assert ins.fields["count"].text() == "5 instances in 2024-03-01 18:20 → 2024-03-02 06:40"
    assert ins.timeline_label.text() == ""   # the UTC hover text is gone
    # a stream open to the beginning of time reads "all up to <date>" in the shown zone too
    from channels.time_interval import TimeIntervals
    from channels.utils import MIN_DATE
    saved = s.calculated_intervals
    s.set_calculated_intervals_silently(TimeIntervals([TimeInterval(MIN_DATE, T0 + 30 * HOUR)]))
    try:
        ins.refresh()
        assert ins.fields["calculated"].text() == "all up to 2024-03-02 11:30"
    finally:
        s.set_calculated_intervals_silently(saved)
    # instances table: the status line's range and the detail view follow the zone, as the column header does
    table = InstancesTable(runner)
    qtbot.addWidget(table)
    table.show()
    table.set_stream(s, iv)
    qtbot.waitUntil(lambda: table.model.rowCount() == 5, timeout=5000)
    qtbot.waitUntil(lambda: table.model.index(0, 1).data() != "…", timeout=5000)
    assert table.status.text() == "hourly_mean: [house=1] — 5 instances in 2024-03-01 12:50 → 2024-03-02 01:10"
    table.view.selectRow(0)
    assert table.detail.toPlainText().startswith("2024-03-01 21:00:00.000")
    table.set_time_zone(kolkata)
    assert table.model.headerData(0, Qt.Orientation.Horizontal) == "Timestamp (Asia/Kolkata)"
    assert table.status.text() == "hourly_mean: [house=1] — 5 instances in 2024-03-01 18:20 → 2024-03-02 06:40"
    assert table.model.index(0, 0).data() == "2024-03-02 02:30:00.000"
    assert table.detail.toPlainText().startswith("2024-03-02 02:30:00.000")
