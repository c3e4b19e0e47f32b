"""Benchmark: the longest single GIL hold of the Workflows dock's colouring job, no window (issue 23/25 event-loop
gaps). The first full colouring of a kept deployment store (a fresh open, the index built, as the dock's first
status job does), then a refresh and a refresh that reads every definition again, run on a thread under the app's
GC policy, while a sampler thread sleeps 1 ms at a time and records how late it wakes: a wake later than the
threshold is a hold (the colouring thread kept the GIL -- or the machine kept the sampler off a core), printed
with the colouring thread's stack before and after it. Baseline: the same sampler over the same time with the
thread idle (what the machine alone adds), and the ratio; the load average is printed.

    python bench/bench_colour_holds.py DIR/deployment_100.sqlite [--threshold-ms 15] [--repeat 3]

``--smoke`` builds a 1-home store (a run's end state written directly) in a temp dir and makes no timing claims.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from datetime import timedelta

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from channels import ChannelManager, TimeInterval  # noqa: E402
from channels.workflows import load_model  # noqa: E402
from hsgui.common import gc_policy  # noqa: E402
from hsgui.workflows.status import WorkflowStatusIndex, workflow_status  # noqa: E402
from resources.demo.deployment import WORKFLOW_ID  # noqa: E402
from bench_workflow_scale import T0, write_run_end_state  # noqa: E402


def _stack(frame, n=6) -> str:
    out = []
    while frame is not None and len(out) < n:
        out.append(f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno} {frame.f_code.co_name}")
        frame = frame.f_back
    return " < ".join(out)


def sample(body, threshold):
    """Run ``body()`` on a thread; ``(its wall seconds, [(lateness s, stack before, stack after)], worst s)``."""
    done, took = threading.Event(), []

    def job():
        t = time.perf_counter()
        try:
            body()
        finally:
            took.append(time.perf_counter() - t)
            done.set()
    th = threading.Thread(target=job)
    th.start()
    holds, worst = [], 0.0
    while not done.is_set():
        before = _stack(sys._current_frames().get(th.ident))
        t = time.perf_counter()
        time.sleep(0.001)
        late = time.perf_counter() - t - 0.001
        worst = max(worst, late)
        if late > threshold:
            holds.append((late, before, _stack(sys._current_frames().get(th.ident))))
    th.join()
    return took[0], holds, worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("store", nargs="?", help="a kept deployment store holding a run (deployment_<homes>.sqlite of "
                    "bench_workflow_scale.py --keep); a copy: opening it may write")
    ap.add_argument("--threshold-ms", type=float, default=15.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--smoke", action="store_true", help="a 1-home store made here, once; no timing claims")
    args = ap.parse_args()
    tmp = None
    if args.smoke:
        from resources.demo.deployment import build_deployment
        print("smoke mode: a 1-home store, the figures below are not timing claims")
        tmp = tempfile.mkdtemp(prefix="bench_colour_holds_")
        args.store, args.repeat = os.path.join(tmp, "deployment_1.sqlite"), 1
        m = ChannelManager.open(args.store)
        build_deployment(m.store, 1, T0)
        model = load_model(m.store)
        write_run_end_state(m, model, model.workflows[WORKFLOW_ID], TimeInterval(T0, T0 + timedelta(minutes=5)))
        m.close()
    elif args.store is None:
        ap.error("give a kept deployment store (or --smoke)")
    try:
        run(args)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args):
    threshold = args.threshold_ms / 1e3
    interval = TimeInterval(T0, T0 + timedelta(minutes=30))
    gc_policy.install()
    gc_policy.work_started()        # as while the dock's job runs: automatic full collections deferred

    def colouring():
        m = ChannelManager.open(args.store)
        model = load_model(m.store)
        wf = model.workflows[WORKFLOW_ID]
        index = WorkflowStatusIndex(m, model, wf)
        workflow_status(None, m, model, wf, interval, index=index)       # first: the tracker built
        workflow_status(None, m, model, wf, interval, index=index)       # a refresh
        index.FULL_EVERY_S = -1
        workflow_status(None, m, model, wf, interval, index=index)       # a refresh reading every definition
        m.close()
    for n in range(args.repeat):
        load = os.getloadavg()[0]
        took, holds, worst = sample(colouring, threshold)
        _t, _h, idle = sample(lambda: time.sleep(took), threshold)
        print(f"run {n + 1} (load average {load:.1f}): colouring {took * 1e3:.0f} ms; largest sampler lateness "
              f"{worst * 1e3:.1f} ms vs idle thread {idle * 1e3:.1f} ms (ratio {worst / max(idle, 1e-4):.1f}x); "
              f"{len(holds)} over {args.threshold_ms:.0f} ms")
        for late, before, after in sorted(holds, reverse=True)[:5]:
            print(f"  {late * 1e3:6.1f} ms  before: {before}\n             after:  {after}")


if __name__ == "__main__":
    main()
