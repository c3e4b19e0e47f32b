"""Workflow engine settings: ``workflow_engine`` in the config (validated on its own), ``--workers`` and
``--scheduler`` on the command line."""
from __future__ import annotations

import pytest

from channels.config import Config
from channels.errors import ConfigError
from hsgui.__main__ import parse_args


def test_config_reads_workers_and_scheduler():
    cfg = Config.from_dict({"workflow_engine": {"workers": 4, "scheduler": "tcp://cluster:8786"}})
    assert (cfg.workflow_workers, cfg.workflow_scheduler) == (4, "tcp://cluster:8786")
    assert (Config.from_dict({}).workflow_workers, Config.from_dict({}).workflow_scheduler) == (None, None)


@pytest.mark.parametrize("engine, word", [({"workers": 0}, "workers"), ({"workers": "2"}, "workers"),
                                          ({"scheduler": "cluster"}, "scheduler"), ({"cores": 2}, "workflow_engine"),
                                          ([], "workflow_engine")])
def test_a_wrong_engine_setting_names_its_key(engine, word):
    with pytest.raises(ConfigError, match=word):
        Config.from_dict({"workflow_engine": engine})


def test_command_line_options():
    args = parse_args(["store.sqlite", "--workers", "3", "--scheduler", "tcp://h:8786"])
    assert (args.workers, args.scheduler) == (3, "tcp://h:8786")
    assert parse_args([]).workers is None


def test_only_a_scheduler_elsewhere_is_refused_for_an_embedded_store_before_the_run(tmp_path):
    from channels import ChannelManager
    from hsgui.workflows.workflows_dock import remote_store_problem
    manager = ChannelManager.open(str(tmp_path / "s.sqlite"))
    assert "cannot be shared" in remote_store_problem(manager, "tcp://10.9.9.9:8786")
    # a scheduler on this machine may have its workers here too: the engine checks them when it runs
    assert remote_store_problem(manager, "tcp://127.0.0.1:8786") is None
    assert remote_store_problem(manager, "localhost:8786") is None
    manager.close()
