"""The garbage-collector policy the app installs: no full collection runs while a job works, and a job's
large survivors are frozen afterwards (so later collections never traverse them). Figures: bench/."""
from __future__ import annotations

import gc

import pytest

from datetime import datetime

from channels.stream import StreamInstance
from channels.utils import UTC
from hsgui.common import gc_policy
from hsgui.common.background import JobRunner


T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def policy():
    gc_policy.install()
    yield
    gc_policy.uninstall()


def test_full_collections_wait_for_jobs_and_big_survivors_are_frozen(qtbot, policy):
    runner = JobRunner()
    default = gc.get_threshold()
    held = []
    seen = {}

    def load(ctx):
        seen["threshold"] = gc.get_threshold()
        # stream instances, as a memory channel holds them (tracked by the collector, unlike plain atomic tuples)
        held.extend(StreamInstance._make((T0, float(i))) for i in range(gc_policy.COLLECT_BELOW + 50_000))
        return len(held)

    frozen_before = gc.get_freeze_count()
    job = runner.submit("load", load, kind="tool")
    qtbot.waitUntil(lambda: job.is_finished and not gc_policy.deferring(), timeout=20000)
    assert seen["threshold"][2] > 10 ** 9 and seen["threshold"][:2] == default[:2]   # deferred while it ran
    assert gc.get_threshold() == default                                            # restored after
    # survivors frozen: out of the old generation a full collection traverses (a few unrelated frozen objects
    # may have been freed meanwhile, so the count is compared loosely)
    assert gc.get_freeze_count() >= frozen_before + 0.95 * len(held)
    old = {id(o) for o in gc.get_objects(generation=2)}
    assert id(held[0]) not in old and id(held[-1]) not in old
    import sys
    assert sys.getswitchinterval() == pytest.approx(gc_policy.SWITCH_INTERVAL)   # the GIL changes hands quickly
    small = runner.submit("small", lambda ctx: [(1, 2.0)] * 10)
    qtbot.waitUntil(lambda: small.is_finished and not gc_policy.deferring(), timeout=5000)
    assert runner.shutdown(5000)


def test_without_the_policy_nothing_changes(qtbot):
    assert not gc_policy.installed()
    runner = JobRunner()
    default = gc.get_threshold()
    job = runner.submit("t", lambda ctx: gc.get_threshold())
    qtbot.waitUntil(lambda: job.is_finished, timeout=5000)
    assert job.result == default
    assert runner.shutdown(5000)


class _Holder:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def test_release_frees_what_only_it_held_and_leaves_what_is_shared_whole():
    import weakref
    shared_list = [_Holder(n=i) for i in range(300)]
    shared_obj = _Holder(rows={i: [i] for i in range(500)})
    private_rows = {i: (_Holder(n=i), [i] * 3) for i in range(3000)}
    private = _Holder(rows=private_rows, shared=shared_list, other=shared_obj,
                      pairs=tuple([_Holder(n=i) for i in range(400)]), small=[1, 2])
    gone = [weakref.ref(private), weakref.ref(private_rows[7][0]), weakref.ref(private.pairs[5])]
    del private_rows
    items = [private]
    del private

    gc_policy.release(items)

    assert items == []
    assert [r() for r in gone] == [None, None, None]             # freed (no cycle: by reference counts)
    assert [h.n for h in shared_list] == list(range(300))        # what others hold is untouched
    assert shared_obj.rows == {i: [i] for i in range(500)}
