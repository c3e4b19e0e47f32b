"""Write the stored values of function-valued tool parameters BY RUNNING THE ORIGINAL HYPERSTREAM 0.3.8.

    /tmp/venvhs/bin/python bench/hs_stored_code_fixture.py tests/data/stored_code/hs_py3_parameters.json

(`bash ../shared/peer/setup.sh` builds /tmp/venvhs.) HyperStream makes the tools (``hs.tools.<name>(...)``)
and each tool's own ``parameters`` property serialises them, exactly as a workflow document stores them:
``{"key", "value", "is_function", "is_set"}`` with ``value = pickle.dumps(func_dump(f))``.

The one patch: HyperStream 0.3.8's ``func_dump`` reads ``func.func_code``, which exists only on Python 2.
It is replaced at run time (in ``hyperstream.utils.serialization`` and the name ``hyperstream.tool.base_tool``
imported) by the same function reading ``__code__``; nothing under shared/ is edited. Bytes values are written
as ``{"$binary": base64}`` (how BSON binary comes out of a JSON export).
"""
import json
import os
import platform
import sys
import tempfile

_HERE = os.path.dirname(os.path.abspath(__file__))
PEER = next((p for p in (os.path.join(_HERE, "..", "..", "shared", "peer"), "/work/shared/peer")
             if os.path.exists(os.path.join(p, "hs_compat.py"))), "/work/shared/peer")
sys.path.insert(0, os.environ.get("HS_PEER", PEER))
import hs_compat  # noqa: E402,F401  (must precede hyperstream)

import hyperstream.tool.base_tool as base_tool  # noqa: E402
import hyperstream.utils.serialization as serialization  # noqa: E402
from hyperstream import HyperStream  # noqa: E402

_original_func_dump = serialization.func_dump


def func_dump_py3(func):
    """HyperStream's func_dump with ``__code__`` for ``func_code`` (the same tuple otherwise)."""
    import marshal
    closure = tuple(c.cell_contents for c in func.__closure__) if func.__closure__ else None
    return marshal.dumps(func.__code__), func.__defaults__, closure


serialization.func_dump = func_dump_py3
base_tool.func_dump = func_dump_py3


def make(k):
    return lambda xs: k * sum(xs)


from hs_workflow_fixture import plain  # noqa: E402  (the same JSON form as the first fixture)


def main(out_path):
    work = tempfile.mkdtemp()
    cfg = hs_compat.write_config(os.path.join(work, "hyperstream_config.json"), db="hs_stored_code_fixture")
    os.chdir(work)
    hs = HyperStream(loglevel=30, file_logger=False, console_logger=False, mqtt_logger=None)
    tools = {
        # name in the fixture: (tool made by HyperStream, what the function is, sample input, expected output)
        "sliding_mean": (hs.tools.sliding_apply(func=lambda x: sum(v for _t, v in x) / max(1, len(list(x)))),
                         "lambda x: sum(v for _t, v in x) / max(1, len(list(x)))", [[[0, 1.0], [1, 3.0]]], 2.0),
        "aggregate_range": (hs.tools.aggregate(func=lambda values: max(values) - min(values),
                                               aggregation_meta_data="resident"),
                            "lambda values: max(values) - min(values)", [[4, 9, 1]], 8),
        "apply_scaled": (hs.tools.apply(func=lambda d, scale=2.5: d * scale),
                         "lambda d, scale=2.5: d * scale", [4], 10.0),
        "closure_k": (hs.tools.apply(func=make(3)), "make(3) with def make(k): return lambda xs: k * sum(xs)",
                      [[1, 2, 3]], 18),
    }
    out = {"python": list(sys.version_info[:3]), "implementation": platform.python_implementation(),
           "hyperstream_func_dump_patched": "func.func_code -> func.__code__", "tools": {}}
    for name, (tool, what, args, expected) in tools.items():
        out["tools"][name] = {"tool": tool.name, "function": what, "call_args": args, "expected": expected,
                              "parameters": plain(tool.parameters)}
    with open(out_path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(out['tools'])} tools' parameters to {out_path} (Python {platform.python_version()})")
    del cfg


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "hs_py3_parameters.json"))
