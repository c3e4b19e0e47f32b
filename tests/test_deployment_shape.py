"""The deployment-shaped demo workflow (resources/demo/deployment.py): the shape the issue names (111 nodes,
76 factors, 7 plates, a product plate), the counts its docstring promises, and that it runs with the
built-in tools into the store's channel."""
from __future__ import annotations

from datetime import datetime, timedelta

from channels import ChannelManager, TimeInterval, UTC
from channels.workflows import load_model, plan, run_workflow
from resources.demo.deployment import (PLATES, WORKFLOW_ID, build_deployment, deployment_counts, record_inputs)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _manager(tmp_path, homes):
    manager = ChannelManager.open(str(tmp_path / "dep.sqlite"))
    build_deployment(manager.store, homes, T0)
    return manager


def test_shape_and_counts_match_the_definition(tmp_path):
    manager = _manager(tmp_path, 2)
    model = load_model(manager.store)
    wf = model.workflows[WORKFLOW_ID]
    assert (len(wf.nodes), len(wf.factors)) == (111, 76)
    assert set(model.plates) == set(PLATES) and len(PLATES) == 7
    assert any(n.plate_ids == ["H.W", "H.APs"] for n in wf.nodes.values())
    assert {n.channel_id for n in wf.nodes.values()} == {"mongo"}
    counts = deployment_counts(2)
    assert len(plan(model, wf)) == counts["tool_runs"] == 2 * 769 + 3
    assert sum(len(model.node_streams(n)) for n in wf.nodes.values()) == counts["node_streams"] == 2 * 1361 + 3
    assert deployment_counts(100)["tool_runs"] == 76903 and deployment_counts(10)["node_streams"] == 13613
    manager.close()


def test_one_home_runs_with_the_builtin_tools_and_every_node_gets_data(tmp_path):
    manager = _manager(tmp_path, 1)
    iv = TimeInterval(T0, T0 + timedelta(minutes=10))
    record_inputs(manager, iv)
    model = load_model(manager.store)
    wf = model.workflows[WORKFLOW_ID]
    result = run_workflow(manager, model, wf, iv)
    assert result.outcome == "ok" and len(result.records) == 769 + 3
    channel = manager.get_channel("mongo")
    empty = [str(sid) for n in wf.nodes.values() for sid in model.node_streams(n).values()
             if sid not in channel.streams or channel[sid].window(iv).count() == 0]
    # the 1 h windows and what is aggregated over them have no window ending inside 10 minutes
    assert all("_1h" in s for s in empty), empty[:5]
    accel = [s for s in channel.streams if s.name == "accel"]
    assert len(accel) == 6 and all(channel[s].window(iv).count() == 20 for s in accel)
    manager.close()
