"""Keep the interpreter from stalling the event loop: full garbage collections and GIL hand-over. Pure Python.

Measured (bench/bench_gui_responsiveness.py, figures 4 and 5): what stalled the event loop while a
1,050,000-instance memory-channel stream loaded (321 ms) or a one-day clock run went (112 ms) was not the
conversions themselves — a worker running Python bytecode hands the GIL over every few ms — but the cyclic
garbage collector. A generation-2 collection traverses *every* tracked object (each StreamInstance is one, so
is every module, widget and pyqtgraph item) in one go, holding the GIL: 80–100 ms on the bare app heap,
200–560 ms once a million instances live in a memory channel, whichever thread triggers it.

The policy, installed by the application (never by the library):

* at start, after one collection, :func:`gc.freeze` moves the app's own objects (modules, widgets) into the
  permanent generation: later collections never traverse them again;
* while any background job runs, automatic full collections are deferred (young collections go on: they
  are bounded and take a few ms);
* when the last job ends, the objects that survived into the old generation are collected if they are few
  (a full pass over them is cheap), or else frozen too — a million freshly loaded instances are then never
  traversed again, nor is any stall spent on them.

Before all that, while the app's modules load (:func:`hold_during_start`, from ``hsgui.app``), no automatic full
collection runs: the one a start made traversed every object the imports had just made, none of them garbage
(20-50 ms of a start on 2 busy cores). :func:`end_of_start` (``create_application``) freezes what was loaded and
lets them run again; so do :func:`install`, the first :class:`~hsgui.common.background.JobRunner` and, at the
latest, :data:`START_LIMIT_S` after the hold began (a script that imports the app and never makes it).

The price: cyclic garbage among frozen objects is not reclaimed (plain reference counting still frees
everything that is not part of a cycle, which covers stream data). That is the trade DESIGN §7 asks for.

The GIL: a worker running Python keeps the GIL for the interpreter's switch interval (5 ms) before the GUI
thread may take it, and one pass of the event loop takes it many times (every slot, every Python override a
paint or a signal reaches) — a convoy that stalled a one-day clock run's event loop 140–430 ms. With a
0.5 ms switch interval the same run showed 18–19 ms gaps and the job took no longer. Shorter is worse: at 0.1 ms
(100-home store opened in the window, load 3-5) the largest gaps were 160-570 ms against 84-207 ms at 0.5 ms,
and the colouring job took 12-20 s of wall time against 8-14 s (each hand-over costs a wake-up and a context
switch).

Freeing: dropping the last reference to a large structure frees all of it in one C call that never hands the
GIL over (136,000 streams' colouring index: 135-155 ms). :func:`release` frees such a structure a slice at a
time instead, on a job thread.
"""
from __future__ import annotations

import gc
import sys
import threading
import time

COLLECT_BELOW = 200_000      # objects (memory blocks) the jobs left that a full collection may traverse (~50 ms)
SWITCH_INTERVAL = 0.0005     # seconds a thread keeps the GIL while another waits (the interpreter's default: 5 ms)
_DEFERRED = 2 ** 31 - 1

_lock = threading.Lock()
_installed = False
_busy = 0
_saved_threshold: tuple | None = None
_saved_switch: float | None = None
_blocks_before = 0           # sys.getallocatedblocks() when the first of the running jobs started
START_LIMIT_S = 5.0          # the start-up hold ends by then whatever happens
_start_threshold: tuple | None = None     # the thresholds from before the start-up hold, while it lasts
_start_deadline = 0.0


def hold_during_start() -> None:
    """No automatic full collection until :func:`end_of_start` (or :data:`START_LIMIT_S` from now): the app's
    modules load meanwhile, and a full collection would traverse all they make, none of it garbage."""
    global _start_threshold, _start_deadline
    if _start_threshold is not None or _installed:
        return
    _start_threshold = gc.get_threshold()
    gc.set_threshold(_start_threshold[0], _start_threshold[1], _DEFERRED)
    _start_deadline = time.monotonic() + START_LIMIT_S
    gc.callbacks.append(_start_limit)


def end_of_start(freeze: bool = False) -> None:
    """The start-up hold ends: the collector's thresholds are what they were before it. ``freeze``: what the start
    loaded (modules, classes, the application) moves to the permanent generation first, so the full collections
    that follow never traverse it (:func:`install` does the same once the window shows)."""
    global _start_threshold
    saved, _start_threshold = _start_threshold, None
    if saved is None:
        return
    try:
        gc.callbacks.remove(_start_limit)
    except ValueError:      # ended by another thread meanwhile
        pass
    if freeze:
        gc.freeze()
    gc.set_threshold(*saved)


