"""StreamInstance(...) behaves the same with the optional C accelerator (channels/_speedups.c) and without it.

Every check runs against both constructors: ``c`` is calling the class (the accelerator when it is compiled;
skipped otherwise) and ``python`` is ``type.__call__(StreamInstance, ...)``, which is exactly what calling the class
does when the accelerator is absent (it never goes through the accelerator's per-type call hook). Each check runs
with ``_past`` (the last "now" checked against) at a recent time, so that valid timestamps take the fast path, and
at MIN_DATE, so that they take the slow one. A subprocess also runs the library with HSGUI_NO_SPEEDUPS=1.

HSGUI_REQUIRE_SPEEDUPS=1 makes test_accelerator_state fail when the accelerator is not active (for CI).
"""
from __future__ import annotations

import functools
import gc
import os
import subprocess
import sys
import weakref
from datetime import datetime, timedelta, timezone

import pytest
import pytz

from channels import MIN_DATE, UTC, StreamInstance, TimeError
from channels import stream as stream_module
from channels.utils import utcnow

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


#: calling the class the way it is called without the accelerator
_python = functools.partial(type.__call__, StreamInstance)


@pytest.fixture(params=["c", "python"])
def make(request):
    if request.param == "c" and not stream_module.SPEEDUPS:
        pytest.skip("the C accelerator is not compiled (or HSGUI_NO_SPEEDUPS is set)")
    return StreamInstance if request.param == "c" else _python


@pytest.fixture(params=["fast", "slow"])
def past(request, monkeypatch):
    """The time already checked against: recent (valid timestamps take the fast path) or MIN_DATE (none does)."""
    if request.param == "fast":
        StreamInstance(utcnow(), 0)   # sets _past to now
        assert stream_module._past > MIN_DATE
    else:
        monkeypatch.setattr(stream_module, "_past", MIN_DATE)
    return request.param


def outcome(fn, *args, **kwargs):
    """What a call gives a user: the instance's repr and the types of its fields, or the error's type and text."""
    try:
        inst = fn(*args, **kwargs)
    except Exception as e:   # noqa: BLE001 -- the error itself is the outcome compared
        return ("error", type(e), str(e))
    return ("ok", type(inst), repr(inst), type(inst.timestamp), inst.timestamp.tzinfo is UTC, type(inst.value))


T = datetime(2017, 1, 1, 0, 0, 0, 123000, tzinfo=UTC)


def test_a_valid_utc_timestamp_is_kept_as_given(make, past):
    inst = make(T, 3.5)
    assert type(inst) is StreamInstance and isinstance(inst, tuple)
    assert inst.timestamp is T and inst.value == 3.5
    ts, v = inst
    assert (ts, v) == (T, 3.5) and inst == (T, 3.5) and inst[1] == 3.5 and len(inst) == 2
    assert repr(inst) == ("StreamInstance(timestamp=datetime.datetime(2017, 1, 1, 0, 0, 0, 123000, tzinfo=<UTC>), "
                          "value=3.5)")
    assert inst._asdict() == {"timestamp": T, "value": 3.5}
    assert inst._replace(value=4) == (T, 4) and type(inst._replace(value=4)) is StreamInstance
    assert hash(inst) == hash((T, 3.5))


def test_microseconds_are_truncated_to_milliseconds(make, past):
    inst = make(datetime(2017, 1, 1, 0, 0, 0, 123987, tzinfo=UTC), 1)
    assert inst.timestamp == T and inst.timestamp.tzinfo is UTC


@pytest.mark.parametrize("zone", [timezone(timedelta(hours=3)), pytz.timezone("Europe/Athens"), timezone.utc])
def test_other_zones_are_converted_to_utc(make, past, zone):
    local = datetime(2017, 1, 1, 2, 0, 0, 123456)
    local = zone.localize(local) if hasattr(zone, "localize") else local.replace(tzinfo=zone)
    inst = make(local, 1)
    assert inst.timestamp.tzinfo is UTC
    assert inst.timestamp == local.replace(microsecond=123000)


def test_a_naive_timestamp_is_an_error_naming_it(make, past):
    with pytest.raises(TimeError) as ei:
        make(datetime(2017, 3, 4, 5, 6, 7), 1)
    assert str(ei.value) == ("instance timestamp 2017-03-04T05:06:07 is naive: "
                             "give a timezone-aware datetime (e.g. tzinfo=UTC)")


def test_a_future_timestamp_is_an_error_naming_it(make, past):
    future = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    with pytest.raises(TimeError) as ei:
        make(future, 1)
    assert str(ei.value) == f"instance timestamp {future.isoformat()} is in the future"


def test_the_time_just_checked_against_is_accepted(make, past):
    now = utcnow()
    assert make(now, 1).timestamp == now
    assert make(stream_module._past, 2).timestamp == stream_module._past


@pytest.mark.parametrize("bad", ["2017-01-01", 1498000000, None, 1.5])
def test_a_non_datetime_is_an_error_naming_it(make, past, bad):
    with pytest.raises(TimeError) as ei:
        make(bad, 1)
    assert str(ei.value) == f"instance timestamp must be a datetime, got {type(bad).__name__} {bad!r}"


def test_a_datetime_subclass_is_accepted_as_without_the_accelerator(make, past):
    class Stamp(datetime):
        pass

    inst = make(Stamp(2017, 1, 1, tzinfo=UTC), 1)
    assert inst.timestamp == datetime(2017, 1, 1, tzinfo=UTC)


