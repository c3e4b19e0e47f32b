"""Run Tool dialog, run history and "Compute missing", driven through the widgets (headless)."""
from __future__ import annotations

import enum
import os
import textwrap
from datetime import datetime, timedelta
from typing import Literal, Optional

import pytest
import pytz
from PySide6.QtCore import QDate, QDateTime, QPointF, Qt, QTime, QTimer
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox

from channels.channel_manager import ChannelManager
from channels.config import Config
from channels.tools.functions import AggregateFunctionName
from channels.time_interval import TimeInterval, TimeIntervals
from channels.tools import Tool
from channels.tools.params import parameter_specs
from channels.utils import MIN_DATE, UTC
from hsgui.common.mime import streams_to_mime
from hsgui.compute.param_form import MIN_DATE_TEXT, ParameterForm
from hsgui.forms.datetime_edit import DateTimeEdit
from hsgui.compute.run_history import RunHistoryWidget
from hsgui.compute.compute_missing import compute_missing, defining_run, missing_intervals
from hsgui.compute.run_tool_dialog import RunToolDialog
from hsgui.compute.stream_inputs import StreamPickerDialog
from hsgui.browse.stream_tree import StreamTreeWidget

BERLIN = pytz.timezone("Europe/Berlin")
T0 = datetime(2024, 1, 1, tzinfo=UTC)
HOUR = TimeInterval(T0, T0 + timedelta(hours=1))

try:
    import channels.stores.sqlite_store  # noqa: F401
    HAVE_STORE = True
except ImportError:  # pragma: no cover - the store is part of the product; memory-only fallback
    HAVE_STORE = False

BOOM = '''
from datetime import datetime, timedelta
from channels.stream import StreamInstance
from channels.tools import Tool, check_input_stream_count
from channels.utils import MIN_DATE


class Boom(Tool):
    """One instance per minute (value 1) until ``fail_at``; computing anything after it raises."""

    def __init__(self, fail_at: datetime = MIN_DATE):
        super().__init__(fail_at=fail_at)

    @check_input_stream_count(0)
    def _execute(self, sources, alignment_stream, interval):
        if interval.end > self.fail_at:
            raise RuntimeError("sensor exploded")
        t = interval.start.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while t <= interval.end:
            yield StreamInstance(t, 1)
            t += timedelta(minutes=1)
'''

SLOW = '''
import time
from datetime import timedelta
from channels.stream import StreamInstance
from channels.tools import Tool, check_input_stream_count


class Slow(Tool):
    """One instance per minute, sleeping ``delay`` seconds per chunk (to cancel mid-run)."""

    def __init__(self, delay: float = 0.1):
        super().__init__(delay=delay)

    @check_input_stream_count(0)
    def _execute(self, sources, alignment_stream, interval):
        time.sleep(self.delay)
        t = interval.start.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while t <= interval.end:
            yield StreamInstance(t, t.minute)
            t += timedelta(minutes=1)
'''


def write_tool(folder, name, source):
    d = folder / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "2026-01-01_v0.1.0.py").write_text(textwrap.dedent(source))


@pytest.fixture
def manager(tmp_path):
    tools = tmp_path / "tools"
    write_tool(tools, "boom", BOOM)
    write_tool(tools, "slow", SLOW)
    config = Config(tool_paths=[str(tools)])
    if HAVE_STORE:
        m = ChannelManager.open(str(tmp_path / "s.sqlite"), config)
    else:
        m = ChannelManager(config=config)
    yield m
    m.close()


@pytest.fixture
def out_channel(manager):
    return "mongo" if "mongo" in manager.channels else "memory"


def set_dt(edit, dt, tz):
    local = dt.astimezone(tz)
    edit.setDateTime(QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute)))