def _start_limit(phase, _info) -> None:
    if phase == "stop" and time.monotonic() > _start_deadline:
        end_of_start()


def install() -> None:
    """Freeze what the application holds now, defer full collections around jobs, hand the GIL over quickly."""
    global _installed, _saved_switch
    end_of_start()
    with _lock:
        if _installed:
            return
        _saved_switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        gc.collect()
        gc.freeze()
        _installed = True


def uninstall() -> None:
    """Back to the interpreter's defaults (tests)."""
    global _installed, _busy, _saved_threshold, _saved_switch
    end_of_start()
    with _lock:
        if _saved_switch is not None:
            sys.setswitchinterval(_saved_switch)
        _saved_switch = None
        if _saved_threshold is not None:
            gc.set_threshold(*_saved_threshold)
        _saved_threshold = None
        _busy = 0
        _installed = False
        gc.unfreeze()


def installed() -> bool:
    return _installed


def work_started() -> None:
    """A background job starts: no automatic full collection until every job has ended."""
    global _busy, _saved_threshold, _blocks_before
    with _lock:
        if not _installed:
            return
        if _busy == 0:
            _blocks_before = sys.getallocatedblocks()
            _saved_threshold = gc.get_threshold()
            t0, t1, _t2 = _saved_threshold
            gc.set_threshold(t0, t1, _DEFERRED)
        _busy += 1


def work_ended() -> None:
    """A background job ended; after the last one, collect the survivors if few, else freeze them. How many: the
    memory blocks the jobs left allocated (one cheap count; listing the old generation to count it took 140-280
    ms once a 136,000-stream listing had made ~1M objects)."""
    global _busy, _saved_threshold
    with _lock:
        if not _installed or _busy == 0:
            return
        _busy -= 1
        if _busy:
            return
        gc.collect(1)
        if sys.getallocatedblocks() - _blocks_before < COLLECT_BELOW:
            gc.collect(2)
        else:
            gc.freeze()
        if _saved_threshold is not None:
            gc.set_threshold(*_saved_threshold)
        _saved_threshold = None


def deferring() -> bool:
    """Whether automatic full collections are deferred right now (a job is running)."""
    return _installed and _busy > 0



#: objects freed between two hand-overs of the GIL by :func:`release` (a few ms)
RELEASE_SLICE = 2000
#: a container smaller than this is freed whole by :func:`release` (taking it apart would cost more than it saves)
RELEASE_BIG = 256
_CONTAINERS = (dict, list, set, tuple)


def release(items: list) -> None:
    """Empty ``items``, freeing what it held a slice at a time, the GIL handed over between slices (the caller
    keeps no other reference to them). Freeing a large structure is one C call — each object's last reference
    dropped frees what it holds, all the way down — that never hands the GIL over: a colouring index of 136,000
    streams held it 135-155 ms, whichever thread dropped it. Here its big containers (dicts, lists, sets, tuples
    of ``RELEASE_BIG`` items or more, found through the objects' attributes) are emptied a slice at a time
    instead, depth first; only what nothing else refers to is taken apart (the reference count says so), so what
    is shared stays as it is. For a job thread: the ``time.sleep(0)`` between slices lets the GUI thread in."""
    import time
    todo, n = [(items, True)], 0        # (object, whether its own attributes may be taken apart)
    del items

    def take(value, objects: bool):
        # referenced only by the caller's ``value``, this parameter and getrefcount's argument
        if sys.getrefcount(value) > 3 or isinstance(value, type):
            return
        if isinstance(value, _CONTAINERS):
            if len(value) >= RELEASE_BIG:
                todo.append((value, False))
        elif objects and hasattr(value, "__dict__"):
            todo.append((value, True))

    while todo:
        o, objects = todo.pop()
        if isinstance(o, tuple):
            o = list(o)                  # the tuple goes; its items are this list's
        elif not isinstance(o, (dict, list, set)):
            d = getattr(o, "__dict__", None)
            o = None                     # the instance goes; its attributes are in ``d``
            if d is None or sys.getrefcount(d) > 2:
                continue
            o = d
            d = None
        while o:
            value = o.popitem()[1] if isinstance(o, dict) else o.pop()
            take(value, objects)
            value = None
            n += 1
            if n % RELEASE_SLICE == 0:
                time.sleep(0)
