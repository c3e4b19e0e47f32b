"""The Workflows dock on the deployment-shaped workflow (111 nodes, 76 factors), driven with real mouse and key
events: Fit shows every vertex, search highlights and Enter centres, a click emphasises what a node reads and
what reads it, labels keep their full text at hand, grouped by plate draws labelled frames, the window stream
feeding dozens of factors is not drawn as a bundle, and engine settings refuse a Dask scheduler on a SQLite
store before anything runs."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QPointF, Qt

from channels import ChannelManager, TimeInterval, UTC
from hsgui.workflows.graph_view import FAN_LIMIT
from resources.demo.deployment import build_deployment

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def window(make_main_window, tmp_path):
    return make_main_window(deployment_store(tmp_path / "dep.sqlite"), size=(1500, 950),
                            interval=TimeInterval(T0, T0 + timedelta(minutes=30)), dock="workflows", dock_height=420,
                            ready=lambda w: w.workflows.graph_shown() and len(w.workflows.states) == 111,
                            ready_timeout=30000)


def deployment_store(path) -> str:
    manager = ChannelManager.open(str(path))
    build_deployment(manager.store, 2, T0)
    manager.close()
    return str(path)


def _click(qtbot, view, key):
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(view.boxes[key].scenePos()))


def _in_view(view, key) -> bool:
    return view.visible_scene_rect().contains(view.boxes[key].sceneBoundingRect())


def test_fit_shows_every_vertex_of_the_111_node_graph(qtbot, window):
    view = window.workflows.view
    assert sum(1 for k in view.boxes if k.startswith("node:")) == 111
    assert sum(1 for k in view.boxes if k.startswith("factor:")) == 76
    view.scale(3, 3)   # zoomed in: most of it is out of view
    assert not all(_in_view(view, k) for k in view.boxes)
    qtbot.mouseClick(window.workflows.fit_button, Qt.MouseButton.LeftButton)
    outside = [k for k in view.boxes if not _in_view(view, k)]
    assert outside == []


def test_typing_a_name_highlights_its_matches_and_enter_centres_the_first(qtbot, window):
    dock = window.workflows
    view = dock.view
    qtbot.mouseClick(dock.search, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dock.search, "home_summ")
    assert view.look("node:home_summary_5min") == "match"
    assert view.look("node:env_raw") == "dimmed" and view.look("factor:0") == "dimmed"
    qtbot.keyClick(dock.search, Qt.Key.Key_Return)
    assert view.selected == "node:home_summary_5min"
    centre = view.mapToScene(view.viewport().rect().center())
    box = view.boxes["node:home_summary_5min"].sceneBoundingRect()
    assert box.adjusted(-40, -40, 40, 40).contains(centre)
    assert view.transform().m11() >= 0.6   # readable, not the fitted thumbnail
    qtbot.waitUntil(lambda: "home_summary_5min" in dock.details.toPlainText(), timeout=5000)
    # clearing the box shows everything again
    dock.search.clear()
    view.select_vertex("")
    assert view.look("node:env_raw") == "normal"


def test_clicking_a_node_emphasises_what_it_reads_and_what_reads_it(qtbot, window):
    view = window.workflows.view
    view.fit()
    _click(qtbot, view, "node:env_summary_5min")
    assert view.look("node:env_summary_5min") == "selected"
    # upstream: its merge, the five 5-min nodes, their aggregates, env_clean, env_raw, the 5-min windows
    for name in ("env_mean_5min", "env_quality_5min", "env_clean", "env_raw", "env_raw_quality", "windows_5min"):
        assert view.look(f"node:{name}") == "upstream", name
    # nothing reads it: the home summary is not downstream, other branches are dimmed
    assert view.look("node:home_summary_5min") == "dimmed"
    assert view.look("node:accel") == "dimmed" and view.look("node:windows_1h") == "dimmed"
    _click(qtbot, view, "node:env_mean_5min")
    assert view.look("node:home_env_5min") == "downstream" and view.look("node:home_summary_5min") == "downstream"
    assert view.look("node:env_clean") == "upstream" and view.look("node:env_max_1min") == "dimmed"
    lit = [e for e, item, _a, _f in view.edge_items if item.isVisible() and item.opacity() == 1.0]
    assert lit and all({e.source, e.target} & (view.layout_.upstream("node:env_mean_5min")
                                               | view.layout_.downstream("node:env_mean_5min")
                                               | {"node:env_mean_5min"}) for e in lit)
    # a click on the background clears the emphasis
    empty = view.mapFromScene(view.scene().sceneRect().topLeft() + QPointF(5, 5))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=empty)
    assert view.selected == "" and view.look("node:accel") == "normal"


def test_labels_never_lose_the_full_name(qtbot, window):
    view = window.workflows.view
    wf = window.workflows.workflow()
    for name, node in wf.nodes.items():
        key = f"node:{name}"
        drawn = view.texts[key]
        shown = "".join(drawn[:-1])
        tip = view.boxes[key].toolTip()
        assert name in tip, (name, tip)    # the full name is always in the tooltip
        if "…" not in shown:
            assert shown == name, (name, drawn)   # wrapped, not cut
    # the long names of the field plate are wrapped onto two lines, whole
    assert view.texts["node:env_raw_gateway_rssi"][:2] == ["env_raw_", "gateway_rssi"] or \
        "".join(view.texts["node:env_raw_gateway_rssi"][:-1]) == "env_raw_gateway_rssi"
    assert view.texts["node:env_raw"][-1] == "H.EnvSensors.Fields"
    tip = view.boxes["node:env_raw"].toolTip()
    assert "env_raw [H.EnvSensors.Fields]" in tip and "96 streams" in tip


def test_grouped_by_plate_draws_a_labelled_frame_per_plate(qtbot, window):
    dock = window.workflows
    view = dock.view
    shown = {name: (view.state_of(name), view.boxes[f"node:{name}"].toolTip()) for name in dock.states}
    qtbot.mouseClick(dock.group_box, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dock.graph_shown, timeout=5000)   # drawn between events: the user sees it when complete
    assert set(view.frames) == {"no plate", "H", "H.EnvSensors", "H.EnvSensors.Fields", "H.W", "H.W.Coords3d",
                                "H.APs", "H.Cameras", "H.W × H.APs"}
    for group, frame in view.frames.items():
        members = [k for k, v in view.layout_.vertices.items() if v.group == group]
        assert members and all(frame.sceneBoundingRect().contains(view.boxes[k].scenePos()) for k in members)
        title = frame.childItems()[0].text()
        assert title.startswith(group)
    assert [k for k in view.boxes if not _in_view(view, k)] == []   # fitted again
    assert view.look("node:env_raw") == "normal"
    # the colours and their summaries stay
    assert {name: (view.state_of(name), view.boxes[f"node:{name}"].toolTip()) for name in dock.states} == shown


def test_a_window_feeding_dozens_of_factors_is_drawn_as_tags_not_a_bundle(qtbot, window):
    view = window.workflows.view
    fan = [(e, item) for e, item, _a, fanned in view.edge_items if e.source == "node:windows_1min"]
    assert len(fan) > FAN_LIMIT
    assert not any(item.isVisible() for _e, item in fan)
    assert all(view.tags[(e.source, e.target)].isVisible() for e, _i in fan)
    assert view.tags[(fan[0][0].source, fan[0][0].target)].text() == "◂ windows_1min"
    # selecting the window stream draws its edges in full
    _click(qtbot, view, "node:windows_1min")
    assert all(item.isVisible() for _e, item in fan)
    # other edges leave a box at distinct points
    starts = [item.path().elementAt(0) for e, item, _a, f in view.edge_items if e.source == "node:env_clean"]
    assert len(starts) > 3 and len({round(p.y, 1) for p in starts}) == len(starts)


def test_a_dask_scheduler_with_the_embedded_store_is_refused_naming_both(qtbot, window):
    dock = window.workflows
    qtbot.mouseClick(dock.scheduler, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dock.scheduler, "tcp://cluster:8786")
    assert dock.engine_error.isVisible()
    text = dock.engine_error.text()
    assert window.manager.store.path in text and "tcp://cluster:8786" in text
    jobs = len(window.runner.jobs) if hasattr(window.runner, "jobs") else None
    qtbot.mouseClick(dock.run_button, Qt.MouseButton.LeftButton)
    assert dock._run_job is None and dock.run_button.isEnabled()
    if jobs is not None:
        assert len(window.runner.jobs) == jobs
    dock.scheduler.clear()
    assert not dock.engine_error.isVisible()
    dock.workers.setValue(2)
    assert dock.engine_settings() == (2, None)


def test_the_graph_is_made_between_events_and_shows_the_colours_given_meanwhile(qtbot, window):
    """Issue 25: a new graph is made a slice at a time while the window keeps answering; the one on show stays
    until it is complete, and colours that arrive meanwhile are on it when it shows."""
    from hsgui.workflows.graph_layout import layout_workflow
    dock = window.workflows
    view = dock.view
    states = dict(dock.states)
    assert "nothing calculated" in view.boxes["node:env_raw"].toolTip()
    old_box = view.boxes["node:env_raw"]
    view.show_layout(layout_workflow(dock.workflow(), group_by_plate=True))
    assert view.building and not dock.graph_shown()            # returned before the graph is made
    assert view.boxes["node:env_raw"] is old_box and view.frames == {}   # the previous graph is still on show
    view.set_states(states)                                     # a colouring answers while it is being made
    qtbot.waitUntil(dock.graph_shown, timeout=5000)
    assert view.frames and view.boxes["node:env_raw"] is not old_box
    assert sum(1 for k in view.boxes if k.startswith("node:")) == 111
    assert all("nothing calculated" in view.boxes[f"node:{n}"].toolTip() for n in states)


def test_a_double_click_on_a_box_activates_its_vertex(qtbot, window):
    view = window.workflows.view
    pos = view.mapFromScene(view.boxes["node:env_clean"].scenePos())
    with qtbot.waitSignal(view.vertexActivated, timeout=2000) as got:
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert got.args == ["node:env_clean"]
    qtbot.waitUntil(lambda: "env_clean" in window.workflows.details.toPlainText(), timeout=5000)


def _scene_changes(qtbot, view, change):
    """How many times the graph's scene says part of it must be drawn again after ``change()``."""
    regions = []
    view.scene().changed.connect(regions.append)
    qtbot.wait(50)   # what was pending before
    regions.clear()
    change()
    qtbot.wait(50)
    view.scene().changed.disconnect(regions.append)
    return len(regions)


