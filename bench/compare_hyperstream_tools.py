#!/usr/bin/env python
"""Side by side: every tool bundled with HyperStream 0.3.8, run by the original and by us on the same input.

    .venv/bin/python bench/compare_hyperstream_tools.py [--json OUT]

Loads the bundled tools from the original's ``hyperstream/tools`` folder, used as a plugin tool folder here,
runs each case (below) in this process, runs the same cases in the original (``/tmp/venvhs/bin/python`` with
``../shared/peer/hs_compat.py``, override with HS_PYTHON / HS_PEER) and compares the streams written, instance
by instance. Prints one line per case, ``same`` / ``DIFF`` / ``error here`` / ``error in HyperStream``, and a
summary; the last line is JSON. Plate-style tools run with the output plate given as meta-data values
(``meta_data_id`` + ``output_plate_values``); plate-creation tools compare the set of plate values found.

Not a test: the figures are for the report in README "Coming from HyperStream".
"""
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
HS_PYTHON = os.environ.get("HS_PYTHON", "/tmp/venvhs/bin/python")
HS_PEER = os.environ.get("HS_PEER", os.path.join(HERE, "..", "..", "shared", "peer"))
HS_TOOLS = "/tmp/venvhs/lib/python3.11/site-packages/hyperstream/tools"

# -- the functions cases pass as parameters (the same on both sides) --------------------------------------------
FUNCS = {
    "double": lambda v: 2 * v,
    "sum": lambda vs: sum(v.value if hasattr(v, "value") else v for v in vs),
    "count": lambda vs: len(list(vs)),
    "first_key": lambda inst: ("house", str(inst.value)[:1]),
    "house_of": lambda inst: ("house", "1" if inst.value < 5 else "2"),
}


