""""Compute missing…" after purging a stream's tail, while the view shows another time."""
from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from channels.stream import StreamId
from channels.time_interval import TimeInterval, TimeIntervals
from channels.utils import utcnow
from channels.tools import RunRequest, run_request
from hsgui.compute.compute_missing_dialog import ComputeMissingDialog

from hsgui_test_stores import HOUR, T0, make_sqlite_store
from hs_fixtures import scale_tool_source


@pytest.fixture
def window(make_main_window, tmp_path):
    return make_main_window(make_sqlite_store(tmp_path / "store.sqlite"))


def test_compute_missing_fills_a_purged_tail_outside_the_view(qtbot, window):
    m = window.manager
    db = m.channels["mongo"]
    source = db[StreamId("temperature", {"house": 1, "resident": "alice"})]     # calculated (T0, T0+48h]
    made = TimeInterval(T0, T0 + 48 * HOUR)
    run_request(m, RunRequest("apply", ("mongo", StreamId("copy")), made, {"func": "identity"},
                              inputs=[("mongo", source.stream_id)]))
    copy = db[StreamId("copy")]
    assert copy.calculated_intervals == TimeIntervals([made])
    tail = TimeInterval(T0 + 40 * HOUR, T0 + 48 * HOUR)
    db.purge_interval(copy.stream_id, tail)
    assert copy.calculated_intervals == TimeIntervals([TimeInterval(T0, T0 + 40 * HOUR)])
    # the user looks at "the last 7 days" (no data there) and asks for Compute missing
    now = utcnow()
    window.picker.set_interval(TimeInterval(now - timedelta(days=7), now), emit=True)
    window.features["compute"].compute_missing_for(copy)
    qtbot.waitUntil(lambda: any(isinstance(d, ComputeMissingDialog) and d.isVisible() for d in window._dialogs),
                    timeout=10000)
    dlg = next(d for d in window._dialogs if isinstance(d, ComputeMissingDialog))
    # nothing of the inputs is in view: that choice is off; the whole span is chosen and shows the tail
    assert not dlg.buttons["visible"].isEnabled()
    assert dlg.buttons["span"].isChecked()
    assert dlg.buttons["span"].text() == \
        "the whole calculated span: 2024-03-01 00:00:00 → 2024-03-03 00:00:00"
    notes = [lab.text() for lab in dlg.findChildren(QLabel)]
    assert "  missing: (2024-03-02 16:00:00, 2024-03-03 00:00:00] (8 h)" in notes, notes
    qtbot.mouseClick(dlg.compute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.features["compute"].last_compute_missing is not None
                    and window.features["compute"].last_compute_missing.is_finished, timeout=15000)
    assert copy.calculated_intervals == TimeIntervals([made])                  # one piece again, tail filled
    assert copy.window(tail).count() == 8
    qtbot.waitUntil(lambda: "computed 8 instances" in window.statusBar().currentMessage(), timeout=3000)
    assert "whole calculated span" in window.statusBar().currentMessage()


def test_enter_in_the_dialog_computes(qtbot):
    from channels.time_interval import TimeInterval as TI

    class Rec:
        tool = "apply"

    class Sid:
        stream_id = StreamId("copy")
    seen = []
    gaps = TimeIntervals([TI(T0, T0 + HOUR)])
    dlg = ComputeMissingDialog(Sid(), Rec(), [("visible", "the visible range", TI(T0, T0 + HOUR), gaps)])
    qtbot.addWidget(dlg)
    dlg.sigCompute.connect(lambda *a: seen.append(a[0]))
    dlg.show()
    qtbot.keyClick(dlg.focusWidget() or dlg, Qt.Key.Key_Return)
    assert seen == ["visible"]


def test_compute_missing_for_a_run_whose_tool_was_removed_says_so(qtbot, window, tmp_path):
    from channels.tool_channel import ToolChannel
    m = window.manager
    db = m.channels["mongo"]
    tool_file = tmp_path / "my_tools" / "scale" / "2024-01-01_v1.0.0.py"
    tool_file.parent.mkdir(parents=True)
    tool_file.write_text(scale_tool_source())
    m.add_channel(ToolChannel("my_tools", str(tmp_path / "my_tools"), up_to_timestamp=utcnow()))
    source = db[StreamId("temperature", {"house": 1, "resident": "alice"})]     # calculated (T0, T0+48h]
    made = TimeInterval(T0, T0 + 48 * HOUR)
    run_request(m, RunRequest("scale", ("mongo", StreamId("scaled")), made, {"factor": 3.0},
                              inputs=[("mongo", source.stream_id)]))
    scaled = db[StreamId("scaled")]
    db.purge_interval(scaled.stream_id, TimeInterval(T0 + 40 * HOUR, T0 + 48 * HOUR))
    tool_file.unlink()
    m.refresh()
    window.picker.set_interval(made, emit=True)
    window.features["compute"].compute_missing_for(scaled)
    qtbot.waitUntil(lambda: "cannot re-run the run of tool 'scale' v1.0.0" in window.error_bar.text(), timeout=10000)
    assert "tool 'scale' version 1.0.0 not found" in window.error_bar.text()
    assert not any(isinstance(d, ComputeMissingDialog) for d in window._dialogs)   # no choice it could not run
