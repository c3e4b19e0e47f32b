"""The Workflows dock with a workflow HyperStream wrote, whose factors carry stored code: the graph marks the
factors that cannot run before anyone presses Run; Run names them and runs the others only when asked;
binding a parameter in the dock makes its factor runnable; consent (after seeing the code) runs the stored
code in a worker process."""
from __future__ import annotations

import json
import sys

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from channels import StreamId

import test_workflow_stored_code as fx


def _click_in_message_box(text: str, seen: list):
    """Click the button named ``text`` of the message box that opens next (recording its texts)."""
    def attempt():
        box = next((w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()), None)
        if box is None:
            QTimer.singleShot(50, attempt)
            return
        seen.append(box.text() + "\n" + box.informativeText())
        button = next(b for b in box.buttons() if b.text() == text)
        button.click()
    QTimer.singleShot(50, attempt)


@pytest.fixture
def stored_workflow():
    """The documents HyperStream wrote (workflow, plates, meta-data)."""
    return json.loads(fx.FIXTURE.read_text())


@pytest.fixture
def window(make_main_window, tmp_path, hs_tools, stored_workflow):
    return make_main_window(fx._on_sqlite(stored_workflow, tmp_path / "store.sqlite"), tool_paths=[hs_tools],
                            interval=fx._interval(stored_workflow), dock="workflows",
                            ready=lambda w: w.workflows.graph_shown()), stored_workflow


@pytest.fixture
def hs_tools(tmp_path):
    folder = tmp_path / "hyperstream_tools"
    for name, text in fx.HS_TOOLS.items():
        (folder / name).mkdir(parents=True)
        (folder / name / "2016-10-26_v0.1.0.py").write_text(text)
    return str(folder)


def test_factors_with_stored_code_are_marked_refused_by_name_and_the_others_run(qtbot, window):
    w, data = window
    dock = w.workflows
    qtbot.waitUntil(lambda: set(dock.view.blocked) == {1, 2, 4}, timeout=10000)
    tip = dock.view.boxes["factor:2"].toolTip()
    assert "cannot run" in tip and "'func' holds Python code stored in the database" in tip
    # the factor's details show the parameter, its state and the three ways on
    qtbot.mouseClick(dock.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=dock.view.mapFromScene(dock.view.boxes["factor:2"].scenePos()))
    qtbot.waitUntil(lambda: "Bind to a function" in dock.details.toPlainText(), timeout=5000)
    assert "not bound: cannot run yet" in dock.details.toPlainText()
    seen = []
    _click_in_message_box("Run the others only", seen)
    qtbot.mouseClick(dock.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dock.run_button.isEnabled() and dock._run_job is None, timeout=30000)
    assert "3 factors" in seen[0] and "factor 1 (apply)" in seen[0] and "factor 4 (sliding_apply)" in seen[0]
    mongo = w.manager.get_channel("mongo")
    w.manager.refresh()
    assert mongo[StreamId("windows_10min")].window(fx._interval(data)).count() == 6
    assert StreamId("house_sum", {"house": "1"}) not in mongo.streams


def test_binding_in_the_dock_makes_the_factor_runnable(qtbot, window, tmp_path):
    w, data = window
    dock = w.workflows
    qtbot.waitUntil(lambda: set(dock.view.blocked) == {1, 2, 4}, timeout=10000)
    functions = fx._plugin_functions(tmp_path)
    qtbot.mouseClick(dock.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=dock.view.mapFromScene(dock.view.boxes["factor:2"].scenePos()))
    qtbot.waitUntil(lambda: "not bound: cannot run yet" in dock.details.toPlainText(), timeout=5000)
    dock.bind_parameter(1, "func", f"{functions}:minute")
    dock.bind_parameter(2, "func", "sum")
    # the factor on show says what it is bound to as soon as the binding is kept
    qtbot.waitUntil(lambda: "bound to sum" in dock.details.toPlainText(), timeout=10000)
    dock.bind_parameter(4, "func", f"{functions}:tenth_of_sum")
    qtbot.waitUntil(lambda: dock.view.blocked == {}, timeout=10000)
    assert dock.view.boxes["factor:2"].toolTip() == "aggregate"
    qtbot.mouseClick(dock.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dock.run_button.isEnabled() and dock._run_job is None, timeout=30000)
    w.manager.refresh()
    sums = w.manager.get_channel("mongo")[StreamId("mean_house_sum", {"house": "1"})]
    assert [[ts.isoformat(), v] for ts, v in sums.window(fx._interval(data)).items()] == \
        data["results"]["mean_house_sum|house=1"]


def test_consent_after_seeing_the_code_runs_it_in_a_worker_process(qtbot, window, tmp_path):
    pytest.importorskip("xdis")
    w, data = window
    if tuple(data["python"]) != sys.version_info[:2]:
        pytest.skip("the fixture's code was marshalled by another Python")
    from channels.workflows.stored_code import CodeConsents
    dock = w.workflows
    dock.consents = CodeConsents(str(tmp_path / "consent.json"))
    qtbot.waitUntil(lambda: set(dock.view.blocked) == {1, 2, 4}, timeout=10000)
    wf = dock.workflow()
    for index in (1, 2, 4):
        seen = []
        _click_in_message_box("Allow this code to run", seen)
        code = fx_code(wf, index)
        assert dock.ask_consent(index, "func", code)
        assert code.sha256 in seen[0] and "runs that code on this computer" in seen[0]
    qtbot.waitUntil(lambda: dock.view.blocked == {}, timeout=10000)
    qtbot.mouseClick(dock.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dock.run_button.isEnabled() and dock._run_job is None, timeout=60000)
    w.manager.refresh()
    sums = w.manager.get_channel("mongo")[StreamId("house_sum", {"house": "2"})]
    assert [[ts.isoformat(), v] for ts, v in sums.window(fx._interval(data)).items()] == \
        data["results"]["house_sum|house=2"]


def fx_code(wf, index):
    from channels.workflows.stored_code import read_stored_code
    return read_stored_code(wf.factors[index].tool.code_values["func"])
