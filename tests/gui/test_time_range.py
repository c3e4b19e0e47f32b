"""The time-range picker on its own, and wired to the plots the way the main window wires them."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import pytz
from PySide6.QtCore import QDate, QDateTime, Qt, QTime, QTimeZone
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWidget

from channels.memory_channel import MemoryChannel
from channels.stream import StreamInstance
from channels.time_interval import TimeInterval
from channels.utils import UTC, utcnow
from hsgui.common.background import JobRunner
from hsgui.common.timefmt import datetime_to_seconds
from hsgui.plotting.plot_area import PlotArea
from hsgui.plotting.time_range import TimeRangePicker

T0 = datetime(2024, 3, 1, tzinfo=UTC)
IV = TimeInterval(T0, T0 + timedelta(hours=6))


@pytest.fixture
def picker(qtbot):
    p = TimeRangePicker(interval=IV)
    qtbot.addWidget(p)
    p.show()
    return p


def type_into(qtbot, edit, text):
    """What a user does: change the editor's date-time (wall clock of the picker's zone), press Enter."""
    edit.setFocus()
    edit.setDateTime(_qdt(text))
    qtbot.keyClick(edit, Qt.Key_Return)


def _qdt(text):
    d = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    return QDateTime(QDate(d.year, d.month, d.day), QTime(d.hour, d.minute, d.second), QTimeZone.utc())


def test_typing_a_new_start_emits_the_new_range_once(qtbot, picker):
    with qtbot.waitSignal(picker.sigRangeChanged) as sig:
        type_into(qtbot, picker.start_edit, "2024-03-01 02:30:00")
    assert sig.args[0] == TimeInterval(T0 + timedelta(hours=2, minutes=30), IV.end)
    assert picker.interval() == sig.args[0]


def marked(edit):
    """The editor is shown in the error colours."""
    return bool(edit.property("hsError")) and edit.palette().color(QPalette.Text).name() == "#b00020"


def test_end_before_start_is_refused_with_a_message(qtbot, picker):
    width = picker.sizeHint().width()
    errors = []
    picker.sigError.connect(errors.append)
    with qtbot.assertNotEmitted(picker.sigRangeChanged):
        type_into(qtbot, picker.end_edit, "2024-02-29 23:00:00")
    assert picker.interval() == IV
    assert "must be after start" in picker.error_text()
    assert errors == [picker.error_text()]
    # the message is shown next to the offending editor, never as a widget that widens the picker
    assert picker.sizeHint().width() == width
    assert picker.balloon.isVisible() and picker.balloon.anchor() is picker.end_edit
    assert picker.balloon.isWindow() and "must be after start" in picker.balloon.text()
    assert "must be after start" in picker.end_edit.toolTip()
    assert marked(picker.end_edit) and not marked(picker.start_edit)
    # the same refusal again (focus leaving the editor) says nothing new
    picker.end_edit.editingFinished.emit()
    assert len(errors) == 1
    # a valid edit clears the message, the red border, the balloon; the status bar hears ""
    with qtbot.waitSignal(picker.sigRangeChanged):
        type_into(qtbot, picker.end_edit, "2024-03-01 08:00:00")
    assert picker.error_text() == ""
    assert errors[-1] == ""
    assert not picker.balloon.isVisible() and not marked(picker.end_edit)
    assert picker.end_edit.toolTip() == "End of the range (inclusive)"
    assert picker.interval() == TimeInterval(T0, T0 + timedelta(hours=8))


def test_start_after_end_marks_the_start_editor(qtbot, picker):
    width = picker.sizeHint().width()
    type_into(qtbot, picker.start_edit, "2024-03-01 07:00:00")
    assert picker.interval() == IV and "must be after start" in picker.error_text()
    assert picker.balloon.anchor() is picker.start_edit
    assert marked(picker.start_edit) and not marked(picker.end_edit)
    assert picker.sizeHint().width() == width


def test_the_error_does_not_push_the_picker_out_of_a_toolbar(qtbot):
    """In a toolbar just wide enough for the picker, a refused entry keeps the picker in view (no » overflow)."""
    from PySide6.QtWidgets import QMainWindow, QToolBar

    win = QMainWindow()
    qtbot.addWidget(win)
    bar = QToolBar("Time range", win)
    p = TimeRangePicker(bar, interval=IV)
    action = bar.addWidget(p)
    win.addToolBar(bar)
    win.setCentralWidget(QWidget())
    win.resize(p.sizeHint().width() + 60, 300)
    win.show()
    qtbot.waitExposed(win)
    assert p.isVisible()
    errors = []
    p.sigError.connect(errors.append)
    type_into(qtbot, p.end_edit, "2024-02-29 23:00:00")
    qtbot.wait(50)
    assert "must be after start" in p.error_text() and len(errors) == 1
    assert p.isVisible() and bar.widgetForAction(action) is p
    assert p.balloon.isVisible()
    # the balloon sits just below the end editor (moved left only as far as needed to stay on the screen)
    below = p.end_edit.mapToGlobal(p.end_edit.rect().bottomLeft())
    avail = p.end_edit.screen().availableGeometry()
    x = max(avail.left(), min(below.x(), avail.right() - p.balloon.width()))
    assert abs(p.balloon.pos().x() - x) <= 1 and 0 <= p.balloon.pos().y() - below.y() <= 4
    assert p.balloon.geometry().right() <= avail.right()


def test_presets_last_hours_days_all_data_and_calculated_span(qtbot, picker):
    for text, width in (("1 h", timedelta(hours=1)), ("24 h", timedelta(days=1)), ("7 d", timedelta(days=7)),
                        ("30 d", timedelta(days=30))):
        before = utcnow()
        with qtbot.waitSignal(picker.sigRangeChanged) as sig:
            picker.preset_buttons[text].click()
        iv = sig.args[0]
        assert iv.width == width and before <= iv.end <= utcnow()
    assert not picker.all_button.isEnabled() and not picker.calc_button.isEnabled()
    data = TimeInterval(T0 - timedelta(days=3), T0 + timedelta(days=1))
    calc = TimeInterval(T0 - timedelta(days=5), T0 + timedelta(days=2))
    picker.set_data_span(data)
    picker.set_calculated_span(calc)
    with qtbot.waitSignal(picker.sigRangeChanged) as sig:
        picker.all_button.click()
    assert sig.args[0] == data
    with qtbot.waitSignal(picker.sigRangeChanged) as sig:
        picker.calc_button.click()
    assert sig.args[0] == calc


def test_set_interval_emits_only_when_asked(qtbot, picker):
    other = TimeInterval(T0, T0 + timedelta(days=1))
    with qtbot.assertNotEmitted(picker.sigRangeChanged):
        picker.set_interval(other)
    assert picker.interval() == other
    assert picker.start_edit.dateTime().toString("yyyy-MM-dd HH:mm:ss") == "2024-03-01 00:00:00"
    assert picker.end_edit.dateTime().toString("yyyy-MM-dd HH:mm:ss") == "2024-03-02 00:00:00"
    third = TimeInterval(T0, T0 + timedelta(days=2))
    with qtbot.waitSignal(picker.sigRangeChanged) as sig:
        picker.set_interval(third, emit=True)
    assert sig.args[0] == third


def test_back_and_forward_walk_through_earlier_ranges(qtbot, picker):
    a = TimeInterval(T0, T0 + timedelta(days=1))
    b = TimeInterval(T0, T0 + timedelta(days=2))
    picker.set_interval(a, emit=True)
    picker.set_interval(b, emit=True)
    assert picker.back_button.isEnabled() and not picker.forward_button.isEnabled()
    with qtbot.waitSignal(picker.sigRangeChanged) as sig:
        picker.back_button.click()
    assert sig.args[0] == a
    picker.back()
    assert picker.interval() == IV and not picker.back_button.isEnabled()
    with qtbot.waitSignal(picker.sigRangeChanged) as sig:
        picker.forward_button.click()
    assert sig.args[0] == a
    picker.forward()
    assert picker.interval() == b and not picker.forward_button.isEnabled()
    # a new range after going back drops the forward entries
    picker.back()
    c = TimeInterval(T0, T0 + timedelta(hours=1))
    picker.set_interval(c, emit=True)
    assert not picker.can_go_forward()
    picker.back()
    assert picker.interval() == a


def test_the_start_up_placeholder_range_is_no_back_step(qtbot):
    picker = TimeRangePicker()          # as the window makes it: a default range until one is set
    qtbot.addWidget(picker)
    picker.show()
    assert not picker.back_button.isEnabled()
    a = TimeInterval(T0, T0 + timedelta(days=1))
    b = TimeInterval(T0, T0 + timedelta(days=2))
    picker.set_interval(a, emit=True)    # the range the store opened with
    assert not picker.back_button.isEnabled()
    picker.set_interval(b, emit=True)
    picker.setFocus()
    qtbot.keyClick(picker.back_button, Qt.Key.Key_Space)
    assert picker.interval() == a
    assert not picker.can_go_back() and not picker.back_button.isEnabled()
    picker.back()
    assert picker.interval() == a


def test_a_burst_of_plot_zooms_is_one_history_entry(qtbot, picker):
    for k in range(1, 6):
        picker.set_interval(TimeInterval(T0, T0 + timedelta(hours=6 + k)))  # as the plots report a zoom
    picker.back()
    assert picker.interval() == IV


def test_time_zone_changes_what_the_editors_show_not_the_interval(qtbot, picker):
    with qtbot.waitSignal(picker.sigTimeZoneChanged) as sig:
        picker.zone_combo.setCurrentText("America/New_York")
        picker.zone_combo.lineEdit().editingFinished.emit()
    assert sig.args[0].zone == "America/New_York"
    assert picker.interval() == IV
    # 2024-03-01 00:00 UTC is 2024-02-29 19:00 in New York (EST, UTC-5)
    assert picker.start_edit.dateTime().toString("yyyy-MM-dd HH:mm:ss") == "2024-02-29 19:00:00"
    # times typed now are New York times
    with qtbot.waitSignal(picker.sigRangeChanged) as sig:
        type_into(qtbot, picker.end_edit, "2024-02-29 21:00:00")
    assert sig.args[0].end == T0 + timedelta(hours=2)
    # an unknown zone is refused with a message and the zone stays
    picker.zone_combo.setCurrentText("Mars/Olympus")
    picker.zone_combo.lineEdit().editingFinished.emit()
    assert "Unknown time zone" in picker.error_text()
    assert picker.balloon.anchor() is picker.zone_combo and "Unknown time zone" in picker.zone_combo.toolTip()
    assert picker.time_zone().zone == "America/New_York"


def test_local_zone_is_offered(qtbot, picker):
    assert picker.zone_combo.itemText(0) == "UTC"
    assert picker.zone_combo.itemText(1).startswith("Local (")
    picker.zone_combo.setCurrentIndex(1)
    picker.zone_combo.activated.emit(1)
    assert picker.time_zone() is picker._local


def test_overview_slider_moves_the_range_within_the_data_span(qtbot, picker):
    assert not picker.overview.isEnabled()
    span = TimeInterval(T0, T0 + timedelta(days=10))
    picker.set_data_span(span)
    assert picker.overview.isEnabled()
    assert picker.overview.value() == pytest.approx((0.0, 0.025))
    with qtbot.waitSignal(picker.sigRangeChanged, timeout=2000) as sig:
        picker.overview.setValue((0.5, 0.6))
    assert sig.args[0] == TimeInterval(T0 + timedelta(days=5), T0 + timedelta(days=6))


def test_live_follow_keeps_the_end_at_now(qtbot):
    p = TimeRangePicker(interval=IV, live_period_ms=50)
    qtbot.addWidget(p)
    with qtbot.waitSignal(p.sigLiveChanged) as live:
        with qtbot.waitSignal(p.sigRangeChanged) as sig:
            p.live_button.click()
    assert live.args == [True] and p.is_live()
    assert abs((sig.args[0].end - utcnow()).total_seconds()) < 2 and sig.args[0].width == IV.width
    ticks = []
    p.sigRangeChanged.connect(ticks.append)
    qtbot.waitUntil(lambda: len(ticks) >= 2, timeout=2000)
    p.set_live(False)
    n = len(ticks)
    qtbot.wait(200)
    assert len(ticks) == n and not p.is_live()


# -- picker <-> plots, wired as the main window wires them -----------------------------------

@pytest.fixture
def wired(qtbot):
    ch = MemoryChannel("mem")
    s = ch.create_stream("small")
    s.writer([StreamInstance._make((T0 + timedelta(minutes=10 * (i + 1)), float(i))) for i in range(100)])
    runner = JobRunner()
    area = PlotArea(runner, lambda cid, sid: ch[sid])
    picker = TimeRangePicker(interval=IV)
    for w in (area, picker):
        qtbot.addWidget(w)
    area.resize(800, 500)
    area.show()
    picker.sigRangeChanged.connect(area.set_interval)
    area.sigRangeChanged.connect(picker.set_interval)
    picker.sigTimeZoneChanged.connect(area.set_time_zone)
    area.set_interval(picker.interval())
    area.add_stream(s)
    qtbot.waitUntil(lambda: bool(area.curves()) and area.curves()[0].mode is not None and not area.busy, timeout=5000)
    yield picker, area
    runner.shutdown(5000)


def test_editing_the_picker_moves_the_plots_without_an_echo(qtbot, wired):
    picker, area = wired
    echoes, emitted = [], []
    area.sigRangeChanged.connect(echoes.append)
    picker.sigRangeChanged.connect(emitted.append)
    type_into(qtbot, picker.start_edit, "2024-03-01 03:00:00")
    iv = TimeInterval(T0 + timedelta(hours=3), IV.end)
    assert area.panes[0].x_range() == pytest.approx((datetime_to_seconds(iv.start), datetime_to_seconds(iv.end)),
                                                    abs=1e-3)
    qtbot.wait(400)  # longer than the plots' debounce
    assert echoes == [] and emitted == [iv]
    assert area.interval() == iv and picker.interval() == iv


def test_zooming_a_plot_updates_the_picker_without_an_echo(qtbot, wired):
    picker, area = wired
    emitted = []
    picker.sigRangeChanged.connect(emitted.append)
    vb = area.panes[0].view_box
    with qtbot.waitSignal(area.sigRangeChanged, timeout=2000):
        vb.setXRange(datetime_to_seconds(T0 + timedelta(hours=1)), datetime_to_seconds(T0 + timedelta(hours=2)),
                     padding=0)
    assert picker.interval() == TimeInterval(T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert picker.start_edit.dateTime().toString("HH:mm:ss") == "01:00:00"
    qtbot.wait(300)
    assert emitted == []  # the picker did not send the range back
    # and back restores the plot's earlier range
    picker.back()
    assert area.interval() == IV


def test_zone_change_relabels_both_and_keeps_the_interval(qtbot, wired):
    picker, area = wired
    picker.set_time_zone(pytz.timezone("Asia/Tokyo"))
    assert area.time_zone().zone == "Asia/Tokyo"
    assert picker.start_edit.dateTime().toString("yyyy-MM-dd HH:mm") == "2024-03-01 09:00"
    axis = area.panes[0].axis
    axis.tickValues(datetime_to_seconds(IV.start), datetime_to_seconds(IV.end), 700)
    assert axis.tickStrings([datetime_to_seconds(T0)], 1, 3600) == ["09:00"]
    qtbot.wait(300)
    assert picker.interval() == IV and area.interval() == IV


def test_editing_the_end_keeps_a_start_in_the_repeated_dst_hour(qtbot):
    picker = TimeRangePicker()
    qtbot.addWidget(picker)
    picker.set_time_zone(pytz.timezone("America/New_York"))
    # 05:30 UTC on 2026-11-01 is 01:30 EDT, the first of the two 01:30s that day
    start = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    picker.set_interval(TimeInterval(start, datetime(2026, 11, 1, 12, 0, tzinfo=UTC)))
    new_end = picker.end_edit.dateTime().addSecs(7200)
    picker.end_edit.setDateTime(new_end)
    picker.end_edit.editingFinished.emit()
    assert picker.interval() == TimeInterval(start, datetime(2026, 11, 1, 14, 0, tzinfo=UTC))


def test_the_zone_box_offers_every_common_zone_when_opened_or_typed_in(qtbot, picker):
    box = picker.zone_combo
    width = box.sizeHint().width()
    box.showPopup()
    names = [box.itemText(i) for i in range(box.count())]
    box.hidePopup()
    assert box.sizeHint().width() == width     # sized for the longest zone from the start: the toolbar stays put
    assert names[0] == "UTC" and names[1].startswith("Local (")
    assert {"Europe/Berlin", "America/New_York", "Pacific/Auckland"} <= set(names)
    assert len(names) == len(set(names)) == len(pytz.common_timezones) + 1   # UTC once, plus Local
    # typed in: the completer offers the zones that contain the text
    other = TimeRangePicker(interval=IV)
    qtbot.addWidget(other)
    other.show()
    line = other.zone_combo.lineEdit()
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, "Berl")
    assert other.zone_combo.completer().currentCompletion() == "Europe/Berlin"
