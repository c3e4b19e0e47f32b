"""Stored HyperStream functions: read and explained without running them; run only when built on purpose.

Fixtures (tests/data/stored_code/README.md): Python 3.11 values written by the original HyperStream 0.3.8,
Python 2.7 values assembled by hand from the documented marshal and protocol-0 pickle formats.
"""
import base64
import hashlib
import json
import marshal
import os
import pickle  # tests only: to WRITE hostile/odd values (channels/ never imports it)
import stat
import sys
from pathlib import Path

import pytest

from channels.errors import ChannelsError
from channels.workflows import stored_code as sc
from channels.workflows.stored_code import CodeConsents, StoredCodeError, load_function, read_stored_code

DATA = Path(__file__).parent / "data" / "stored_code"
PY27 = json.loads((DATA / "py27_values.json").read_text())["values"]
HS3 = json.loads((DATA / "hs_py3_parameters.json").read_text())
ON_311 = sys.version_info[:2] == (3, 11)


def hs3_value(name):
    params = HS3["tools"][name]["parameters"]
    (p,) = [p for p in params if p["is_function"]]
    return base64.b64decode(p["value"]["$binary"])


# ------------------------------------------------------------------ Python 2.7 (never runnable here)

def test_py27_lambda_decompiles_and_cannot_run():
    s = read_stored_code(PY27["mean"]["value"])
    assert s.python_version == (2, 7)
    assert s.name == "<lambda>" and s.arg_names == ("x",)
    assert "sum(x)" in s.source and "len(x)" in s.source
    assert s.source == "lambda x: sum(x) / len(x)"
    assert s.names == ("sum", "len")
    assert s.defaults is None and s.closure is None
    assert s.runnable_here is False
    assert s.sha256 == hashlib.sha256(PY27["mean"]["value"].encode("latin-1")).hexdigest()
    assert "LOAD_GLOBAL" in s.disassembly and "BINARY_DIVIDE" in s.disassembly
    with pytest.raises(StoredCodeError, match=r"Python 2\.7"):
        load_function(s)


def test_py27_closure_shows_its_values():
    s = read_stored_code(PY27["closure_k"]["value"])
    assert s.python_version == (2, 7)
    assert s.closure == (3,) and s.free_names == ("k",)
    assert s.source == "lambda xs: k * sum(xs)"
    assert "closure: k = 3" in s.describe()
    with pytest.raises(StoredCodeError):
        load_function(s)


def test_py27_defaults_are_plain_values():
    s = read_stored_code(PY27["apply_scaled"]["value"])
    assert s.defaults == (2.5,)
    assert s.source == "lambda d, scale=2.5: d * scale"


# ------------------------------------------------------------------ Python 3.11, written by HyperStream

@pytest.mark.parametrize("name", sorted(HS3["tools"]))
def test_hyperstream_py311_values(name):
    value = hs3_value(name)
    s = read_stored_code(value)
    assert s.python_version == (3, 11)
    assert s.sha256 == hashlib.sha256(value).hexdigest()
    assert s.source is not None, s.decompile_error
    assert s.decompiler == "depyf"
    if ON_311:
        assert s.runnable_here
        f = load_function(s)          # our own fixture: running it is the point of this check
        t = HS3["tools"][name]
        assert f(*t["call_args"]) == t["expected"]
    else:
        assert not s.runnable_here


def test_py311_lambda_source_and_describe():
    s = read_stored_code(hs3_value("aggregate_range"))
    assert s.source == "lambda values: max(values) - min(values)"
    text = s.describe()
    assert "Python 3.11" in text and s.sha256 in text and s.short_hash == s.sha256[:12]
    assert "max" in text and "lambda values" in text
    c = read_stored_code(hs3_value("closure_k"))
    assert c.closure == (3,) and c.source == "lambda xs: k * sum(xs)"
    d = read_stored_code(hs3_value("apply_scaled"))
    assert d.defaults == (2.5,) and d.source == "lambda d, scale=2.5: d * scale"


def test_hash_is_stable_and_results_cached():
    value = hs3_value("sliding_mean")
    first = read_stored_code(value)
    assert read_stored_code(bytes(value)) is first           # cached by hash
    sc._cache.clear()
    again = read_stored_code(bytearray(value))
    assert again is not first and again.sha256 == first.sha256 and again == first


# ------------------------------------------------------------------ nothing ever runs

def test_reading_never_runs_the_code(tmp_path):
    marker = tmp_path / "ran"
    f = eval(f"lambda: open({str(marker)!r}, 'w').write('x')")   # what a hostile stored function would do
    value = pickle.dumps((marshal.dumps(f.__code__), None, None))
    s = read_stored_code(value)
    s.describe()
    assert "open" in s.names and not marker.exists()


