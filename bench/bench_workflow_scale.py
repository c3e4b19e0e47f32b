"""Benchmark: a workflow in the shape of the largest public HyperStream deployment (resources/demo/deployment.py:
111 nodes, 76 factors, 7 plates + [H.W, H.APs]; 769 tool runs and 1,361 node streams per home) on the embedded
store in a temp dir, for 10 and 100 homes (DESIGN §7, issue 23). Every figure is printed with its same-run
baseline and the ratio:

* ``plan()`` vs building the list of the sink nodes' plate values alone;
* colouring the whole graph for a range (``workflow_status``, first and a refresh) vs reading every node
  stream's definition once (one ``list_definitions`` call) — every node stream has a definition and calculated
  intervals (a run at the run size; written directly, as a run's end state, at larger sizes);
* the lineage of one node's stream (``LineageTracker.lineage``, tracker already built: the first question, which
  reads that stream's and its upstream's runs, and again) vs one definition read;
* opening the store (``ChannelManager.open``: no stream definition is read), the first graph paint (open + model
  + layout) vs opening the file alone; the first full colouring from a fresh open, and listing every stream
  (the stream browser), vs opening and reading every definition once;
* the same in the app: File › Connect of the store in a real ``MainWindow`` (offscreen, the GC policy installed as
  the app does), open → the workflow graph painted, and open → the Streams tree's listing complete (its
  channel indexed and searchable), each vs its API figure above; the largest gap of a 10 ms timer during the
  open (bench/gui_meter.py) vs the same timer idle in that window (once its first paints are done: they are
  not idle — the plot pane's first paint alone holds the loop 30-80 ms);
* a run over 30 minutes of recordings on 1 worker vs 2 local workers vs a 2-worker Dask LocalCluster (if
  ``distributed`` is importable and the engine API is there; else "engine not available"), each on a fresh
  copy of the same store; the core count is printed.

    python bench/bench_workflow_scale.py [--homes 10,100] [--run-homes 10] [--smoke] [--keep DIR]
    python bench/bench_workflow_scale.py --app-only DIR/deployment_10.sqlite    # the app figure on a kept store
    python bench/bench_workflow_scale.py --colour-only DIR/deployment_10.sqlite # the colouring figures on it
    python bench/bench_workflow_scale.py --engines-only DIR/deployment_100_inputs.sqlite --run-homes 100 \
        --engines "2 local workers,dask LocalCluster x2"                          # only these runs, on copies

``--smoke`` uses 1 home and 5 minutes and makes no timing claims (CI runs every bench so).
"""
from __future__ import annotations

import argparse
import inspect
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from channels import ChannelManager, TimeInterval, TimeIntervals, UTC  # noqa: E402
from channels.stores.base import StreamDefinition  # noqa: E402
from channels.workflows import load_model, plan, run_workflow  # noqa: E402
from hsgui.workflows.graph_layout import layout_workflow  # noqa: E402
from hsgui.workflows.status import WorkflowStatusIndex, workflow_status  # noqa: E402
from resources.demo.deployment import WORKFLOW_ID, build_deployment, deployment_counts, record_inputs  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def timed(fn, repeat=3):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def line(what, t, base_what, b, target=""):
    ratio = t / b if b > 0 else float("inf")
    print(f"  {what:44s} {t * 1e3:9.1f} ms   baseline ({base_what}) {b * 1e3:9.1f} ms   ratio {ratio:6.2f}x"
          + (f"   [{target}]" if target else ""))


def write_run_end_state(manager, model, wf, interval):
    """Every node stream's definition as a run over ``interval`` leaves it (calculated; one field node half)."""
    store = manager.store
    full = TimeIntervals([interval])
    half = TimeIntervals([TimeInterval(interval.start, interval.start + (interval.end - interval.start) / 2)])
    existing = {d.stream_id for d in store.list_definitions()}
    for name, node in wf.nodes.items():
        ci = half if name == "env_mean_1h" else full
        for sid in model.node_streams(node).values():
            if sid not in existing:
                store.create_definition(StreamDefinition(sid, node.channel_id, ci))


def engine_api():
    params = inspect.signature(run_workflow).parameters
    return "engine" in params