def cases():
    """(name, tool, parameters, kind, spec). Inputs (all at T0 + k s): x = k (1..10); d = {room, v, w};
    l = [k, k+1, k+2]; ld = [{a: k, b: 1}, {a: 1}]; w = windows (t-3, t] at 3, 5, 7, 9; ticks = None at 5, 10;
    h = x under meta-data house=1 and house=2 (x and 10x); assets = {"1": {...}, "2": {...}} at 1."""
    return [
        ("clock", "clock", {"first": "T0", "stride": 2.0}, "tool", {"sources": []}),
        ("apply", "apply", {"func": "double"}, "tool", {"sources": ["x"]}),
        ("component", "component", {"key": "v"}, "tool", {"sources": ["d"]}),
        ("component_filter", "component_filter", {"key": "room", "values": ["k"], "complement": False}, "tool",
         {"sources": ["d"]}),
        ("component_set", "component_set", {"keys": ["v"]}, "tool", {"sources": ["d"]}),
        ("copy", "copy", {}, "tool", {"sources": ["x"]}),
        ("dict_argmax", "dict_argmax", {}, "tool", {"sources": ["dv"]}),
        ("dict_values_to_const", "dict_values_to_const", {"const": 1}, "tool", {"sources": ["dv"]}),
        ("histogram_from_list", "histogram_from_list", {"first_break": 0, "break_width": 2, "n_breaks": 5}, "tool",
         {"sources": ["l"]}),
        ("jsonify", "jsonify", {}, "tool", {"sources": ["d"]}),
        ("list_dict_mean", "list_dict_mean", {}, "tool", {"sources": ["ld"]}),
        ("list_dict_sum", "list_dict_sum", {}, "tool", {"sources": ["ld"]}),
        ("list_length", "list_length", {}, "tool", {"sources": ["l"]}),
        ("list_mean", "list_mean", {}, "tool", {"sources": ["l"]}),
        ("list_sum", "list_sum", {}, "tool", {"sources": ["l"]}),
        ("percentiles_from_list", "percentiles_from_list", {"percentiles": [25, 50]}, "tool", {"sources": ["l"]}),
        ("product", "product", {}, "tool", {"sources": ["x", "x"]}),
        ("relative_apply", "relative_apply", {"func": "sum"}, "tool", {"sources": ["rw"]}),
        ("relative_apply2", "relative_apply2", {"func": "sum"}, "tool", {"sources": ["rw"]}),
        ("relative_window", "relative_window", {"relative_start": -3, "relative_end": 0, "values_only": False},
         "tool", {"sources": ["x"], "alignment": "ticks"}),
        ("slice", "slice", {"index": 1}, "tool", {"sources": ["l"]}),
        ("sliding_window", "sliding_window", {"first": "T0", "lower": -3.0, "upper": 0.0, "increment": 2.0}, "tool",
         {"sources": []}),
        ("sliding_apply", "sliding_apply", {"func": "sum"}, "tool", {"sources": ["w", "x"]}),
        ("sliding_listify", "sliding_listify", {}, "tool", {"sources": ["w", "x"]}),
        ("sliding_sink", "sliding_sink", {}, "tool", {"sources": ["w", "x"]}),
        ("sink", "sink", {}, "tool", {"sources": ["x"]}),
        ("aligned_merge", "aligned_merge", {"names": ["a", "b"]}, "tool", {"sources": ["x", "x"]}),
        ("aligning_window", "aligning_window", {"lower": -2.0, "upper": 0.0}, "tool",
         {"sources": ["ticks"]}),
        ("asset_writer", "asset_writer", {"value": {"a": 1}}, "tool", {"sources": []}),
        ("aggregate", "aggregate", {"func": "sum", "aggregation_meta_data": "house"}, "tool", {"sources": ["h"]}),
        ("aggregate_into_dict_and_apply", "aggregate_into_dict_and_apply",
         {"func": "double", "aggregation_meta_data": "house"}, "tool", {"sources": ["h"]}),
        ("aggregate_plate", "aggregate_plate", {"aggregation_meta_data": "house"}, "tool", {"sources": ["hd"]}),
        ("splitter", "splitter", {"element": "room", "mapping": {"k": "kitchen", "b": "bath"}}, "multi",
         {"source": "d", "plate": ["room", ["kitchen", "bath"]]}),
        ("splitter_of_dict", "splitter_of_dict", {"mapping": {"v": "v", "w": "w"}}, "multi",
         {"source": "dvw", "plate": ["key", ["v", "w"]]}),
        ("splitter_of_list", "splitter_of_list", {"mapping": ["p0", "p1", "p2"]}, "multi",
         {"source": "l", "plate": ["pos", ["p0", "p1", "p2"]]}),
        ("splitter_with_unlist", "splitter_with_unlist", {"element": "items", "subelement": "room",
                                                          "mapping": {"k": "kitchen", "b": "bath"}}, "multi",
         {"source": "du", "plate": ["room", ["kitchen", "bath"]]}),
        ("splitter_from_stream", "splitter_from_stream", {"element": "room"}, "multi",
         {"source": "d", "splitting": "mapping", "plate": ["room", ["kitchen", "bath"]]}),
        ("splitter_time_aware", "splitter_time_aware", {"time_intervals": "TI_LIST"}, "multi",
         {"source": "x", "plate": ["part", ["1", "2"]]}),
        ("splitter_time_aware_from_stream", "splitter_time_aware_from_stream", {}, "multi",
         {"source": "x", "splitting": "parts", "plate": ["part", ["1", "2"]]}),
        ("stream_broadcaster", "stream_broadcaster", {"func": "double"}, "multi",
         {"source": "x", "plate": ["house", ["1", "2"]]}),
        ("stream_broadcaster_from_stream", "stream_broadcaster_from_stream", {"func": "double"}, "multi",
         {"source": "x", "splitting": "mapping", "plate": ["house", ["1", "2"]]}),
        ("asset_splitter", "asset_splitter", {}, "multi", {"source": "assets", "plate": ["house", ["1", "2"]]}),
        ("index_of", "index_of", {"index": "2", "selector_meta_data": "house"}, "selector",
         {"sources": ["h"], "sinks": [[]]}),
        ("index_of_by_stream", "index_of_by_stream", {"index": "2"}, "selector_by_stream",
         {"selector": "selector", "sources": ["h"], "sinks": [[["house", "2"]]]}),
        ("plate_sink", "plate_sink", {}, "selector", {"sources": ["h"], "sinks": [[["house", "1"]]]}),
        ("percentiles_to_csv", "percentiles_to_csv", {}, "selector", {"sources": ["hl"], "sinks": [[]]}),
        ("histograms_to_csv", "histograms_to_csv", {"first_break": 0, "break_width": 2, "n_breaks": 5}, "selector",
         {"sources": ["hl"], "sinks": [[]]}),
        ("meta_instance", "meta_instance", {"func": "house_of"}, "plate", {"source": "x"}),
        ("meta_instance_from_list", "meta_instance_from_list", {"values": ["a", "b"]}, "plate", {"source": "l"}),
        ("asset_plate_generator", "asset_plate_generator", {"element": None}, "plate", {"source": "assets"}),
    ]