def test_make_and_replace_skip_the_checks(make, past):
    future = utcnow() + timedelta(days=2)
    assert StreamInstance._make((future, 1)).timestamp == future
    assert make(T, 1)._replace(timestamp=future).timestamp == future
    with pytest.raises(TypeError, match="Expected 2 arguments, got 3"):
        StreamInstance._make((T, 1, 2))


def test_a_subclass_still_validates(past):
    class Reading(StreamInstance):
        __slots__ = ()

    inst = Reading(datetime(2017, 1, 1, 3, tzinfo=timezone(timedelta(hours=3))), 1.0)
    assert type(inst) is Reading and inst.timestamp == datetime(2017, 1, 1, tzinfo=UTC)
    assert Reading(T, 1.0).timestamp is T
    with pytest.raises(TimeError, match="in the future"):
        Reading(utcnow() + timedelta(days=1), 1)
    with pytest.raises(TimeError, match="naive"):
        Reading(datetime(2017, 1, 1), 1)


def test_keywords_and_wrong_argument_counts_are_the_same(past):
    impls = [_python] + ([StreamInstance] if stream_module.SPEEDUPS else [])
    for call in ((T,), (T, 1, 2), ()):
        outcomes = {outcome(f, *call) for f in impls}
        assert len(outcomes) == 1 and next(iter(outcomes))[0] == "error", outcomes
    for args, kwargs in (((), {"timestamp": T, "value": 1}), ((T,), {"value": 1}), ((T,), {"nope": 1})):
        outcomes = {outcome(f, *args, **kwargs) for f in impls}
        assert len(outcomes) == 1, outcomes
    assert StreamInstance(timestamp=T, value=1) == (T, 1)


def test_both_give_the_same_result_or_error_for_every_kind_of_input(monkeypatch):
    """The whole grid, each input against both implementations, with _past recent and at MIN_DATE."""
    if not stream_module.SPEEDUPS:
        pytest.skip("the C accelerator is not compiled (or HSGUI_NO_SPEEDUPS is set)")
    now = utcnow()
    stamps = [T, T.replace(microsecond=123456), now, now + timedelta(days=1),
              datetime(2017, 1, 1), datetime(2017, 1, 1, tzinfo=timezone.utc),
              pytz.timezone("America/New_York").localize(datetime(2017, 7, 1, 12)), MIN_DATE,
              "2017-01-01", 0, None]
    values = [1.0, 1, True, "x", None, b"x", [1], {"a": 1}, (1, 2)]
    for past in (now, MIN_DATE):
        for ts in stamps:
            for v in values:
                monkeypatch.setattr(stream_module, "_past", past)
                a = outcome(StreamInstance, ts, v)
                monkeypatch.setattr(stream_module, "_past", past)
                assert outcome(_python, ts, v) == a, (past, ts, v)


def test_an_instance_in_a_reference_cycle_is_still_collected(make, past):
    class Marker:
        pass

    marker = Marker()
    held = [marker]
    inst = make(T, held)
    held.append(inst)   # inst -> list -> inst
    gone = weakref.ref(marker)
    del inst, held, marker
    gc.collect()
    assert gone() is None


def test_the_accelerator_keeps_instances_of_atoms_out_of_the_garbage_collector(past):
    if not stream_module.SPEEDUPS:
        pytest.skip("the C accelerator is not compiled (or HSGUI_NO_SPEEDUPS is set)")
    StreamInstance(utcnow(), 0)   # the fast path needs a recent _past
    for v in (1.0, 1, True, "x", None, b"x"):
        assert not gc.is_tracked(StreamInstance(T, v)), v
    for v in ([1], {"a": 1}, (1, 2), object()):
        assert gc.is_tracked(StreamInstance(T, v)), v

    class Reading(StreamInstance):
        __slots__ = ()
    assert gc.is_tracked(Reading(T, 1.0))


def test_accelerator_state():
    """Says whether the accelerator is active; with HSGUI_REQUIRE_SPEEDUPS=1 (CI), fails when it is not."""
    print(f"channels C accelerator active: {stream_module.SPEEDUPS}")
    if os.environ.get("HSGUI_REQUIRE_SPEEDUPS", "") not in ("", "0"):
        assert stream_module.SPEEDUPS, ("HSGUI_REQUIRE_SPEEDUPS=1 but channels._speedups is not active: build it with "
                                        "pip install -e . (needs a C compiler and the Python headers), "
                                        "and do not set HSGUI_NO_SPEEDUPS")


def test_hsgui_no_speedups_runs_the_pure_python_code():
    script = """if True:
        from datetime import datetime, timedelta
        from channels import StreamInstance, TimeError, UTC
        from channels import stream
        from channels.utils import utcnow
        assert stream.SPEEDUPS is False
        assert StreamInstance(datetime(2017, 1, 1, 0, 0, 0, 999, tzinfo=UTC), 1).timestamp.microsecond == 0
        try:
            StreamInstance(utcnow() + timedelta(days=1), 1)
        except TimeError as e:
            assert "in the future" in str(e)
        else:
            raise AssertionError("a future timestamp was accepted")
        print("pure python ok")
    """
    env = dict(os.environ, HSGUI_NO_SPEEDUPS="1")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "pure python ok" in out.stdout