def test_global_reduce_pickle_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    classic = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()
    with pytest.raises(StoredCodeError, match="GLOBAL") as e:
        read_stored_code(classic)
    assert "not a plain HyperStream function dump" in str(e.value)
    assert not marker.exists()
    # a Python 3 pickle naming a callable (STACK_GLOBAL) inside an otherwise right-looking tuple
    hostile = pickle.dumps((b"c", None, (os.system,)))
    with pytest.raises(StoredCodeError, match="STACK_GLOBAL"):
        read_stored_code(hostile)
    assert not marker.exists()


@pytest.mark.parametrize("value, words", [
    (b"hello world", "not a well-formed pickle"),
    (b"\x00\x01", "not a pickle"),
    (pickle.dumps({"a": 1}), "pickle of a dict"),
    (pickle.dumps((b"x", None)), "tuple of 2 items"),
    (pickle.dumps(("text", None, None)), "not marshalled code"),
    (pickle.dumps((b"\xe3" + b"\0" * 30, None, None)), "not a code object"),
    (pickle.dumps((marshal.dumps(123), None, None)), "not a code object"),
    ("\u20ac", "beyond latin-1"),
    (42, "not int"),
])
def test_bad_values_name_what_is_wrong(value, words):
    with pytest.raises(StoredCodeError, match=words):
        read_stored_code(value)


def test_truncated_values_are_refused():
    value = hs3_value("aggregate_range")
    with pytest.raises(StoredCodeError, match="truncated|not a well-formed"):
        read_stored_code(value[:-7])                       # the pickle cut short
    code = marshal.dumps((lambda x: sum(x) / len(x)).__code__)
    with pytest.raises(StoredCodeError, match="truncated, corrupt"):
        read_stored_code(pickle.dumps((code[:-9], None, None)))   # the marshalled code cut short
    py2 = PY27["mean"]["value"]
    with pytest.raises(StoredCodeError):
        read_stored_code(py2[:60] + py2[-14:])
    assert issubclass(StoredCodeError, ChannelsError)


# ------------------------------------------------------------------ consent, on the user's machine

def test_code_consents_round_trip(tmp_path):
    path = tmp_path / "cfg" / "hsgui" / "code_consent.json"
    consents = CodeConsents(str(path))
    h = hashlib.sha256(b"some code").hexdigest()
    db_a, db_b = "mongodb://host/hs_a", "mongodb://host/hs_b"
    assert not consents.allowed(db_a, h) and consents.list() == []
    consents.grant(db_a, h, "lambda x: sum(x) / len(x)")
    assert consents.allowed(db_a, h)
    assert not consents.allowed(db_b, h)                   # one database's consent is not another's
    assert not consents.allowed(db_a, hashlib.sha256(b"other").hexdigest())
    assert CodeConsents(str(path)).allowed(db_a, h)        # it is on disk
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600    # not world- (nor group-) readable
    [entry] = consents.list()
    assert entry["database"] == db_a and entry["sha256"] == h and entry["what"].startswith("lambda")
    consents.grant(db_a, h)                                # granting twice keeps one entry
    assert len(consents.list()) == 1
    consents.revoke(db_a, h)
    assert not consents.allowed(db_a, h) and consents.list() == []
    assert [p.name for p in path.parent.iterdir()] == ["code_consent.json"]   # no temporary file left


def test_code_consents_default_path_and_bad_input(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert CodeConsents().path == str(tmp_path / "hsgui" / "code_consent.json")
    with pytest.raises(StoredCodeError, match="full sha256"):
        CodeConsents().allowed("db", "abc")
    (tmp_path / "hsgui").mkdir()
    (tmp_path / "hsgui" / "code_consent.json").write_text("{not json")
    with pytest.raises(StoredCodeError, match="unreadable"):
        CodeConsents().allowed("db", "0" * 64)


def test_a_stuck_decompiler_still_gives_an_explanation(monkeypatch):
    monkeypatch.setattr(sc, "DECOMPILE_TIMEOUT_S", 0.001)
    code = marshal.dumps((lambda a, b: a * b + 7).__code__)
    s = read_stored_code(pickle.dumps((code, None, None)))
    assert s.source is None and "stopped" in s.decompile_error
    assert "BINARY_OP" in s.disassembly and 7 in s.constants
    text = s.describe()
    assert "No source" in text and "Disassembly" in text and s.short_hash in text
