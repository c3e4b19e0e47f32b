"""Benchmark: a workflow of 5 factors over 10 plate values for one day vs the sum of the single tool runs
it consists of (DESIGN §7: the workflow must cost no more than 1.2x that sum).

The workflow (plates: 5 houses x 2 residents = 10 values of ``H.R``):
    gauss(60 s) -> readings [H.R];  sliding_window(10 min) -> windows [];
    aggregate(mean) readings + windows -> mean_10min [H.R];  aggregate(max) -> max_10min [H.R];
    aligned_merge(mean_10min, max_10min) -> summary_10min [H.R]
The baseline runs the same 41 tool runs by hand (load_tool + execute on the same streams) in a fresh
store; both are timed end to end into the embedded store (and into memory with --memory). Medians of
--repeat runs, alternating.

    python bench/bench_workflow.py [--repeat 3] [--memory] [--engine inline|local|auto] [--workers N]
    python bench/bench_workflow.py --overhead 400     # per-step overhead: N tiny steps, workflow vs by hand
    python bench/bench_workflow.py --deployment 10 [--rounds 3] [--minutes 30] [--nice N]

``--deployment HOMES``: the largest public deployment's shape (``resources/demo/deployment.py``, ≈ 770 steps per
home) over ``--minutes`` of recordings, run on 1 and on 2 local workers, alternating (1, 2 then 2, 1 ...), each on
a fresh copy of the same store. Each worker count has its own :class:`~channels.workflows.process_run.WorkerPool`:
the first round starts its workers (a cold pool), the ``--rounds`` after it reuse them (warm). Printed per run:
wall time, the running process's CPU, the workers' CPU, the load average; then the speed-up of 2 workers over 1
(cold, and the median of the warm rounds), with the core count (target ≥ 1.7× on 2 cores, ≥ 0.7 × workers).
``--nice`` sets the workers' priority (default: the engine's ``WORKER_NICE``; 0 = the caller's).

``--deployment HOMES --tenths [--from STORE] [--workers N]``: one run only (N workers, default 1), on a copy of
``STORE`` (a store holding the deployment and its recordings, e.g. kept from an earlier bench; never written) or of
a store built here, printing the cost per step of each tenth of the run: wall ms per step, the workers' and the
running process's CPU ms per step, each with its ratio to the second tenth (the same run's baseline; the first
holds the run's start: the workers read the definitions and load the tools) and the load average. A per-step cost that grows with the store shows as ratios rising tenth after tenth.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from channels import ChannelManager, TimeInterval, UTC  # noqa: E402
from channels.tools import load_tool  # noqa: E402
from channels.workflows import (FactorDefinition, MetaDataItem, NodeDefinition, PlateDefinition, ToolSpec,  # noqa: E402
                                WorkflowDefinition, add_meta_data, add_plates, add_workflow, load_model, plan,
                                run_workflow)

DAY0 = datetime(2026, 1, 1, tzinfo=UTC)
INTERVAL = TimeInterval(DAY0, DAY0 + timedelta(days=1))
HOUSES, RESIDENTS = 5, 2


def workflow(channel_id):
    nodes = [NodeDefinition("readings", ["H.R"], channel_id), NodeDefinition("windows", [], channel_id),
             NodeDefinition("mean_10min", ["H.R"], channel_id), NodeDefinition("max_10min", ["H.R"], channel_id),
             NodeDefinition("summary_10min", ["H.R"], channel_id)]
    f = [FactorDefinition(ToolSpec("gauss", None, {"mu": 20.0, "sigma": 1.0, "seed": 3, "stride": 60.0,
                                                   "first": DAY0}), "Factor", [], ["readings"]),
         FactorDefinition(ToolSpec("sliding_window", None, {"first": DAY0, "lower": -600.0, "upper": 0.0,
                                                            "increment": 600.0}), "Factor", [], ["windows"]),
         FactorDefinition(ToolSpec("aggregate", None, {"func": "mean"}), "Factor", ["readings"], ["mean_10min"],
                          alignment_node="windows"),
         FactorDefinition(ToolSpec("aggregate", None, {"func": "max"}), "Factor", ["readings"], ["max_10min"],
                          alignment_node="windows"),
         FactorDefinition(ToolSpec("aligned_merge", None, {"names": ["mean", "max"]}), "Factor",
                          ["mean_10min", "max_10min"], ["summary_10min"])]
    return WorkflowDefinition("bench", "bench", "bench", {n.stream_name: n for n in nodes}, f)


def fresh(tmp, i, memory, houses=None, wf=None):
    houses = HOUSES if houses is None else houses
    manager = ChannelManager.open(os.path.join(tmp, f"s{i}.sqlite"))
    store = manager.store
    add_meta_data(store, [MetaDataItem("house", str(h)) for h in range(houses)] +
                  [MetaDataItem("resident", str(r), f"house_{h}") for h in range(houses) for r in range(RESIDENTS)])
    add_plates(store, [PlateDefinition("H", "house", complement=True),
                       PlateDefinition("H.R", "resident", complement=True, parent_plate="H")])
    add_workflow(store, (wf or workflow)("memory" if memory else "mongo"))
    return manager


def tiny_workflow(channel_id):
    """One clock per resident over one minute (12 instances): the tool's own work is tiny, so what a run costs
    beyond it is the per-step overhead of the engine."""
    nodes = [NodeDefinition("ticks", ["H.R"], channel_id)]
    f = [FactorDefinition(ToolSpec("clock", None, {"stride": 5.0, "first": DAY0}), "Factor", [], ["ticks"])]
    return WorkflowDefinition("bench", "bench", "bench", {n.stream_name: n for n in nodes}, f)


def overhead(args):
    global INTERVAL
    saved, INTERVAL = INTERVAL, TimeInterval(DAY0, DAY0 + timedelta(minutes=1))
    houses = args.overhead // RESIDENTS
    tmp = tempfile.mkdtemp()
    rows = {"by hand": [], "inline": [], "local": []}
    for i in range(args.repeat):
        for label in rows:
            m = fresh(tmp, f"o{label[0]}{i}", False, houses, tiny_workflow)
            ENGINE.clear()
            ENGINE.update(engine=label, workers=args.workers) if label == "local" else ENGINE.update(engine="inline")
            t, n, steps = (run_by_hand if label == "by hand" else run_as_workflow)(m)
            rows[label].append(t)
            m.close()
    hand = statistics.median(rows["by hand"])
    print(f"{houses * RESIDENTS} steps of clock over one minute into the embedded store, {os.cpu_count()} cores, "
          f"medians of {args.repeat}:")
    for label, ts in rows.items():
        t = statistics.median(ts)
        extra = "" if label == "by hand" else (f"  overhead {1000 * (t - hand) / (houses * RESIDENTS):+.2f} ms/step "
                                               f"(ratio {t / hand:.2f}x)")
        print(f"  {label:8s} {t:.3f} s{extra}")
    INTERVAL = saved


ENGINE = {"engine": "inline"}


def run_as_workflow(manager):
    model = load_model(manager.store)
    t0 = time.perf_counter()
    r = run_workflow(manager, model, model.workflows["bench"], INTERVAL, **ENGINE)
    return time.perf_counter() - t0, r.instances_written, len(r.records)


def run_by_hand(manager):
    """The same steps as plain tool runs: the plan only tells which streams (untimed, like a script's constants)."""
    model = load_model(manager.store)
    steps = plan(model, model.workflows["bench"])
    tools = manager.get_channel("tools")
    t0 = time.perf_counter()
    n = 0
    for s in steps:
        tool = load_tool(tools, s.factor.tool.name, dict(s.factor.tool.parameters))
        get = lambda cid, sid: manager.get_channel(cid)[sid]  # noqa: E731
        sink = manager.get_channel(s.sink[0]).get_or_create_stream(s.sink[1])
        rec = tool.execute([get(*x) for x in s.sources], sink, INTERVAL,
                           alignment_stream=get(*s.alignment) if s.alignment else None, history=manager.run_history)
        n += rec.instances_written
    return time.perf_counter() - t0, n, len(steps)


def _cpu_s(pid) -> float:
    """User + system CPU seconds of a live process (Linux /proc), else 0."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _deployment_store(args, tmp, iv) -> tuple[str, int]:
    """A pristine store of the deployment with its recordings (copied from ``--from``, else built); its path and
    the recordings' instance count (None when copied)."""
    import shutil
    from resources.demo.deployment import build_deployment, record_inputs
    pristine = os.path.join(tmp, "pristine.sqlite")
    if args.source:
        shutil.copyfile(args.source, pristine)
        return pristine, None
    m = ChannelManager.open(pristine)
    build_deployment(m.store, args.deployment, iv.start)
    n = record_inputs(m, iv)
    m.close()
    return pristine, n


def tenths(args):
    """One run on a copy of the deployment's store: the cost per step of each tenth of the run (see the module's
    text)."""
    import shutil
    from channels.workflows.process_run import WORKER_NICE, WorkerPool
    from resources.demo.deployment import WORKFLOW_ID
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    iv = TimeInterval(t0, t0 + timedelta(minutes=args.minutes))
    workers = args.workers or 1
    tmp = tempfile.mkdtemp(prefix="bench_workflow_tenths_")
    nice = WORKER_NICE if args.nice is None else args.nice
    pool = WorkerPool(nice=nice)
    try:
        pristine, n = _deployment_store(args, tmp, iv)
        path = os.path.join(tmp, "run.sqlite")
        shutil.copyfile(pristine, path)
        manager = ChannelManager.open(path)
        model = load_model(manager.store)
        wf = model.workflows[WORKFLOW_ID]
        pool.start(workers)
        marks = []   # (fraction, wall, this process's CPU, workers' CPU, load average)

        def mark(fraction, _text=""):
            marks.append((fraction, time.perf_counter(), time.process_time(), sum(map(_cpu_s, pool.pids)),
                          os.getloadavg()[0]))

        time.sleep(1.0)   # the workers import the package before the clock starts (a warm pool)
        mark(0.0)
        result = run_workflow(manager, model, wf, iv, engine="local", workers=workers, pool=pool, progress=mark)
        mark(1.0)
        steps = len(result.records)
        manager.close()
    finally:
        pool.close()
        shutil.rmtree(tmp, ignore_errors=True)
    total = marks[-1][1] - marks[0][1]
    print(f"deployment of {args.deployment} home(s), {steps:,} steps over {args.minutes} minutes of recordings"
          f"{'' if n is None else f' ({n:,} instances)'}, {workers} worker(s) at nice {nice}, "
          f"{os.cpu_count()} cores: {total:.1f} s, {1000 * total / steps:.2f} ms per step")
    print("  tenth    steps   wall ms/step (ratio)   workers' CPU ms/step (ratio)   this process CPU ms/step   load")
    base = None
    for k in range(10):
        lo = max(m for m in marks if m[0] <= k / 10 + 1e-9) if k else marks[0]
        hi = max(m for m in marks if m[0] <= (k + 1) / 10 + 1e-9)
        n_steps = round((hi[0] - lo[0]) * steps)
        if n_steps <= 0:
            continue
        wall, parent, cpu = ((hi[i] - lo[i]) * 1000 / n_steps for i in (1, 2, 3))
        base = (wall, cpu) if k == 1 or base is None else base
        print(f"  {k + 1:>5d} {n_steps:>8,d}   {wall:7.3f} ({wall / base[0]:4.2f}x)        "
              f"{cpu:7.3f} ({cpu / base[1]:4.2f}x)                 {parent:7.3f}            {hi[4]:4.1f}")


def deployment(args):
    """1 vs 2 local workers on the deployment's shape, cold pool then warm (see the module's text)."""
    import shutil
    from channels.workflows.process_run import WORKER_NICE, WorkerPool
    from resources.demo.deployment import WORKFLOW_ID, deployment_counts
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    iv = TimeInterval(t0, t0 + timedelta(minutes=args.minutes))
    tmp = tempfile.mkdtemp(prefix="bench_workflow_deployment_")
    pristine, n = _deployment_store(args, tmp, iv)
    counts = deployment_counts(args.deployment)
    nice = WORKER_NICE if args.nice is None else args.nice
    print(f"deployment of {args.deployment} home(s): {counts['tool_runs']:,} steps over {args.minutes} minutes of "
          f"recordings{'' if n is None else f' ({n:,} instances)'}; os.cpu_count() = {os.cpu_count()}; workers at nice {nice}")
    pools = {w: WorkerPool(nice=nice) for w in (1, 2)}
    times = {(w, kind): [] for w in (1, 2) for kind in ("cold pool", "warm pool")}
    cpu = {key: [] for key in times}   # CPU seconds of the run: this process + every worker
    runs = 0
    try:
        for r in range(args.rounds + 1):
            for w in ((1, 2) if r % 2 == 0 else (2, 1)):
                path = os.path.join(tmp, f"run{runs}.sqlite")
                runs += 1
                shutil.copyfile(pristine, path)
                manager = ChannelManager.open(path)
                model = load_model(manager.store)
                before = {pid: _cpu_s(pid) for pid in pools[w].pids}
                load = os.getloadavg()[0]
                c0, t = time.process_time(), time.perf_counter()
                result = run_workflow(manager, model, model.workflows[WORKFLOW_ID], iv, engine="local", workers=w,
                                      pool=pools[w])
                dt, parent = time.perf_counter() - t, time.process_time() - c0
                each = [_cpu_s(pid) - before.get(pid, 0.0) for pid in result.worker_pids]
                worker_cpu = sum(each)
                manager.close()
                kind = "cold pool" if result.workers_started else "warm pool"
                times[(w, kind)].append(dt)
                cpu[(w, kind)].append(parent + worker_cpu)
                print(f"  round {r} {w} worker{'s' if w > 1 else ' '} ({kind}, {result.workers_started} started): "
                      f"{dt:7.2f} s; running process CPU {parent:5.2f} s, workers' CPU {worker_cpu:6.2f} s "
                      f"({' + '.join(f'{c:.2f}' for c in each)}); "
                      f"{len(result.records):,} steps, {result.instances_written:,} instances; load average "
                      f"{load:.1f} before, {os.getloadavg()[0]:.1f} after", flush=True)
                os.remove(path)
    finally:
        for pool in pools.values():
            pool.close()
        shutil.rmtree(tmp, ignore_errors=True)
    for kind in ("cold pool", "warm pool"):
        one, two = times[(1, kind)], times[(2, kind)]
        if one and two:
            a, b = statistics.median(one), statistics.median(two)
            print(f"  speed-up 2 workers vs 1, {kind} (median of {len(one)}): {a:.2f} s / {b:.2f} s = {a / b:.2f}x "
                  f"on {os.cpu_count()} cores   [>= 1.7x; >= 0.7 x workers]")
            c1, c2 = statistics.median(cpu[(1, kind)]), statistics.median(cpu[(2, kind)])
            print(f"    CPU of the whole run (this process + workers): 1 worker {c1:.2f} s, 2 workers {c2:.2f} s "
                  f"({c2 / c1:.2f}x); the speed-up two free cores would give at most: {2 * c1 / c2:.2f}x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--memory", action="store_true", help="nodes in the memory channel instead of the store")
    ap.add_argument("--engine", default="inline", choices=("inline", "local", "auto"))
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--overhead", type=int, default=0, metavar="STEPS")
    ap.add_argument("--deployment", type=int, default=0, metavar="HOMES")
    ap.add_argument("--rounds", type=int, default=3, help="--deployment: warm rounds after the cold one")
    ap.add_argument("--minutes", type=int, default=30, help="--deployment: minutes of recordings run over")
    ap.add_argument("--nice", type=int, default=None, help="--deployment: the workers' nice (default WORKER_NICE)")
    ap.add_argument("--tenths", action="store_true",
                    help="--deployment: one run (--workers, default 1), the cost per step of each tenth of it")
    ap.add_argument("--from", dest="source", default=None, metavar="STORE",
                    help="--deployment: copy this store of the deployment with its recordings (never written) "
                         "instead of building one")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, every mode, no timing claims")
    args = ap.parse_args()
    if args.deployment and not args.smoke:
        return tenths(args) if args.tenths else deployment(args)
    if args.smoke:
        global INTERVAL, HOUSES
        print("smoke run: tiny sizes, the figures mean nothing")
        args.repeat, args.overhead, args.workers = 1, 8, 2
        overhead(args)
        args.deployment, args.rounds, args.minutes = 1, 1, 5
        deployment(args)
        tenths(args)
        args.overhead, HOUSES = 0, 2
        INTERVAL = TimeInterval(DAY0, DAY0 + timedelta(minutes=10))
    if args.overhead:
        return overhead(args)
    ENGINE.update(engine=args.engine, workers=args.workers)
    tmp = tempfile.mkdtemp()
    wf_t, hand_t = [], []
    for i in range(args.repeat):
        for label, fn, out in (("workflow", run_as_workflow, wf_t), ("by hand", run_by_hand, hand_t)):
            m = fresh(tmp, f"{label[0]}{i}", args.memory)
            t, n, steps = fn(m)
            out.append(t)
            m.close()
            print(f"  run {i + 1} {label:9s}: {t:.3f} s, {steps} tool runs, {n:,} instances")
    w, h = statistics.median(wf_t), statistics.median(hand_t)
    where = "memory" if args.memory else "embedded store"
    print(f"\nworkflow of 5 factors x {HOUSES * RESIDENTS} plate values, one day, into the {where} "
          f"(engine {args.engine}, workers {args.workers or os.cpu_count()}, {os.cpu_count()} cores):")
    print(f"  workflow        {w:.3f} s (median of {args.repeat})")
    print(f"  single runs sum {h:.3f} s")
    print(f"  ratio           {w / h:.2f}x  (target <= 1.2x)")


if __name__ == "__main__":
    main()
