"""The demo dataset created on first start, made by running the built-in tools through the normal API.

Four weeks up to now (rounded down to the hour) for two houses x two residents:

* ``mongo`` channel
  - ``temperature: [house, resident]`` (gauss, 1 min) and ``humidity: [house, resident]`` (gauss, 5 min);
  - ``environment: [house]`` — dict values ``{temperature, humidity}`` (aligned_merge of resident
    alice's two sensors);
  - ``door: [house]`` — text events ("opened" / "closed"), from a randint stream through the writer;
  - ``accelerometer: [house=1, resident=alice]`` — 1 Hz gauss over the last 12 days, >= 1,000,000
    instances, written chunk by chunk by the tool engine;
  - ``windows_1h`` (sliding_window) and ``temperature_hourly: [house, resident]`` (aggregate mean)
    calculated for weeks 1-2 and week 4 only, and ``accelerometer_std_1min`` for two separate days,
    so their calculated intervals have gaps;
  - ``annotations`` — three annotations in the last week (two ranges, one instant; see
    :func:`write_demo_annotations`), so a new user sees bands on the plots at first start;
* ``assets`` channel (see :func:`write_demo_assets`): ``houses``, ``residents`` and
  ``workflow_parameters: [workflow=...]`` for the two derived workflows, each in the shape of the
  built-in schema of that name (:mod:`hsgui.forms.schemas`), so the asset editor can edit and save them.

Every run is recorded in the manager's run history like any other tool run.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

from channels.errors import CancelledError
from channels.stream import StreamId, StreamInstance
from channels.time_interval import TimeInterval
from channels.tools import load_tool
from channels.utils import utcnow

log = logging.getLogger(__name__)

HOUSES = (1, 2)
RESIDENTS = ("alice", "bob")
WEEKS = 4
HIGH_RATE_DAYS = 12          # 12 d at 1 Hz = 1,036,800 instances

#: streams the app selects and plots for screenshots: (channel id, StreamId)
SHOWCASE = [
    ("mongo", StreamId("temperature", {"house": 1, "resident": "alice"})),
    ("mongo", StreamId("temperature_hourly", {"house": 1, "resident": "alice"})),
]


#: the one wearable of the demo: the accelerometer stream's (house, resident)
WEARABLE = (1, "alice", "acc-1a")


def demo_assets(start, end) -> dict:
    """The demo's asset values ``{StreamId: value}`` for data from ``start`` to ``end``.

    Each follows the built-in schema of its stream name (``houses``, ``residents``,
    ``workflow_parameters``); house ids and resident ids are the ``house`` / ``resident``
    meta-data values of the demo's sensor streams, and the workflow parameters are the ones the
    demo's derived streams are computed with.
    """
    houses = [{"house_id": h, "name": f"House {h}", "address": f"{h} Demo Street, Bristol",
               "installed": start, "active": True, "rooms": ["kitchen", "lounge", "bedroom"]}
              for h in HOUSES]
    residents = [{"resident_id": r, "house_id": h, "role": "resident", "since": start, "until": None,
                  "wearable": WEARABLE[2] if (h, r) == WEARABLE[:2] else None}
                 for h in HOUSES for r in RESIDENTS]
    high_rate_start = end - timedelta(days=HIGH_RATE_DAYS)
    hourly = {
        "workflow_id": "temperature_hourly",
        "description": "Hourly mean temperature per house and resident",
        "owner": "demo",
        "online": False,
        "start": start,
        "end": end,
        "chunk_seconds": 86400,
        "aggregate": "mean",
        "window_seconds": 3600.0,
        "houses": list(HOUSES),
        "residents": list(RESIDENTS),
        "tool_parameters": {"sliding_window": {"lower": -3600.0, "upper": 0.0, "increment": 3600.0},
                            "aggregate": {"func": "mean"}},
    }
    acc_std = {
        "workflow_id": "accelerometer_std_1min",
        "description": "Per-minute spread of the wearable accelerometer",
        "owner": "demo",
        "online": False,
        "start": high_rate_start,
        "end": end,
        "chunk_seconds": 3600,
        "aggregate": "std",
        "window_seconds": 60.0,
        "houses": [WEARABLE[0]],
        "residents": [WEARABLE[1]],
        "tool_parameters": {"sliding_window": {"lower": -60.0, "upper": 0.0, "increment": 60.0},
                            "aggregate": {"func": "std"}},
    }
    return {
        StreamId("houses"): houses,
        StreamId("residents"): residents,
        StreamId("workflow_parameters", {"workflow": hourly["workflow_id"]}): hourly,
        StreamId("workflow_parameters", {"workflow": acc_std["workflow_id"]}): acc_std,
    }


def write_demo_assets(assets, start, end) -> list[StreamId]:
    """Write :func:`demo_assets` into the assets channel ``assets``; returns the stream ids written."""
    values = demo_assets(start, end)
    for sid, value in values.items():
        assets.write_to_stream(sid, value)
    return list(values)


def write_demo_annotations(db, end) -> list:
    """Three annotations (:mod:`channels.annotations`) in the week before ``end``, in the database channel
    ``db``; returns them."""
    from channels.annotations import AnnotationSet
    day = timedelta(days=1)
    ann = AnnotationSet(db)
    return [
        ann.add("Heating serviced", end - 5 * day + timedelta(hours=12), start=end - 5 * day + timedelta(hours=9),
                colour="#fb8c00", note="Engineer visit, house 1; the boiler was off for three hours"),
        ann.add("Wearable battery swapped", end - 3 * day - timedelta(hours=4), colour="#43a047",
                note="Accelerometer acc-1a (alice)"),
        ann.add("Guests staying", end - 1 * day - timedelta(hours=8), start=end - 2 * day - timedelta(hours=20),
                colour="#1e88e5", note="Two guests in house 2"),
    ]


#: the demo's workflow (HyperStream's layout): hourly means of both sensors over every resident of every
#: house, and the two side by side; its nodes are streams the demo also computes (in part) by hand
DEMO_WORKFLOW_ID = "environment_hourly"


def write_demo_workflow(store, start) -> None:
    """Meta-data tree (houses → residents), plates ``H`` / ``H.R`` and :data:`DEMO_WORKFLOW_ID` in ``store``."""
    from channels.workflows import (FactorDefinition, MetaDataItem, NodeDefinition, PlateDefinition, ToolSpec,
                                    WorkflowDefinition, add_meta_data, add_plates, add_workflow)
    items = [MetaDataItem("house", str(h)) for h in HOUSES]
    items += [MetaDataItem("resident", r, f"house_{h}") for h in HOUSES for r in RESIDENTS]
    add_meta_data(store, items)
    add_plates(store, [PlateDefinition("H", "house", "every house", [], True),
                       PlateDefinition("H.R", "resident", "every resident of every house", [], True, "H")])
    nodes = [NodeDefinition(name, plates, "mongo") for name, plates in (
        ("windows_1h", []), ("temperature", ["H.R"]), ("humidity", ["H.R"]), ("temperature_hourly", ["H.R"]),
        ("humidity_hourly", ["H.R"]), ("comfort_hourly", ["H.R"]))]
    window = {"first": start, "lower": -3600.0, "upper": 0.0, "increment": 3600.0}
    factors = [
        FactorDefinition(ToolSpec("sliding_window", "1.0.0", window), "Factor", [], ["windows_1h"]),
        FactorDefinition(ToolSpec("aggregate", "1.0.0", {"func": "mean"}), "Factor", ["temperature"],
                         ["temperature_hourly"], alignment_node="windows_1h"),
        FactorDefinition(ToolSpec("aggregate", "1.0.0", {"func": "mean"}), "Factor", ["humidity"],
                         ["humidity_hourly"], alignment_node="windows_1h"),
        FactorDefinition(ToolSpec("aligned_merge", "1.0.0", {"names": ["temperature", "humidity"]}), "Factor",
                         ["temperature_hourly", "humidity_hourly"], ["comfort_hourly"]),
    ]
    add_workflow(store, WorkflowDefinition(DEMO_WORKFLOW_ID, "Hourly environment",
                                           "Hourly mean temperature and humidity per resident, side by side",
                                           {n.stream_name: n for n in nodes}, factors, owner="demo"))


class _NeverCancelled:
    @staticmethod
    def is_set():
        return False


def build_demo_store(manager, progress=None, cancel=None) -> dict:
    """Fill ``manager``'s store with the demo dataset; returns ``{what: count}``.

    :param progress: ``progress(fraction, text)``
    :param cancel: an object with ``is_set()`` (e.g. ``threading.Event``); checked between steps and by
        every tool run between chunks (a cancel raises CancelledError)
    """
    cancel = cancel or _NeverCancelled()
    report = progress or (lambda f, text="": None)
    tools = manager.channels["tools"]
    db = manager.channels["mongo"]
    assets = manager.channels["assets"]
    history = manager.run_history
    end = utcnow().replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(weeks=WEEKS)
    whole = TimeInterval(start, end)
    t0 = time.perf_counter()
    steps = []

    def step(weight, text):
        if cancel.is_set():
            raise CancelledError("building the demo store: cancelled")
        steps.append(weight)
        report(min(0.99, sum(steps[:-1]) / 100.0), text)  # the weights add up to 100

    def run(name, params, sink_id, interval, sources=(), alignment=None, weight=1.0):
        tool = load_tool(tools, name, params)
        sink = db.get_or_create_stream(sink_id)
        base = sum(steps[:-1]) / 100.0

        def prog(fraction, _written):
            report(min(0.99, base + weight / 100.0 * fraction), f"{name} → {sink_id}")

        tool.execute(list(sources), sink, interval, alignment_stream=alignment, progress=prog, cancel=cancel,
                     history=history)
        return sink

    # assets: who lives where, and the parameters of the derived streams; the meta-data tree, plates, workflow
    step(1, "assets")
    write_demo_assets(assets, start, end)
    write_demo_workflow(manager.store, start)
    write_demo_annotations(db, end)

    # environmental sensors, one pair per house and resident
    seed = 1
    for h in HOUSES:
        for r in RESIDENTS:
            meta = {"house": h, "resident": r}
            step(3, f"temperature {meta}")
            run("gauss", {"mu": 19.5 + 1.5 * h + (0.7 if r == "bob" else 0.0), "sigma": 0.6, "seed": seed,
                          "stride": timedelta(minutes=1), "first": start},
                StreamId("temperature", meta), whole, weight=3)
            step(1, f"humidity {meta}")
            run("gauss", {"mu": 45.0 + 5 * h, "sigma": 4.0, "seed": seed + 100, "stride": timedelta(minutes=5),
                          "first": start}, StreamId("humidity", meta), whole, weight=1)
            seed += 1

    # dict-valued stream per house: temperature and humidity side by side
    for h in HOUSES:
        step(2, f"environment house={h}")
        meta = {"house": h, "resident": "alice"}
        run("aligned_merge", {"names": ["temperature", "humidity"]}, StreamId("environment", {"house": h}), whole,
            sources=[db[StreamId("temperature", meta)], db[StreamId("humidity", meta)]], weight=2)

    # text events: a door sensor sampled every 10 minutes, written through the stream writer
    for h in HOUSES:
        step(1, f"door house={h}")
        raw = run("randint", {"low": 0, "high": 1, "seed": 40 + h, "stride": timedelta(minutes=10), "first": start},
                  StreamId("door_state", {"house": h}), whole, weight=1)
        door = db.get_or_create_stream(StreamId("door", {"house": h}))
        events, previous = [], None
        for inst in raw.window(whole):
            state = "opened" if inst.value else "closed"
            if state != previous:
                events.append(StreamInstance._make((inst.timestamp, state)))
                previous = state
        db.write_chunk(door, events, whole)

    # the high-rate stream: 1 Hz over the last 12 days
    step(52, "accelerometer (1,036,800 instances)")
    acc_id = StreamId("accelerometer", {"house": WEARABLE[0], "resident": WEARABLE[1]})
    hi = TimeInterval(end - timedelta(days=HIGH_RATE_DAYS), end)
    acc = run("gauss", {"mu": 0.0, "sigma": 1.0, "seed": 7, "stride": timedelta(seconds=1), "first": hi.start},
              acc_id, hi, weight=52)

    # derived streams computed over parts of the span only, so their calculated intervals have gaps
    step(3, "hourly windows")
    windows = run("sliding_window", {"first": start, "lower": timedelta(hours=-1), "upper": timedelta(0),
                                     "increment": timedelta(hours=1)}, StreamId("windows_1h"), whole, weight=3)
    parts = [TimeInterval(start, start + timedelta(weeks=2)), TimeInterval(start + timedelta(weeks=3), end)]
    for h in HOUSES:
        for r in RESIDENTS:
            meta = {"house": h, "resident": r}
            for part in parts:
                step(2, f"temperature_hourly {meta}")
                run("aggregate", {"func": "mean"}, StreamId("temperature_hourly", meta), part,
                    sources=[db[StreamId("temperature", meta)]], alignment=windows, weight=2)
    step(6, "accelerometer_std_1min")
    minute_windows = run("sliding_window", {"first": hi.start, "lower": timedelta(seconds=-60),
                                            "upper": timedelta(0), "increment": timedelta(seconds=60)},
                         StreamId("windows_1min"), hi, weight=2)
    for day in (2, 6):
        part = TimeInterval(hi.start + timedelta(days=day), hi.start + timedelta(days=day + 1))
        run("aggregate", {"func": "std"}, StreamId("accelerometer_std_1min", dict(acc_id.meta_data)),
            part, sources=[acc], alignment=minute_windows, weight=2)
    report(1.0, "done")
    counts = {str(s.stream_id): s.window(TimeInterval.all_time()).count() for s in db}
    log.info("demo store built in %.1f s: %d streams, %s instances", time.perf_counter() - t0, len(counts),
             f"{sum(counts.values()):,}")
    return counts