# -- one side -------------------------------------------------------------------------------------------------
def run_side(api):
    """Run every case with ``api`` (the module namespace of one side) and return {case: result}."""
    T0 = api.T0
    sec = lambda s: T0 + timedelta(seconds=s)  # noqa: E731
    interval = api.TimeInterval(T0, sec(10))
    everything = api.TimeInterval(T0 - timedelta(days=1), T0 + timedelta(days=1))

    def inputs(channel):
        def make(name, items, meta=None):
            s = api.create(channel, name, meta)
            s.writer([api.StreamInstance(t, v) for t, v in items])
            api.inputs_calculated(s, everything)
            return s
        ks = range(1, 11)
        data = {
            "x": make("x", [(sec(k), float(k)) for k in ks]),
            "d": make("d", [(sec(k), {"room": "kb"[k % 2], "v": k, "w": 2 * k}) for k in ks]),
            "dv": make("dv", [(sec(k), {"a": k, "b": 5}) for k in ks]),
            "dvw": make("dvw", [(sec(k), {"v": k, "w": 2 * k}) for k in ks]),
            "du": make("du", [(sec(k), {"items": [{"room": "k", "n": k}, {"room": "b", "n": -k}], "z": 0})
                              for k in ks]),
            "l": make("l", [(sec(k), [k, k + 1, k + 2]) for k in ks]),
            "ld": make("ld", [(sec(k), [{"a": k, "b": 1}, {"a": 1}]) for k in ks]),
            "w": make("w", [(sec(k), api.TimeInterval(sec(k - 3), sec(k))) for k in (3, 5, 7, 9)]),
            "rw": make("rw", [(sec(k), [api.StreamInstance(sec(k - 1), float(k - 1)),
                                        api.StreamInstance(sec(k), float(k))]) for k in (2, 4, 6)]),
            "ticks": make("ticks", [(sec(k), None) for k in (5, 10)]),
            "mapping": make("mapping", [(sec(1), {"k": "kitchen", "b": "bath", "1": "1", "2": "2"})]),
            "parts": make("parts", [(sec(1), [["1", api.TimeInterval(sec(0), sec(4))],
                                              ["2", api.TimeInterval(sec(4), sec(10))]])]),
            "selector": make("selector", [(sec(1), "house")]),
            "assets": make("assets", [(sec(1), {"1": {"rooms": 2}, "2": {"rooms": 3}})]),
            "h": [make("h", [(sec(k), float(k) * m) for k in ks], [("house", h)]) for h, m in (("1", 1), ("2", 10))],
            "hd": [make("hd", [(sec(k), {"v": k}) for k in ks], [("house", h)]) for h in ("1", "2")],
            "hl": [make("hl", [(sec(k), [k, k + 1]) for k in ks], [("house", h)]) for h in ("1", "2")],
        }
        return data

    def param(v):
        if v == "T0":
            return T0
        if v == "TI_LIST":
            return [api.TimeInterval(sec(0), sec(4)), api.TimeInterval(sec(4), sec(10))]
        if isinstance(v, str) and v in FUNCS:
            return FUNCS[v]
        return v

    def srcs(data, names):
        out = []
        for n in names:
            out.extend(data[n] if isinstance(data[n], list) else [data[n]])
        return out

    results = {}
    for name, tool_name, params, kind, spec in cases():
        channel = api.new_channel("c_" + name)
        data = inputs(channel)
        try:
            tool = api.get_tool(tool_name, {k: param(v) for k, v in params.items()})
            if kind == "tool":
                sink = api.create(channel, "out")
                al = data[spec["alignment"]] if "alignment" in spec else None
                api.run_tool(tool, srcs(data, spec["sources"]), sink, interval, al)
                out = {"out": sink}
            elif kind == "multi":
                pid, values = spec["plate"]
                splitting = data[spec["splitting"]] if "splitting" in spec else None
                sinks = api.run_multi(tool, data[spec["source"]], splitting, channel, "out", interval, pid, values)
                out = {str(k): s for k, s in sinks.items()}
            elif kind in ("selector", "selector_by_stream"):
                sources = srcs(data, spec["sources"])
                if kind == "selector_by_stream":
                    sources = [data[spec["selector"]], sources]
                sinks = [api.create(channel, "out", [tuple(p) for p in meta] or None) for meta in spec["sinks"]]
                api.run_selector(tool, sources, sinks, interval)
                out = {str(api.meta_of(s)): s for s in sinks}
                out.update({str(api.meta_of(s)): s for s in api.streams_named(channel, "out")})
            else:
                values = api.run_plate(tool, data[spec["source"]], interval)
                results[name] = {"plate_values": sorted(json.dumps(jsonable(v)) for v in values)}
                continue
            results[name] = {k: [[jsonable(i.timestamp), jsonable(i.value)] for i in s.window(everything).items()]
                             for k, s in sorted(out.items())}
        except Exception as e:  # noqa: BLE001 - report what failed, go on
            results[name] = {"error": f"{type(e).__name__}: {e}"[:300]}
    return results


