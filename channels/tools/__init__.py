"""The tool machinery: what a tool is, how it runs, what it is given, and how HyperStream tools fit in.

=====================  ==============================================================
``engine``             :class:`Tool` and its ``execute`` (only-missing, chunked commits,
                       progress, cancel); multi-output tools
``history``            :class:`RunRecord` and where runs are kept (memory or the store)
``request``            :class:`RunRequest` and :func:`run_request`: one run asked for, as a value, and
                       the one way the app runs it; :func:`request_from_record` re-runs a record
``params``             parameter specs from ``__init__`` annotations/docstrings; coercion
                       of form text with errors that name the parameter
``functions``          the named function registry (mean, sum, ...) tools take by name
``helpers``            building blocks for tool code: ticks, durations, windowed apply
``loading``            a configured tool from a ToolChannel; scanning a channel's tools
``plates``             HyperStream's plate-style tools (MultiOutputTool, SelectorTool,
                       PlateCreationTool) run with the output plate as meta-data values
=====================  ==============================================================

Each name is imported from its module when first asked for (:mod:`channels._lazy`): importing
``channels.tools.history`` does not load the engine, the loaders and the run requests. Plugin code loads with
the ``hyperstream.*`` stand-in through :mod:`channels.plugin_names` (installed by ``import channels``).
"""
from .._lazy import lazy_attributes

_EXPORTS = {
    ".engine": ("DEFAULT_CHUNKS", "MIN_CHUNK", "AggregateTool", "MultiOutputTool", "SelectorTool", "Tool",
                "camel_to_snake", "check_input_stream_count"),
    ".helpers": ("TickTool", "aggregate_columns", "apply_over_windows", "stride_ms", "tick_ms", "tick_range",
                 "windows_aggregate_columns"),
    ".history": ("MemoryRunHistory", "RunHistory", "RunRecord", "StoreRunHistory", "get_default_history",
                 "set_default_history"),
    ".loading": ("ToolInfo", "load_tool", "scan_tools"),
    ".request": ("PreparedRun", "RunRequest", "input_streams", "prepare_run", "request_from_record", "run_request"),
    # not in __all__, offered as before
    "..tool_channel": ("ToolChannel",),
    "..hyperstream.compat": ("hyperstream_names",),
}
__getattr__, __dir__, _ = lazy_attributes(__name__, _EXPORTS)

__all__ = ["Tool", "MultiOutputTool", "AggregateTool", "SelectorTool", "TickTool", "check_input_stream_count",
           "RunRecord", "RunHistory", "MemoryRunHistory", "StoreRunHistory", "get_default_history",
           "set_default_history", "load_tool", "scan_tools", "ToolInfo", "camel_to_snake", "tick_range",
           "stride_ms", "apply_over_windows", "aggregate_columns", "tick_ms", "windows_aggregate_columns", "DEFAULT_CHUNKS", "MIN_CHUNK",
           "RunRequest", "PreparedRun", "run_request", "prepare_run", "request_from_record", "input_streams"]