def make_dialog(qtbot, manager, runner, tool, tz=UTC, **kw):
    dlg = RunToolDialog(manager, runner, None, kw.pop("channel", "tools"), tool, tz=tz, **kw)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def fill_output(dlg, channel_id, name, interval, tz, meta=()):
    dlg.output_channel.setCurrentIndex(dlg.output_channel.findData(channel_id))
    dlg.output_name.setText(name)
    for k, v in meta:
        dlg.meta.add_pair(k, v)
    set_dt(dlg.interval_edit.start_edit, interval.start, tz)
    set_dt(dlg.interval_edit.end_edit, interval.end, tz)


def run_and_wait(qtbot, dlg, timeout=15000):
    assert dlg.run_button.isEnabled(), dlg.problems
    with qtbot.waitSignal(dlg.sigRunFinished, timeout=timeout) as blocker:
        qtbot.mouseClick(dlg.run_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def drop_streams(widget, streams):
    """Drop streams (dragged from the stream tree) onto ``widget``."""
    md = streams_to_mime(streams)
    ev = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, md, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(ev)
    assert ev.isAccepted()


def pick_in_picker(dialog, text):
    """When the searchable picker opens (modal), type ``text`` and take the first match."""
    def do():
        pickers = [w for w in dialog.findChildren(StreamPickerDialog) if w.isVisible()]
        assert pickers, "the stream picker did not open"
        p = pickers[-1]
        p.filter_edit.setText(text)
        assert p.proxy.rowCount() >= 1, f"no stream matches {text!r}"
        p.select_row(0)
        p.accept()
    QTimer.singleShot(0, do)


# -- the pipeline clock -> sliding_window -> aggregate ----------------------------------------------------
def run_pipeline(qtbot, manager, runner, out):
    # 1. clock, every second, first tick aligned to midnight — entered in Berlin time
    clock = make_dialog(qtbot, manager, runner, "clock", tz=BERLIN, interval=HOUR)
    set_dt(clock.form.editor("first"), T0, BERLIN)          # shows 2024-01-01 01:00 (Berlin)
    assert clock.form.editor("first").dateTime().time().hour() == 1
    clock.form.editor("stride").setText("1s")
    fill_output(clock, out, "ticks", HOUR, BERLIN, meta=[("site", "lab")])
    assert clock.expected_label.text().startswith("expects 0 input streams")
    ticks = run_and_wait(qtbot, clock)
    assert clock.last_outcome == "ok"
    assert clock.progress.value() == clock.progress.maximum()
    assert "3,600 instances" in clock.status_label.text()

    # 2. sliding window: one-minute windows
    sw = make_dialog(qtbot, manager, runner, "sliding_window", interval=HOUR)
    set_dt(sw.form.editor("first"), T0, UTC)
    sw.form.editor("lower").setText("-60s")
    sw.form.editor("upper").setText("0s")
    sw.form.editor("increment").setText("1m")
    fill_output(sw, out, "windows", HOUR, UTC)
    windows = run_and_wait(qtbot, sw)

    # 3. aggregate(count): data dragged from the stream tree, windows picked in the searchable picker
    tree = StreamTreeWidget(runner)
    qtbot.addWidget(tree)
    tree.set_manager(manager)
    idx = tree.model.find_index(out, ticks.stream_id)
    assert idx.isValid()
    agg = make_dialog(qtbot, manager, runner, "aggregate", interval=HOUR)
    drop_streams(agg.inputs, tree.model.streams_for_index(idx))
    pick_in_picker(agg, "windows")
    agg.pick_alignment()
    assert agg.inputs.streams() == [(out, ticks.stream_id)]
    assert agg.alignment.streams() == [(out, windows.stream_id)]
    combo = agg.form.editor("func")
    combo.setCurrentIndex(combo.findText("count"))
    fill_output(agg, out, "counts", HOUR, UTC)
    counts = run_and_wait(qtbot, agg)
    return ticks, windows, counts, agg


def test_clock_sliding_window_aggregate_pipeline(qtbot, manager, runner, out_channel):
    ticks, windows, counts, agg = run_pipeline(qtbot, manager, runner, out_channel)

    assert str(ticks.stream_id) == "ticks: [site=lab]"
    tick_items = ticks.window(HOUR).items()
    assert len(tick_items) == 3600
    assert tick_items[0].timestamp == T0 + timedelta(seconds=1)     # first tick after the exclusive start
    assert tick_items[-1].timestamp == HOUR.end
    assert ticks.calculated_intervals == TimeIntervals([HOUR])

    win = windows.window(HOUR).items()
    assert len(win) == 60
    assert win[0].value == TimeInterval(T0, T0 + timedelta(minutes=1))

    items = counts.window(HOUR).items()
    assert [i.timestamp for i in items] == [T0 + timedelta(minutes=k) for k in range(1, 61)]
    assert all(i.value == 60 for i in items)                          # 60 one-second ticks per minute
    assert counts.calculated_intervals == TimeIntervals([HOUR])
    assert agg.last_record.instances_written == 60

    # the run history shows all three runs; "Run again" refills a dialog from the aggregate run
    hist = RunHistoryWidget(manager)
    qtbot.addWidget(hist)
    assert hist.table.rowCount() == 3
    tools = [hist.table.item(r, 1).text() for r in range(3)]
    assert tools == ["aggregate", "sliding_window", "clock"]                # newest first
    assert hist.table.item(0, 9).text() == "ok"
    assert hist.table.item(0, 7).text() == "60"
    assert "func=count" in hist.table.item(0, 3).text()
    hist.select_row(0)
    with qtbot.waitSignal(hist.sigRunAgain) as blocker:
        qtbot.mouseClick(hist.run_again_button, Qt.MouseButton.LeftButton)
    record = blocker.args[0]
    again = make_dialog(qtbot, manager, runner, record.tool)
    again.set_from_run(record)
    assert again.form.values() == {"func": "count", "include_empty": False}
    assert again.inputs.streams() == [(out_channel, ticks.stream_id)]
    assert again.alignment.streams() == [(out_channel, windows.stream_id)]
    assert again.output_stream_id() == counts.stream_id
    assert again.interval_edit.interval() == HOUR
    # the output exists and is fully calculated: the dialog says so (counted in the background)
    qtbot.waitUntil(lambda: "already has" in again.output_label.text(), timeout=5000)
    assert "<b>60</b> instances" in again.output_label.text()
    assert "Run will compute nothing" in again.output_label.text()


def test_run_again_on_a_calculated_output_keeps_the_output_box_readable(qtbot, manager, runner, out_channel):
    ticks, windows, counts, agg = run_pipeline(qtbot, manager, runner, out_channel)
    record = manager.run_history.list(1)[0]
    again = make_dialog(qtbot, manager, runner, record.tool)
    assert (again.width(), again.height()) == (980, 640)
    assert again.run_button.text() == "Run"
    again.set_from_run(record)
    qtbot.waitUntil(lambda: "Run will compute nothing" in again.output_label.text(), timeout=5000)
    qtbot.wait(50)   # let the layout settle
    # the Run button says so, and stays enabled (running records the run and computes nothing)
    assert again.run_button.text() == "Run (nothing to compute)"
    assert again.run_button.isEnabled(), again.problems
    # the meta-data table shows at least three whole rows, the warning is not cut
    assert again.meta.visible_row_capacity() >= 3
    for k in ("a", "b", "c"):
        again.meta.add_pair(k, k)
    qtbot.waitUntil(lambda: "new stream" in again.output_label.text(), timeout=5000)
    table = again.meta.table
    assert all(table.rowViewportPosition(r) + table.rowHeight(r) <= table.viewport().height() for r in range(3))
    again.meta.set_pairs(list(counts.stream_id.meta_data))
    qtbot.waitUntil(lambda: "Run will compute nothing" in again.output_label.text(), timeout=5000)
    qtbot.wait(50)
    label = again.output_label
    assert label.height() >= label.heightForWidth(label.width())
    assert label.visibleRegion().boundingRect().height() == label.height()   # not clipped by the scroll area
    # another interval has something to compute: the button is plain "Run" again
    set_dt(again.interval_edit.end_edit, HOUR.end + timedelta(minutes=30), UTC)
    qtbot.waitUntil(lambda: "Run computes only the missing part" in again.output_label.text(), timeout=5000)
    assert again.run_button.text() == "Run"


def test_compute_missing_fills_only_the_gaps(qtbot, manager, runner, out_channel):
    ticks, windows, counts, agg = run_pipeline(qtbot, manager, runner, out_channel)
    hole = TimeInterval(T0 + timedelta(minutes=20), T0 + timedelta(minutes=40))
    assert counts.channel.purge_interval(counts.stream_id, hole) == 20
    assert missing_intervals(counts, HOUR) == TimeIntervals([hole])

    record = defining_run(manager.run_history, counts)
    assert record is not None and record.tool == "aggregate"
    job = compute_missing(manager, runner, counts, HOUR, record)
    with qtbot.waitSignal(job.finished, timeout=10000):
        pass
    assert job.error is None
    assert counts.calculated_intervals == TimeIntervals([HOUR])
    assert [i.value for i in counts.window(HOUR)] == [60] * 60
    newest = manager.run_history.list(1)[0]
    assert newest.computed == TimeIntervals([hole])                   # only the gap was computed
    assert newest.instances_written == 20
    assert compute_missing(manager, runner, counts, HOUR, record) is None  # nothing missing any more


# -- validation ---------------------------------------------------------------------------------------------
def test_invalid_parameter_keeps_run_disabled(qtbot, manager, runner, out_channel):
    dlg = make_dialog(qtbot, manager, runner, "sliding_window", interval=HOUR)
    fill_output(dlg, out_channel, "w", HOUR, UTC)
    assert dlg.run_button.isEnabled()

    field = dlg.form.field("increment")
    dlg.form.editor("increment").setText("soon")
    assert not dlg.run_button.isEnabled()
    assert field.error_label.isVisible()
    assert "cannot parse duration 'soon'" in field.error_label.text()
    assert "increment" in dlg.problems_label.text()

    dlg.form.editor("increment").setText("60s")
    assert dlg.run_button.isEnabled()
    assert not field.error_label.isVisible()

    # a value each field accepts but the tool rejects: the tool's own reason is shown next to the field
    dlg.form.editor("lower").setText("10s")
    assert not dlg.run_button.isEnabled()
    assert "must be below upper" in dlg.form.field("lower").error_label.text()
    dlg.form.editor("upper").setText("20s")                             # fixing the other field clears it
    assert dlg.run_button.isEnabled()
    assert dlg.form.field("lower").error is None

    # an empty output name and an end in the future are refused as well
    dlg.output_name.setText("")
    assert not dlg.run_button.isEnabled()
    assert "stream name must be non-empty" in dlg.problems_label.text()
    dlg.output_name.setText("w")
    set_dt(dlg.interval_edit.end_edit, datetime.now(UTC) + timedelta(days=2), UTC)
    assert not dlg.run_button.isEnabled()
    assert "in the future" in dlg.problems_label.text()
    assert dlg.run() is None                                          # nothing starts while invalid


def test_input_count_is_shown_and_enforced(qtbot, manager, runner, out_channel):
    run = make_dialog(qtbot, manager, runner, "clock", interval=HOUR)
    fill_output(run, out_channel, "c", HOUR, UTC)
    stream = run_and_wait(qtbot, run)
    dlg = make_dialog(qtbot, manager, runner, "clock", interval=HOUR)
    fill_output(dlg, out_channel, "c2", HOUR, UTC)
    drop_streams(dlg.inputs, [stream])
    assert dlg.expected_label.text() == "expects 0 input streams · 1 chosen"
    assert not dlg.run_button.isEnabled()
    assert "expects 0 input streams, 1 chosen" in dlg.problems_label.text()
    dlg.inputs.setCurrentRow(0)
    dlg.inputs.item(0).setSelected(True)
    qtbot.mouseClick(dlg.remove_input_button, Qt.MouseButton.LeftButton)
    assert dlg.run_button.isEnabled()


def test_tools_without_a_declared_count_show_their_inputs_doc(qtbot, manager, runner, out_channel):
    """aggregate and aligned_merge check their inputs themselves; the dialog shows what they say, enforces nothing."""
    agg = make_dialog(qtbot, manager, runner, "aggregate", interval=HOUR)
    doc = "1 data stream + windows as alignment stream, or 2 streams: data, windows"
    assert agg.tool_class.inputs_doc == doc
    assert agg.expected_label.text() == f"expects {doc} · 0 chosen"
    assert "does not declare" not in agg.expected_label.text()
    assert agg.expected_label.styleSheet() == ""
    assert "input stream" not in agg.problems_label.text()           # no count is enforced
    merge = make_dialog(qtbot, manager, runner, "aligned_merge", interval=HOUR)
    assert merge.expected_label.text().startswith("expects 1 or more streams sharing timestamps")
    assert merge.expected_label.text().endswith(" · 0 chosen")
    # a tool with a declared count still shows and enforces it
    clock = make_dialog(qtbot, manager, runner, "clock", interval=HOUR)
    assert clock.expected_label.text() == "expects 0 input streams · 0 chosen"


# -- cancel and failure -------------------------------------------------------------------------------------
def assert_consistent(stream, interval):
    """Every instance lies in the calculated intervals, and each calculated minute has its instance."""
    items = stream.window(interval).items()
    calc = stream.calculated_intervals
    assert all(i.timestamp in calc for i in items)
    minutes = int(calc.total_width.total_seconds() // 60)
    assert len(items) == minutes


def test_cancel_mid_run_keeps_finished_chunks_consistent(qtbot, manager, runner, out_channel):
    dlg = make_dialog(qtbot, manager, runner, "slow", channel="tools_tools", interval=HOUR)
    dlg.form.editor("delay").setText("0.1")
    fill_output(dlg, out_channel, "slow", HOUR, UTC)
    clicked = []

    def cancel_on_first_progress(value):
        if value > 0 and not clicked:
            clicked.append(value)
            qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)

    dlg.progress.valueChanged.connect(cancel_on_first_progress)
    stream = run_and_wait(qtbot, dlg)
    assert clicked
    assert dlg.last_outcome == "cancelled"
    assert "cancelled" in dlg.status_label.text()
    calc = stream.calculated_intervals
    assert not calc.is_empty and calc.total_width < timedelta(hours=1)
    assert calc.start == T0                                           # chunks are committed in order
    assert_consistent(stream, HOUR)
    rec = manager.run_history.list(1)[0]
    assert rec.outcome == "cancelled" and rec.computed == calc
    assert dlg.run_button.isEnabled()                                 # can be resumed: Run again
    stream = run_and_wait(qtbot, dlg)
    assert stream.calculated_intervals == TimeIntervals([HOUR])
    assert_consistent(stream, HOUR)


def test_tool_that_raises_shows_error_and_records_failed_run(qtbot, manager, runner, out_channel):
    dlg = make_dialog(qtbot, manager, runner, "boom", channel="tools_tools", interval=HOUR)
    assert "tools/boom/2026-01-01_v0.1.0.py" in dlg.source_label.text()
    set_dt(dlg.form.editor("fail_at"), T0 + timedelta(minutes=30), UTC)
    fill_output(dlg, out_channel, "boom", HOUR, UTC)
    stream = run_and_wait(qtbot, dlg)
    assert dlg.last_outcome == "error"
    assert dlg.error_label.isVisible()
    assert "sensor exploded" in dlg.error_label.text()
    assert "boom" in dlg.error_label.text()
    # chunks before the failure stay, consistently; nothing after it is marked calculated (the first chunk is
    # 1/20 of the hour, later quick ones grow, so the committed part ends at a chunk boundary before 00:30)
    calc = stream.calculated_intervals
    assert len(calc) == 1 and calc.start == T0
    assert T0 + timedelta(minutes=3) <= calc.end <= T0 + timedelta(minutes=30)
    assert_consistent(stream, HOUR)
    rec = manager.run_history.list(1)[0]
    assert rec.tool == "boom" and rec.outcome == "error" and rec.computed == calc
    assert "sensor exploded" in rec.error
    hist = RunHistoryWidget(manager, runner)
    qtbot.addWidget(hist)
    qtbot.waitUntil(lambda: hist.table.rowCount() == 1, timeout=5000)
    assert hist.table.item(0, 9).text() == "error"
    assert "sensor exploded" in hist.table.item(0, 9).toolTip()


@pytest.mark.skipif(not os.environ.get("HSGUI_SCREENSHOTS"), reason="set HSGUI_SCREENSHOTS=dir to write screenshots")
def test_screenshots(qtbot, make_main_window, manager, runner, out_channel):
    """docs/run_tool_dialog.png (filled in) and docs/run_tool_finished.png (finished run beside its plot)."""
    from PySide6.QtGui import QColor, QPainter, QPixmap
    out = os.environ["HSGUI_SCREENSHOTS"]
    london = pytz.timezone("Europe/London")
    iv = TimeInterval(datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 1, 6, tzinfo=UTC))
    win = make_main_window(manager=manager, runner=runner, size=(1600, 900))

    g = make_dialog(qtbot, manager, runner, "gauss", tz=london, interval=iv)
    g.form.editor("mu").setText("20")
    g.form.editor("sigma").setText("1.5")
    g.form.editor("seed").setValue(7)
    g.form.editor("stride").setText("10s")
    set_dt(g.form.editor("first"), iv.start, london)
    fill_output(g, out_channel, "temperature", iv, london, meta=[("house", "1"), ("room", "kitchen")])
    temp = run_and_wait(qtbot, g)
    sw = make_dialog(qtbot, manager, runner, "sliding_window", tz=london, interval=iv)
    set_dt(sw.form.editor("first"), iv.start, london)
    sw.form.editor("lower").setText("-15m")
    sw.form.editor("upper").setText("0")
    sw.form.editor("increment").setText("15m")
    fill_output(sw, out_channel, "windows_15m", iv, london)
    wins = run_and_wait(qtbot, sw)

    agg = RunToolDialog(manager, runner, win.resolve_stream, "tools", "aggregate", interval=iv, tz=london)
    qtbot.addWidget(agg)
    agg.resize(1000, 700)
    agg.show()
    drop_streams(agg.inputs, [temp])
    agg.alignment.add_streams([(out_channel, wins.stream_id)])
    agg.form.editor("func").setCurrentIndex(agg.form.editor("func").findText("mean"))
    fill_output(agg, out_channel, "temperature_mean_15m", iv, london, meta=[("house", "1"), ("room", "kitchen")])
    qtbot.wait(400)
    agg.grab().save(os.path.join(out, "run_tool_dialog.png"))

    win.picker.set_interval(iv, emit=True)
    agg.sigRunFinished.connect(lambda s: win.features["browse"].streams_changed())   # the dialog runs on its own runner
    result = run_and_wait(qtbot, agg)
    assert result.window(iv).count() == 24
    win.plot_area.add_stream(temp)
    win.plot_area.add_stream(result, pane=win.plot_area.add_pane())   # the output in its own pane
    win.tree.select_stream(out_channel, result.stream_id)
    qtbot.wait(2500)
    w1, w2 = win.grab(), agg.grab()
    canvas = QPixmap(w1.width() + w2.width() + 16, max(w1.height(), w2.height()))
    canvas.fill(QColor("#808080"))
    p = QPainter(canvas)
    p.drawPixmap(0, 0, w1)
    p.drawPixmap(w1.width() + 16, 0, w2)
    p.end()
    canvas.save(os.path.join(out, "run_tool_finished.png"))