def jsonable(v):
    if isinstance(v, datetime):
        return v.isoformat()
    if hasattr(v, "start") and hasattr(v, "end") and isinstance(getattr(v, "start"), datetime):
        return {"start": v.start.isoformat(), "end": v.end.isoformat()}
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))}
    if isinstance(v, (set, frozenset)):
        return sorted((jsonable(x) for x in v), key=json.dumps)
    if isinstance(v, (list, tuple)) or type(v).__name__ in ("map", "filter", "generator", "zip"):
        return [jsonable(x) for x in v]
    if hasattr(v, "item") and callable(v.item):  # numpy scalar
        return v.item()
    return v


# -- the two sides --------------------------------------------------------------------------------------------
class _Side:
    T0 = None


def hyperstream_side():
    sys.path.insert(0, HS_PEER)
    import hs_compat  # noqa: F401  (must precede hyperstream)
    import logging
    logging.disable(logging.CRITICAL)
    from hyperstream import StreamId, StreamInstance, TimeInterval
    from hyperstream.channels import MemoryChannel, ToolChannel
    from hyperstream.tool.base_tool import BaseTool
    from hyperstream.utils import UTC, utcnow
    BaseTool.write_to_history = staticmethod(lambda **kw: None)  # no HyperStream session in this script
    tools = ToolChannel("hs_tools", HS_TOOLS, up_to_timestamp=utcnow())
    api = _Side()
    api.T0 = datetime(2017, 1, 1, tzinfo=UTC)
    api.TimeInterval, api.StreamInstance = TimeInterval, StreamInstance
    api.new_channel = lambda cid: MemoryChannel(cid)
    api.create = lambda ch, name, meta=None: ch.create_stream(StreamId(name, meta_data=tuple(meta or ())))
    api.inputs_calculated = lambda stream, interval: None   # HyperStream computes whatever its inputs hold
    from hyperstream.utils import MIN_DATE

    def get_tool(name, params):  # as HyperStream's ChannelManager.get_tool does it
        cls = tools[StreamId(name)].window((MIN_DATE, tools.up_to_timestamp)).last().value
        return cls(**params)

    api.get_tool = get_tool

    def run_tool(tool, sources, sink, interval, al):
        tool.execute(sources=sources, sink=sink, interval=interval, alignment_stream=al)

    def run_multi(tool, source, splitting, channel, name, interval, pid, values):
        sinks = {v: api.create(channel, name, [(pid, v)]) for v in values}
        tool.execute(source=source, splitting_stream=splitting, sinks=list(sinks.values()), interval=interval,
                     meta_data_id=pid, output_plate_values=[((pid, v),) for v in values])
        return sinks

    def run_selector(tool, sources, sinks, interval):
        tool.execute(sources=sources, sinks=sinks, interval=interval)

    api.run_tool, api.run_multi, api.run_selector = run_tool, run_multi, run_selector
    api.run_plate = lambda tool, source, interval: tool.execute(source=source, interval=interval,
                                                                input_plate_value=None)
    api.meta_of = lambda s: sorted(tuple(p) for p in s.stream_id.meta_data)
    api.streams_named = lambda ch, name: [s for sid, s in ch.streams.items() if sid.name == name]
    return api


