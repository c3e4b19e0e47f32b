"""Issue 27: every secret a MongoDB URI can carry is masked by the one rule (``channels.utils.redact_uri``)
at every place the library writes or shows a URI: the rule itself, text holding URIs, the store's
description and repr, StoreError/ConfigError texts and their tracebacks, config-file errors, log records and
stderr. The GUI places are swept in tests/gui/test_secrets_sweep_gui.py."""
import json
import logging
import traceback

import pytest

mongomock = pytest.importorskip("mongomock")
from pymongo.errors import ConfigurationError  # noqa: E402

from channels import ChannelManager  # noqa: E402
from channels.config import Config  # noqa: E402
from channels.errors import ChannelsError, ConfigError, StoreError  # noqa: E402
from channels.stores.mongo_store import MongoStore  # noqa: E402
from channels.utils import redact_text, redact_uri  # noqa: E402

from secret_forms import FORMS, IDS, SECRET, unreachable_client_class  # noqa: E402


def _no_secret(*texts):
    for t in texts:
        assert SECRET not in str(t), t
        # pieces of the secret a parser could quote (the part after an unescaped delimiter)
        assert SECRET[2:] not in str(t), t


def _full_text(exc) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


@pytest.mark.parametrize("uri", [f[1] for f in FORMS], ids=IDS)
def test_the_rule_masks_every_form_and_never_raises(uri):
    shown = redact_uri(uri)
    _no_secret(shown)
    assert "***" in shown and shown.startswith("mongodb://") and "localhost:27017" in shown
    assert redact_uri(shown) == shown                                   # stable: redacting twice changes nothing
    _no_secret(redact_text(f"Open {uri} failed: ({uri!r}), see {uri}."))
    assert redact_text("see mongodb://h:1/db.") == "see mongodb://h:1/db."


def test_the_rule_keeps_what_is_not_secret():
    assert redact_uri("mongodb://h1:1,h2:2/db?replicaSet=rs&authSource=admin") == \
        "mongodb://h1:1,h2:2/db?replicaSet=rs&authSource=admin"
    assert redact_uri("mongodb://h/db?authMechanismProperties=SERVICE_NAME:mongodb,AWS_SESSION_TOKEN:x") == \
        "mongodb://h/db?authMechanismProperties=SERVICE_NAME:***,AWS_SESSION_TOKEN:***"
    assert redact_uri("mongodb://h/db?Pass%77ord=x") == "mongodb://h/db?Pass%77ord=***"   # escaped names too
    assert redact_uri("/data/store.sqlite") == "/data/store.sqlite"
    assert redact_uri(None) == "None"


@pytest.mark.parametrize("uri, ok", [(f[1], f[2]) for f in FORMS], ids=IDS)
def test_store_description_repr_and_errors(uri, ok, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    if ok:
        store = MongoStore.from_uri(uri, client_class=mongomock.MongoClient)
        _no_secret(store.description, repr(store))
        store.close()
    else:   # a URI the parser refuses: a clear ConfigError naming the problem, still redacted
        with pytest.raises(ConfigError) as ei:
            MongoStore.from_uri(uri, client_class=mongomock.MongoClient)
        assert "must be percent-encoded" in str(ei.value) and "mongodb://alice:***@localhost:27017/hs" in str(ei.value)
        _no_secret(_full_text(ei.value))

    Unreachable = unreachable_client_class()

    class Refused:                            # the driver refuses the URI and quotes it in its message
        def __init__(self, host, **kw):
            raise ConfigurationError(f"cannot use {host} (seen {host.split('?')[-1]})")

    for cls in ((Unreachable, Refused) if ok else ()):
        with pytest.raises(StoreError) as ei:
            MongoStore.from_uri(uri, client_class=cls)
        _no_secret(str(ei.value), _full_text(ei.value))
    with pytest.raises(ChannelsError) as ei:      # the manager's way in: a dead server within seconds
        ChannelManager.open(uri.replace("localhost:27017", "127.0.0.1:9") +
                            ("&" if "?" in uri else "?") + "serverSelectionTimeoutMS=300")
    _no_secret(str(ei.value), _full_text(ei.value))
    _no_secret(caplog.text, *(r.getMessage() for r in caplog.records))
    out = capsys.readouterr()
    _no_secret(out.out, out.err)


@pytest.mark.parametrize("uri", [f[1] for f in FORMS], ids=IDS)
def test_config_file_errors_never_show_the_secret(tmp_path, uri):
    path = tmp_path / "hyperstream_config.json"
    bad = uri + ("&" if "?" in uri else "?") + "serverSelectionTimeoutMS=abc"
    path.write_text(json.dumps({"store": {"mongo_uri": bad}}))
    with pytest.raises(ConfigError) as ei:
        Config.load(str(path))
    _no_secret(str(ei.value), _full_text(ei.value))
    assert str(path) in str(ei.value)
    path.write_text(json.dumps({"mongo": {"host": "localhost", "username": "bob", "password": SECRET,
                                          "serverSelectionTimeoutMS": "soon"}}))
    with pytest.raises(ConfigError) as ei:
        Config.load(str(path))
    _no_secret(str(ei.value))
    assert "serverSelectionTimeoutMS" in str(ei.value) and "'soon'" in str(ei.value)