def run_once(path, interval, **engine):
    manager = ChannelManager.open(path)
    model = load_model(manager.store)
    t = time.perf_counter()
    result = run_workflow(manager, model, model.workflows[WORKFLOW_ID], interval, **engine)
    dt = time.perf_counter() - t
    manager.close()
    return dt, len(result.records), result.instances_written


def bench_size(tmp, homes, run, minutes, repeat):
    counts = deployment_counts(homes)
    print(f"\n{homes} home{'s' if homes != 1 else ''}: {counts['nodes']} nodes, {counts['factors']} factors, "
          f"{counts['tool_runs']:,} tool runs, {counts['node_streams']:,} node streams")
    path = os.path.join(tmp, f"deployment_{homes}.sqlite")
    manager = ChannelManager.open(path)
    build_deployment(manager.store, homes, T0)
    interval = TimeInterval(T0, T0 + timedelta(minutes=minutes))
    model = load_model(manager.store)
    wf = model.workflows[WORKFLOW_ID]

    # plan vs the plate values alone
    def plate_values():
        return [list(model.node_streams(wf.nodes[f.sinks[0]])) for f in wf.factors if f.sinks]
    b, _ = timed(plate_values, repeat)
    t, steps = timed(lambda: plan(model, wf), repeat)
    line(f"plan() ({len(steps):,} steps)", t, "plate values of every sink", b, "<= 1 s at 100 homes")

    # the streams as a run leaves them
    pristine = os.path.join(tmp, f"deployment_{homes}_inputs.sqlite")
    if run:
        t0 = time.perf_counter()
        n = record_inputs(manager, interval)
        print(f"  (recordings: {n:,} instances in {time.perf_counter() - t0:.1f} s)")
        manager.close()
        shutil.copyfile(path, pristine)
        manager = ChannelManager.open(path)
        model = load_model(manager.store)
        wf = model.workflows[WORKFLOW_ID]
        t0 = time.perf_counter()
        result = run_workflow(manager, model, wf, interval)
        print(f"  (a run to colour: {len(result.records):,} tool runs in {time.perf_counter() - t0:.1f} s)")
    else:
        t0 = time.perf_counter()
        write_run_end_state(manager, model, wf, interval)
        print(f"  (definitions as a run leaves them, written in {time.perf_counter() - t0:.1f} s)")
    manager.close()
    bench_colouring(path, interval, repeat)
    t_paint, _ = timed(lambda: graph_paint(path), repeat)
    bench_app_open(path, t_paint, timed(lambda: list_streams(path), 1)[0], repeat)
    return pristine if run else None


def graph_paint(path):
    m = ChannelManager.open(path)
    g = layout_workflow(load_model(m.store).workflows[WORKFLOW_ID])
    m.close()
    return g


def list_streams(path):
    m = ChannelManager.open(path)
    n = len(m.get_channel("mongo").streams)
    m.close()
    return n