def test_a_blocked_factor_shows_why_until_unblocked_and_refreshes_redraw_nothing(qtbot, window):
    """Issue 23: the checks and colours are refreshed while the store opens and while a workflow runs, and only
    what changed is touched: a factor blocked then unblocked gets its mark and then its own label back, a refresh
    that changes nothing redraws none of the graph's ~1,000 items, and the selection's emphasis stays."""
    dock = window.workflows
    view = dock.view
    label = view.layout_.vertices["factor:0"].label
    # the open's own checks and colours have landed (one landing later would rightly redraw what it changes)
    qtbot.waitUntil(lambda: not window.runner.active, timeout=20000)
    qtbot.wait(50)
    view.set_blocked({0: ["its tool is not bound"]})
    assert view.texts["factor:0"][0].startswith("⚠") and "its tool is not bound" in view.boxes["factor:0"].toolTip()
    blocked, states = dict(view.blocked), dict(dock.states)
    assert _scene_changes(qtbot, view, lambda: (view.set_blocked(blocked), view.set_states(states))) == 0
    view.set_blocked({})
    assert view.texts["factor:0"] == [label] and view.boxes["factor:0"].toolTip() == label
    _click(qtbot, view, "node:env_clean")   # a selection: refreshes keep its emphasis and still redraw nothing
    assert view.look("node:env_clean") == "selected" and view.look("node:env_raw") == "upstream"
    assert _scene_changes(qtbot, view, lambda: (view.set_blocked({}), view.set_states(states))) == 0
    assert view.look("node:env_clean") == "selected" and view.look("node:env_raw") == "upstream"
