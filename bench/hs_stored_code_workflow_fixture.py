"""Build a HyperStream 0.3.8 database whose workflow carries functions as stored Python code, BY RUNNING
HYPERSTREAM ITSELF, execute it there, and dump documents and results as JSON (bytes as ``{"$binary"}``).

    /tmp/venvhs/bin/python bench/hs_stored_code_workflow_fixture.py tests/data/hyperstream_stored_code_db.json

The workflow (plates H = houses, H.R = residents): a clock per resident (every 60 s), ``apply`` with a lambda
turning each tick into its minute of the hour, ``aggregate`` with a lambda summing the residents' minutes into
their house, a 10-minute ``sliding_window`` and ``sliding_apply`` with a lambda averaging each house's sums over
the window. The three lambdas are stored by HyperStream as ``pickle.dumps(func_dump(f))``,
marshalled by this Python (3.11), ``is_function: true``.

HyperStream 0.3.8's ``func_dump`` reads ``func.func_code`` (Python 2 only); on Python 3 this script replaces it,
at run time, by the same dump of ``func.__code__`` (nothing under site-packages is edited).
"""
import marshal
import os
import sys
from datetime import datetime, timedelta

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "peer")
sys.path.insert(0, os.environ.get("HS_PEER", PEER))
import hs_compat  # noqa: E402,F401  (must precede hyperstream)

import hyperstream.tool.base_tool as base_tool  # noqa: E402
import hyperstream.utils.serialization as serialization  # noqa: E402
from hyperstream import TimeInterval  # noqa: E402
from hyperstream.utils import UTC  # noqa: E402


def func_dump(func):  # HyperStream's func_dump on Python 3: __code__ instead of func_code
    closure = tuple(c.cell_contents for c in func.__closure__) if func.__closure__ else None
    return marshal.dumps(func.__code__), func.__defaults__, closure


serialization.func_dump = base_tool.func_dump = func_dump
COLLECTIONS = ("meta_data", "plate_definitions", "workflow_definitions", "workflow_status")


from hs_workflow_fixture import dump, houses_session  # noqa: E402  (the same JSON form as the first fixture)


def main(out_path):
    hs = houses_session("hs_stored_code_fixture")
    day = datetime(2024, 3, 1, tzinfo=UTC)
    interval = TimeInterval(day, day + timedelta(hours=1))
    H, HR = hs.plate_manager.plates["H"], hs.plate_manager.plates["H.R"]
    with hs.create_workflow("stored_code_wf", "Stored code workflow", "peer",
                            "lambdas in apply, sliding_apply and aggregate") as w:
        m = hs.channel_manager.memory
        ticks = w.create_node("ticks", m, [HR])
        minutes = w.create_node("minutes", m, [HR])
        house_sum = w.create_node("house_sum", m, [H])
        windows = w.create_node("windows_10min", m, [])
        means = w.create_node("mean_house_sum", m, [H])
        w.create_factor(hs.tools.clock(stride=60.0), sources=[], sink=ticks)
        w.create_factor(hs.tools.apply(func=lambda t: t.minute), sources=[ticks], sink=minutes)
        w.create_factor(hs.tools.aggregate(func=lambda values: sum(values), aggregation_meta_data="resident"),
                        sources=[minutes], sink=house_sum)
        w.create_factor(hs.tools.sliding_window(lower=-600.0, upper=0.0, increment=600.0), sources=[],
                        sink=windows)
        w.create_factor(hs.tools.sliding_apply(func=lambda xs: sum(v for _t, v in xs) / 10.0),
                        sources=[windows, house_sum], sink=means)
    hs.workflow_manager.commit_workflow("stored_code_wf")
    w.execute(interval)
    dump(out_path, m, interval, python=list(sys.version_info[:2]))

if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "hyperstream_stored_code_db.json"))