def bench_colouring(path, interval, repeat):
    """The colouring figures of a store whose workflow has run (or holds a run's end state): colouring from a
    built index and a refresh, one stream's lineage, and from a fresh open: the store, the graph, the first full
    colouring and the stream listing."""
    manager = ChannelManager.open(path)
    model = load_model(manager.store)
    wf = model.workflows[WORKFLOW_ID]
    b, defs = timed(lambda: manager.store.list_definitions("mongo"), repeat)
    holder = {}

    def first():
        holder["index"] = WorkflowStatusIndex(manager, model, wf)
        return workflow_status(None, manager, model, wf, interval, index=holder["index"])
    t_first, _ = timed(first, 1)
    line(f"colour the graph, first (index built)", t_first, f"read {len(defs):,} definitions", b)
    t, states = timed(lambda: workflow_status(None, manager, model, wf, interval, index=holder["index"]), repeat)
    line("colour the graph, refresh", t, f"read {len(defs):,} definitions", b, "<= 0.5 s at 100 homes")
    print(f"    node states: {_states(states)}")

    # one node's lineage vs one definition read: the first question (the run records read then) and then
    index = holder["index"]
    tracker = index.tracker()
    cid, sid = index.node_streams["home_summary_5min"][-1]
    b, _ = timed(lambda: manager.store.get_definition(sid), max(repeat, 5))
    t, _ = timed(lambda: tracker.lineage(cid, sid), 1)
    line("lineage of one stream, first question", t, "one definition read", b)

    def lineage():
        tracker.index.forget([(cid, sid)])
        return tracker.lineage(cid, sid)
    t, lin = timed(lineage, max(repeat, 5))
    line(f"lineage of one stream of home_summary_5min", t, "one definition read", b, "<= 50 ms at 100 homes")
    manager.close()

    # opening the store and showing the graph: open, first graph paint, first full colouring (each from a fresh
    # open), and listing every stream (what the stream browser shows) — vs opening the file alone and one read
    # of every definition
    from channels.stores.sqlite_store import SQLiteStore

    def file_only():
        SQLiteStore(path).close()

    def open_only():
        m = ChannelManager.open(path)
        m.close()

    def full_colouring():
        m = ChannelManager.open(path)
        mo = load_model(m.store)
        w = mo.workflows[WORKFLOW_ID]
        layout_workflow(w)
        st = workflow_status(None, m, mo, w, interval, index=WorkflowStatusIndex(m, mo, w))
        m.close()
        return st

    def read_definitions():
        m = ChannelManager.open(path)
        n = len(m.store.list_definitions("mongo"))
        m.close()
        return n
    b, _ = timed(file_only, repeat)
    t, _ = timed(open_only, repeat)
    line("open the store (ChannelManager.open)", t, "open the file alone", b)
    t, _ = timed(lambda: graph_paint(path), repeat)
    line("first graph paint (open + load + layout)", t, "open the file alone", b, "<= 2 s at 100 homes")
    b, n = timed(read_definitions, 1)
    t, states = timed(full_colouring, 1)
    line("first full colouring (open .. coloured)", t, f"open + read {n:,} definitions", b)
    print(f"    node states: {_states(states)} (load average {os.getloadavg()[0]:.1f})")
    t, n = timed(lambda: list_streams(path), 1)
    line(f"open + list every stream ({n:,}, browser)", t, f"open + read {n:,} definitions", b)


def _states(states) -> dict:
    seen = {}
    for st in states.values():
        seen[st.state] = seen.get(st.state, 0) + 1
    return seen


def api_open_figures(path, repeat):
    """(first graph paint, open + list every stream) of ``path`` through the API: the app figure's baselines."""
    def graph_paint():
        m = ChannelManager.open(path)
        layout_workflow(load_model(m.store).workflows[WORKFLOW_ID])
        m.close()

    def list_streams():
        m = ChannelManager.open(path)
        len(m.get_channel("mongo").streams)
        m.close()
    return timed(graph_paint, repeat)[0], timed(list_streams, 1)[0]


