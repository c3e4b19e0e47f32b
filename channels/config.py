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
from .utils import _split_uri, redact_uri

#: options naming a file the driver reads (a missing one is named here, not left to the driver's words)
_FILE_OPTIONS = ("tlscertificatekeyfile", "tlscafile", "tlscrlfile", "ssl_certfile", "ssl_keyfile", "ssl_ca_certs")
#: options that are a number of milliseconds (or a count)
_NUMBER_OPTIONS = ("maxpoolsize", "minpoolsize", "maxidletimems", "waitqueuetimeoutms", "heartbeatfrequencyms",
                   "localthresholdms", "maxconnecting", "maxstalenessseconds", "wtimeoutms")
_RESERVED = ":/?#[]@"


def _number_option(name: str) -> bool:
    low = name.lower()
    return low.endswith("timeoutms") or low in _NUMBER_OPTIONS


def _check_option(name: str, value, where: str, what: str) -> None:
    """One MongoDB client option (from a URI's query, text; or a config's mongo section, JSON)."""
    low = name.lower()
    if _number_option(name):
        number = value
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not number >= 0:
            raise ConfigError(f"{what} {name}{where} must be a number of milliseconds (or a count) "
                              f"\u2265 0, got {value!r}")
    elif low in _FILE_OPTIONS:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{what} {name}{where} must be a file path, got {value!r}")
        path = os.path.expanduser(value)
        if not os.path.isfile(path):
            raise ConfigError(f"{what} {name}{where}: file {path} does not exist")


def check_mongo_uri(uri: str, where: str = "") -> None:
    """ConfigError naming the problem when ``uri`` cannot be a MongoDB URI as written: a user name or
    password with an unescaped reserved character, a timeout that is not a number (the driver would ignore
    it silently and wait its default 30 s), a TLS file that does not exist. The message shows the URI
    redacted."""
    from urllib.parse import unquote
    if not isinstance(uri, str) or not (uri.startswith("mongodb://") or uri.startswith("mongodb+srv://")):
        raise ConfigError(f"{redact_uri(uri)!s}{where} is not a MongoDB URI (mongodb:// or mongodb+srv://)")
    shown = redact_uri(uri)
    _scheme, user, password, rest = _split_uri(uri)
    for label, text in (("user name", user), ("password", password)):
        bad = sorted({c for c in (text or "") if c in _RESERVED})
        if bad:
            raise ConfigError(f"MongoDB URI {shown}{where}: the {label} contains an unescaped "
                              f"{' '.join(repr(c) for c in bad)}; characters {_RESERVED} in a user name or "
                              f"password must be percent-encoded (e.g. '?' as %3F, '@' as %40, '/' as %2F)")
    q = rest.find("?")
    if q >= 0:
        for item in rest[q + 1:].replace(";", "&").split("&"):
            name, eq, value = item.partition("=")
            if eq:
                _check_option(unquote(name), unquote(value), f" in the URI {shown}{where}", "option")


def check_mongo_options(options: dict, where: str = "", prefix: str = "mongo.") -> None:
    """ConfigError naming the key when a HyperStream ``mongo`` section has a value of the wrong type."""
    for key, value in options.items():
        if key == "port":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
                raise ConfigError(f"config key '{prefix}port'{where} must be a port number (1-65535), got {value!r}")
        elif key in ("host", "db", "username", "authentication_database", "authSource"):
            if not isinstance(value, str):
                raise ConfigError(f"config key '{prefix}{key}'{where} must be text, got {value!r}")
            if key == "host" and "://" in value:
                check_mongo_uri(value, f" (config key '{prefix}host'{where})")
        elif key == "password":
            if not isinstance(value, str):
                raise ConfigError(f"config key '{prefix}password'{where} must be text, got {type(value).__name__}")
        elif key == "tz_aware":
            if not isinstance(value, bool):
                raise ConfigError(f"config key '{prefix}tz_aware'{where} must be true or false, got {value!r}")
        else:
            _check_option(key, value, where, f"config key '{prefix}{key}'")


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
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except OSError as e:
            raise ConfigError(f"config file {path} cannot be read: {e.strerror or e}") from None
        if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 1 and (data[0] == 0 or data[1] == 0)):
            raise ConfigError(f"config file {path} is UTF-16 (or UTF-32) text: save it as UTF-8")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ConfigError(f"config file {path} is not UTF-8 text (byte {e.start} is {data[e.start:e.start + 1]!r})"
                              ) from None
        try:
            raw = json.loads(text)
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
            check_mongo_options(m, where)
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
                check_mongo_uri(store["mongo_uri"], f" (config key 'store.mongo_uri'{where})")
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