# -- the parameter form on its own ---------------------------------------------------------------------------
class Mode(enum.Enum):
    fast = 1
    exact = 2


class Kinds(Tool):
    """One parameter of every kind the form knows (module level so the annotations resolve)."""

    def __init__(self, n: int = 3, big: int = 2 ** 40, x: float = 0.5, flag: bool = True,
                 when: datetime = MIN_DATE, every: timedelta = timedelta(minutes=5),
                 side: Literal["left", "right"] = "right", mode: Mode = Mode.exact,
                 func: AggregateFunctionName = "median", limit: Optional[float] = None,
                 keys: list[int] = (1, 2), extra: dict = None, label: str = "a"):
        super().__init__()


def test_parameter_form_widgets_per_kind(qtbot):
    form = ParameterForm(parameter_specs(Kinds), tz=BERLIN, tool_name="kinds")
    qtbot.addWidget(form)
    form.show()
    kinds = {n: type(form.editor(n)) for n in form.fields}
    assert kinds == {"n": QSpinBox, "big": QLineEdit, "x": QLineEdit, "flag": QCheckBox, "when": DateTimeEdit,
                     "every": QLineEdit, "side": QComboBox, "mode": QComboBox, "func": QComboBox, "limit": QLineEdit,
                     "keys": QLineEdit, "extra": QLineEdit, "label": QLineEdit}
    assert form.editor("when").text() == MIN_DATE_TEXT                 # MIN_DATE shown as such, read back exactly
    assert form.editor("every").text() == "300s"
    assert form.field("limit").unset_box.isChecked() and not form.editor("limit").isEnabled()
    assert form.values() == {"n": 3, "big": 2 ** 40, "x": 0.5, "flag": True, "when": MIN_DATE,
                             "every": timedelta(minutes=5), "side": "right", "mode": Mode.exact, "func": "median",
                             "limit": None, "keys": [1, 2], "extra": None, "label": "a"}
    func_items = [form.editor("func").itemText(i) for i in range(form.editor("func").count())]
    assert {"mean", "median", "max", "count"} <= set(func_items)

    validity = []
    form.sigValidityChanged.connect(validity.append)
    form.editor("keys").setText("1, two")
    assert validity == [False]
    assert "keys" in form.errors() and form.field("keys").error_label.isVisible()
    form.editor("keys").setText("4, 5, 6")
    assert validity == [False, True]
    form.field("extra").unset_box.setChecked(False)
    form.editor("extra").setText('{"a": ')
    assert "expected a dict as JSON" in form.errors()["extra"]
    form.editor("extra").setText('{"a": [1, 2]}')
    form.editor("big").setText("12345678901234567890")
    form.field("limit").unset_box.setChecked(False)
    form.editor("limit").setText("2.5e-3")
    # values as a run record stores them (JSON forms) fill the widgets back
    form.set_values({"when": "2024-01-01T00:00:00+00:00", "every": 90.0, "mode": "fast", "side": "left"})
    assert form.editor("when").dateTime().time().hour() == 1           # shown in Berlin time
    values = form.values()
    assert values["when"] == T0 and values["every"] == timedelta(seconds=90)
    assert values["mode"] is Mode.fast and values["side"] == "left"
    assert values["keys"] == [4, 5, 6] and values["extra"] == {"a": [1, 2]}
    assert values["big"] == 12345678901234567890 and values["limit"] == 0.0025
    assert form.is_valid()


def test_compute_with_context_menu_opens_dialog_with_inputs(qtbot, manager, runner, out_channel, make_main_window):
    run = make_dialog(qtbot, manager, runner, "clock", interval=HOUR)
    fill_output(run, out_channel, "c", HOUR, UTC)
    stream = run_and_wait(qtbot, run)
    window = make_main_window(manager=manager)
    menu = window.tree.build_context_menu([stream])
    sub = next(a.menu() for a in menu.actions() if a.text() == "Compute with…")
    names = [a.text() for a in sub.actions()]
    assert "aggregate  (tools)" in names and "sliding_apply  (tools)" in names
    for source in ("clock", "gauss", "randint", "uniform", "sliding_window", "csv_reader"):   # they take no input
        assert f"{source}  (tools)" not in names
    assert "boom  (tools_tools)" not in names and "slow  (tools_tools)" not in names
    next(a for a in sub.actions() if a.text() == "aggregate  (tools)").trigger()
    dlg = next(d for d in window.findChildren(RunToolDialog) if d.isVisible())
    assert dlg.inputs.streams() == [(out_channel, stream.stream_id)]
