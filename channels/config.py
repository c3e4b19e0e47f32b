"""Configuration: HyperStream's ``hyperstream_config.json`` and our embedded-store form.

Accepted JSON (all keys optional unless said):

* HyperStream's form::

    {"mongo": {"host": "localhost", "port": 27017, "db": "hyperstream", "tz_aware": true,
               "username": ..., "password": ...},
     "plugins": [{"path": "plugins/example", "channel_id_prefix": "example",
                  "has_tools": true, "has_assets": false, "channel_names": ["sphere_channel"]}]}

  ``channel_names`` are modules ``<plugin path>/channels/<name>.py``; each defines the class
  ``<Name>`` (``sphere_channel`` -> ``SphereChannel``), registered under the id ``sphere``.

* our embedded form: ``{"store": {"sqlite": "path/to/store.sqlite"}}``, or
  ``{"store": {"mongo_uri": "mongodb://..."}}``; plus ``"tool_paths": [...]``.

Relative paths are resolved against the config file's folder. A malformed file
raises ConfigError naming the key that is wrong.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from .errors import ConfigError


@dataclass
class PluginConfig:
    path: str
    channel_id_prefix: str
    has_tools: bool = True
    has_assets: bool = False
    channel_names: list[str] = field(default_factory=list)  # modules <path>/channels/<name>.py (HyperStream's)


@dataclass
class Config:
    sqlite_path: str | None = None
    mongo: dict | None = None          # HyperStream's mongo section
    mongo_uri: str | None = None
    plugins: list[PluginConfig] = field(default_factory=list)
    tool_paths: list[str] = field(default_factory=list)
    source: str | None = None          # file the config came from
    #: ``"workflow_engine": {"workers": N, "scheduler": "tcp://host:8786"}``: worker processes of a workflow run
    #: (None: as many as cores) and the Dask scheduler to run on (None: local worker processes)
    workflow_workers: int | None = None
    workflow_scheduler: str | None = None

    @property
    def store_kind(self) -> str:
        if self.mongo is not None or self.mongo_uri:
            return "mongo"
        return "sqlite"

    @classmethod
    def load(cls, path: str) -> "Config":
        try:
            with open(path, encoding="utf-8") as f:
                raw = json.load(f)
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except json.JSONDecodeError as e:
            raise ConfigError(f"config file {path} is not valid JSON: {e}") from None
        return cls.from_dict(raw, base_dir=os.path.dirname(os.path.abspath(path)), source=path)

    @classmethod
    def from_dict(cls, raw, base_dir: str = ".", source: str | None = None) -> "Config":
        where = f" in {source}" if source else ""
        if not isinstance(raw, dict):
            raise ConfigError(f"config{where} must be a JSON object, got {type(raw).__name__}")

        def resolve(p, key):
            if not isinstance(p, str) or not p:
                raise ConfigError(f"config key {key!r}{where} must be a non-empty path, got {p!r}")
            p = os.path.expanduser(p)
            return p if os.path.isabs(p) else os.path.normpath(os.path.join(base_dir, p))

        cfg = cls(source=source)
        if "mongo" in raw:
            m = raw["mongo"]
            if not isinstance(m, dict):
                raise ConfigError(f"config key 'mongo'{where} must be an object, got {type(m).__name__}")
            if "port" in m and not isinstance(m["port"], int):
                raise ConfigError(f"config key 'mongo.port'{where} must be an integer, got {m['port']!r}")
            for key in ("host", "db"):
                if key in m and not isinstance(m[key], str):
                    raise ConfigError(f"config key 'mongo.{key}'{where} must be text, got {m[key]!r}")
            cfg.mongo = dict(m)
        store = raw.get("store")
        if store is not None:
            if not isinstance(store, dict) or not ({"sqlite", "mongo_uri"} & set(store)):
                raise ConfigError(f"config key 'store'{where} must be {{\"sqlite\": path}} or "
                                  f"{{\"mongo_uri\": uri}}, got {store!r}")
            if "sqlite" in store:
                cfg.sqlite_path = resolve(store["sqlite"], "store.sqlite")
            if "mongo_uri" in store:
                if not isinstance(store["mongo_uri"], str) or not store["mongo_uri"].startswith("mongodb"):
                    raise ConfigError(f"config key 'store.mongo_uri'{where} must be a mongodb:// URI")
                cfg.mongo_uri = store["mongo_uri"]
        plugins = raw.get("plugins", [])
        if not isinstance(plugins, list):
            raise ConfigError(f"config key 'plugins'{where} must be a list, got {type(plugins).__name__}")
        for i, p in enumerate(plugins):
            if not isinstance(p, dict):
                raise ConfigError(f"config key 'plugins[{i}]'{where} must be an object, got {p!r}")
            for key in ("path", "channel_id_prefix"):
                if key not in p:
                    raise ConfigError(f"config key 'plugins[{i}].{key}'{where} is missing")
            if not isinstance(p["channel_id_prefix"], str):
                raise ConfigError(f"config key 'plugins[{i}].channel_id_prefix'{where} must be text")
            for key in ("has_tools", "has_assets"):
                if key in p and not isinstance(p[key], bool):
                    raise ConfigError(f"config key 'plugins[{i}].{key}'{where} must be true or false, got {p[key]!r}")
            names = p.get("channel_names", [])
            if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
                raise ConfigError(f"config key 'plugins[{i}].channel_names'{where} must be a list of module names, "
                                  f"got {names!r}")
            cfg.plugins.append(PluginConfig(resolve(p["path"], f"plugins[{i}].path"), p["channel_id_prefix"],
                                            p.get("has_tools", True), p.get("has_assets", False), list(names)))
        tool_paths = raw.get("tool_paths", [])
        if not isinstance(tool_paths, list):
            raise ConfigError(f"config key 'tool_paths'{where} must be a list of folders")
        cfg.tool_paths = [resolve(p, f"tool_paths[{i}]") for i, p in enumerate(tool_paths)]
        cfg.workflow_workers, cfg.workflow_scheduler = _workflow_engine(raw.get("workflow_engine"), where)
        return cfg


def _workflow_engine(engine, where) -> tuple:
    """``workflow_engine``'s ``workers`` (an integer >= 1) and ``scheduler`` (a ``tcp://host:port`` address)."""
    if engine is None:
        return None, None
    if not isinstance(engine, dict) or set(engine) - {"workers", "scheduler"}:
        raise ConfigError(f"config key 'workflow_engine'{where} must be an object with 'workers' and/or "
                          f"'scheduler', got {engine!r}")
    workers = engine.get("workers")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise ConfigError(f"config key 'workflow_engine.workers'{where} must be an integer >= 1, got {workers!r}")
    scheduler = engine.get("scheduler")
    if scheduler is not None and (not isinstance(scheduler, str) or "://" not in scheduler):
        raise ConfigError(f"config key 'workflow_engine.scheduler'{where} must be a Dask scheduler address such as "
                          f"'tcp://host:8786', got {scheduler!r}")
    return workers, scheduler or None