def bench_app_open(path, api_paint, api_list, repeat, why=False):
    """Open ``path`` as the user does (``open_target``: a job, then the state switches) in a fresh window each
    time; medians of open → graph painted, → listing complete, and the largest 10 ms-timer gap. ``why``: after each
    open, its longest stalls with the stacks that held them (gui_meter.StallSampler)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from gui_meter import GapMeter, Paints, StallSampler, spin_until, thread_sched
    from hsgui.common import gc_policy
    from hsgui.main_window import MainWindow
    from hsgui.app import create_application
    app = create_application(sys.argv[:1])   # as the app makes it (Qt's raster thread pool off: see hsgui.app)
    gc_policy.install()

    paint, listed, gaps, idle, waited, waited_idle = [], [], [], [], [], []
    for _ in range(repeat):
        w = MainWindow(restore=False)
        w.persist = False
        w.resize(1400, 900)
        w.show()
        spin_until(lambda: not w.runner.active)
        settle = time.perf_counter()    # the window's first paints (the plot pane's axes: 30-80 ms) are not idle
        spin_until(lambda: time.perf_counter() - settle > 0.3)
        meter = GapMeter()
        sched0 = thread_sched()
        idle.append(meter.run(lambda: True, min_s=0.5)[0])
        waited_idle.append((meter.took, thread_sched()[1] - sched0[1]))
        view, tree = w.workflows.view, w.tree.model
        paints = Paints(view.viewport())
        marks = {}

        def done():
            now = time.perf_counter() - t0
            if "paint" not in marks and view.layout_ is not None and paints.n > marks.setdefault("_p", paints.n):
                marks["paint"] = now
            if view.layout_ is None:
                marks.pop("_p", None)
            index = tree._indexes.get("mongo")
            if "list" not in marks and w.state.manager is not None and index is not None and index.searchable \
                    and not tree.indexing:
                marks["list"] = now
            return "paint" in marks and "list" in marks and not w.runner.active
        sampler = StallSampler(context=lambda: [j.title for j in list(w.runner.jobs) if j.state.value == "running"]) \
            if why else None
        meter.start()
        if sampler:
            sampler.start()
        t0, sched0 = time.perf_counter(), thread_sched()
        w.open_target(path)
        spin_until(done, timeout=300)
        gaps.append(meter.stop()[0])
        waited.append((time.perf_counter() - t0, thread_sched()[1] - sched0[1]))
        if sampler:
            sampler.stop()
            print(f"  open {len(gaps)}: largest gap {gaps[-1] * 1e3:.0f} ms; its longest stalls:")
            print("\n".join("    " + line for line in sampler.report(2)))
        paint.append(marks["paint"])
        listed.append(marks["list"])
        w.close()
        spin_until(lambda: not w.runner.active)
        app.processEvents()
    load = os.getloadavg()[0]
    print(f"  app (MainWindow, File › Connect; load average {load:.1f}):")
    line("  app: open → workflow graph painted", statistics.median(paint), "API first graph paint", api_paint,
         "<= 2 s at 100 homes")
    line("  app: open → Streams listing complete", statistics.median(listed), "API open + list every stream",
         api_list)
    line("  app: largest event-loop gap while opening", statistics.median(gaps), "idle timer, same window",
         statistics.median(idle), "<= 50 ms")
    print(f"    (each run: graph {', '.join(f'{x * 1e3:.0f}' for x in paint)} ms; listing "
          f"{', '.join(f'{x * 1e3:.0f}' for x in listed)} ms; gap {', '.join(f'{x * 1e3:.0f}' for x in gaps)} ms)")
    print(f"    (the GUI thread waited for a core (machine load) {', '.join(f'{w * 1e3:.0f}' for _t, w in waited)} ms "
          f"of opens of {', '.join(f'{t:.1f}' for t, _w in waited)} s; idle: "
          f"{', '.join(f'{w * 1e3:.0f}' for _t, w in waited_idle)} ms of {', '.join(f'{t:.1f}' for t, _w in waited_idle)} s)")


def bench_engines(tmp, pristine, homes, minutes, only=None):
    interval = TimeInterval(T0, T0 + timedelta(minutes=minutes))
    print(f"\nrun over {minutes} minutes of recordings, {homes} home{'s' if homes != 1 else ''} "
          f"(os.cpu_count() = {os.cpu_count()}):")
    runs = []
    if not engine_api():
        print("  engine not available (run_workflow has no engine= yet): the sequential run only")
        copy = os.path.join(tmp, "run_seq.sqlite")
        shutil.copyfile(pristine, copy)
        t, n, inst = run_once(copy, interval)
        print(f"  sequential        {t:8.2f} s  {n:,} tool runs, {inst:,} instances, {n / t:,.0f} runs/s")
        return
    configs = [("1 worker", dict(engine="local", workers=1)), ("2 local workers", dict(engine="local", workers=2))]
    try:
        import distributed  # noqa: F401
        configs.append(("dask LocalCluster x2", "dask"))
    except ImportError:
        print("  dask: engine not available (distributed is not installed)")
    if only:
        configs = [c for c in configs if c[0] in only]
    cluster = None
    print(f"  (load average before the runs {os.getloadavg()[0]:.1f}: other processes share the cores)")
    for label, engine in configs:
        copy = os.path.join(tmp, f"run_{len(runs)}.sqlite")
        shutil.copyfile(pristine, copy)
        try:
            if engine == "dask":
                from distributed import LocalCluster
                cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True)
                engine = dict(engine="dask", scheduler=cluster.scheduler_address)
            t, n, inst = run_once(copy, interval, **engine)
        except Exception as e:  # noqa: BLE001 - a missing engine is reported, the rest goes on
            print(f"  {label:20s} engine not available: {type(e).__name__}: {e}")
            continue
        finally:
            if cluster is not None and engine and engine.get("engine") == "dask":
                cluster.close()
                cluster = None
        runs.append((label, t))
        print(f"  {label:20s} {t:8.2f} s  {n:,} tool runs, {inst:,} instances, {n / t:,.0f} runs/s, "
              f"{t / max(1, n) * 1e3:.2f} ms per step   (load average {os.getloadavg()[0]:.1f})")
    times = dict(runs)
    if "1 worker" in times:
        for label, t in runs[1:]:
            print(f"  speed-up {label:20s} {times['1 worker'] / t:5.2f}x vs 1 worker (same run)"
                  + ("   [>= 1.7x]" if label == "2 local workers" else ""))
    if "2 local workers" in times and "dask LocalCluster x2" in times:
        print(f"  dask LocalCluster x2 / 2 local workers: {times['dask LocalCluster x2'] / times['2 local workers']:.2f}x"
              f"   [<= 1.3x]")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--homes", default="10,100", help="comma-separated sizes")
    ap.add_argument("--run-homes", type=int, default=10, help="the size that is run (recordings + engines)")
    ap.add_argument("--minutes", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--smoke", action="store_true", help="1 home, 5 minutes, no timing claims")
    ap.add_argument("--app-only", metavar="STORE", help="only the app figure, on an existing deployment store")
    ap.add_argument("--why", action="store_true", help="with the app figure: each open's longest event-loop stalls, "
                    "with the GUI thread's CPU time in them and the stacks (GUI and job threads) that held them")
    ap.add_argument("--colour-only", metavar="STORE", help="only the colouring figures, on a kept deployment store "
                    "that holds a run (deployment_<homes>.sqlite of --keep)")
    ap.add_argument("--engines-only", metavar="STORE", help="only the runs, each on a copy of STORE: a kept store "
                    "holding the recordings and no run (deployment_<homes>_inputs.sqlite of --keep); give "
                    "--run-homes as its size")
    ap.add_argument("--engines", default="1 worker,2 local workers,dask LocalCluster x2",
                    help="comma-separated runs to make (default: all three)")
    ap.add_argument("--keep", metavar="DIR", help="build the stores in DIR and keep them (deployment_<homes>.sqlite:"
                    " reuse one with --app-only)")
    args = ap.parse_args()
    sizes = [int(h) for h in args.homes.split(",") if h.strip()]
    if args.colour_only:
        print(f"{args.colour_only} (load average {os.getloadavg()[0]:.1f}):")
        bench_colouring(args.colour_only, TimeInterval(T0, T0 + timedelta(minutes=args.minutes)), args.repeat)
        return
    only = {e.strip() for e in args.engines.split(",") if e.strip()}
    if args.engines_only:
        tmp = tempfile.mkdtemp(prefix="bench_workflow_scale_")
        try:
            bench_engines(tmp, args.engines_only, args.run_homes, args.minutes, only)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    if args.app_only:
        paint, listed = api_open_figures(args.app_only, args.repeat)
        print(f"{args.app_only}: API first graph paint {paint * 1e3:.1f} ms, open + list every stream "
              f"{listed * 1e3:.1f} ms (load average {os.getloadavg()[0]:.1f})")
        bench_app_open(args.app_only, paint, listed, args.repeat, why=args.why)
        return
    if args.smoke:
        sizes, args.run_homes, args.minutes, args.repeat = [1], 1, 5, 1
        print("smoke mode: tiny sizes, the figures below are not timing claims")
    print(f"os.cpu_count() = {os.cpu_count()}")
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    tmp = args.keep or tempfile.mkdtemp(prefix="bench_workflow_scale_")
    try:
        pristine = None
        for homes in sizes:
            p = bench_size(tmp, homes, homes == args.run_homes, args.minutes, args.repeat)
            pristine = p or pristine
        if pristine is not None:
            bench_engines(tmp, pristine, args.run_homes, args.minutes, only)
        else:
            print(f"\n(no run: --run-homes {args.run_homes} is not one of --homes)")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