def our_side():
    sys.path.insert(0, os.path.join(HERE, ".."))
    import logging
    logging.disable(logging.CRITICAL)
    from channels import MemoryChannel, StreamId, StreamInstance, TimeInterval, ToolChannel, UTC
    from channels.tools import MemoryRunHistory, load_tool
    from channels.utils import utcnow
    tools = ToolChannel("hs_tools", HS_TOOLS, up_to_timestamp=utcnow())
    history = MemoryRunHistory()
    api = _Side()
    api.T0 = datetime(2017, 1, 1, tzinfo=UTC)
    api.TimeInterval, api.StreamInstance = TimeInterval, StreamInstance
    api.new_channel = lambda cid: MemoryChannel(cid)
    api.create = lambda ch, name, meta=None: ch.get_or_create_stream(StreamId(name, list(meta or ())))
    # a run here computes only where its inputs are calculated: the inputs are complete over the test span, so
    # they say so (HyperStream computes whatever they hold), and both sides compute the same interval
    api.inputs_calculated = lambda stream, interval: stream.channel.write_chunk(stream, [], add_intervals=interval)
    api.get_tool = lambda name, params: load_tool(tools, name, params, coerce=False)

    def run_tool(tool, sources, sink, interval, al):
        run = tool.execute(sources, sink, interval, al, history=history)
        if run.dropped_instances:
            print(f"    ({tool.name}: {run.dropped_instances} instance(s) outside the interval dropped)")

    def run_multi(tool, source, splitting, channel, name, interval, pid, values):
        base = api.create(channel, name)
        tool.execute([source], base, interval, splitting, meta_data_id=pid, output_plate_values=values,
                     history=history)
        return {v: channel[StreamId(name, [(pid, v)])] for v in values if StreamId(name, [(pid, v)]) in channel}

    def run_selector(tool, sources, sinks, interval):
        tool.execute(sources, sinks, interval, history=history)

    api.run_tool, api.run_multi, api.run_selector = run_tool, run_multi, run_selector
    api.run_plate = lambda tool, source, interval: tool.execute(source, interval)
    api.meta_of = lambda s: sorted(tuple(p) for p in s.stream_id.meta_data)
    api.streams_named = lambda ch, name: [s for sid, s in ch.streams.items() if sid.name == name]
    return api


def main():
    if "--peer" in sys.argv:
        print(json.dumps(run_side(hyperstream_side())))
        return
    proc = subprocess.run([HS_PYTHON, os.path.abspath(__file__), "--peer"], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"the original HyperStream run failed:\n{proc.stderr[-2000:]}")
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    ours = run_side(our_side())
    summary = {"same": [], "diff": [], "error_here": [], "error_in_hyperstream": [], "error_both": []}
    for name, *_ in cases():
        a, b = ours.get(name), theirs.get(name)
        if "error" in b and "error" in a:
            verdict, key = f"error in both (HyperStream: {b['error'][:90]}; here: {a['error'][:90]})", "error_both"
        elif "error" in b:
            verdict, key = f"error in HyperStream: {b['error'][:150]}", "error_in_hyperstream"
        elif "error" in a:
            verdict, key = f"error here: {a['error'][:150]}", "error_here"
        elif a == b:
            verdict, key = "same", "same"
        else:
            verdict, key = f"DIFF\n      HyperStream: {json.dumps(b)[:300]}\n      here:        {json.dumps(a)[:300]}", \
                "diff"
        summary[key].append(name)
        print(f"{name:34s} {verdict}")
    print({k: len(v) for k, v in summary.items()})
    out = {"summary": summary, "ours": ours, "hyperstream": theirs}
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump(out, f, indent=1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
