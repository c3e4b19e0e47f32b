"""HyperStream 0.3.8's API over ``channels``: ``from channels.hyperstream import HyperStream, TimeInterval, ...``.

==================  ======================================================================================
``names``           HyperStream-flavoured classes (naive datetimes are UTC, RelativeTimeInterval in seconds,
                    tool bases), statistics helpers, HyperStream's error names
``compat``          the ``hyperstream.*`` stand-in: installed in ``sys.modules`` while plugin tool files
                    import (only when the real package is absent) and while :func:`run_script` runs a script
``session``         the session objects: ``HyperStream``, ``PlateManager`` / ``MetaDataManager``,
                    ``Workflow`` (nodes, factors, ``execute``), ``WorkflowManager`` (``commit_workflow``)
``serialization``   HyperStream's stored form of function parameters, written without ``pickle``
``tools``           ``apply`` / ``sliding_apply`` taking a live function (HyperStream's calling convention)
``script``          :func:`run_script` and ``python -m channels.hyperstream SCRIPT.py [args]``
==================  ======================================================================================
"""
from .. import stream as _stream
from ..utils import MAX_DATE, MIN_DATE, UTC, utcnow
from .compat import hyperstream_names, real_hyperstream_available
from .names import (AggregateTool, BaseTool, MultiOutputTool, NotSupportedError, PlateCreationTool,
                    RelativeTimeInterval, SelectorTool, StreamInstance, StreamMetaInstance, TimeInterval,
                    TimeIntervals, Tool, error_classes, parse_time_tuple)
from .script import run_script
from .session import (Factor, HyperStream, IncompatiblePlatesError, MetaDataManager, Node, NodeIDAbsentError, Plate,
                      PlateManager, ToolContainer, Workflow, WorkflowManager)

StreamId = _stream.StreamId
Stream = _stream.Stream
StreamView = _stream.StreamView
globals().update({k: v for k, v in error_classes().items() if k not in globals()})

__all__ = ["HyperStream", "PlateManager", "MetaDataManager", "Plate", "Workflow", "WorkflowManager", "Node", "Factor",
           "ToolContainer", "TimeInterval", "TimeIntervals", "RelativeTimeInterval", "parse_time_tuple", "StreamId",
           "Stream", "StreamView", "StreamInstance", "StreamMetaInstance", "Tool", "BaseTool", "MultiOutputTool",
           "AggregateTool", "SelectorTool", "PlateCreationTool", "NotSupportedError", "NodeIDAbsentError",
           "IncompatiblePlatesError", "UTC", "MIN_DATE", "MAX_DATE", "utcnow", "run_script", "hyperstream_names",
           "real_hyperstream_available"] + sorted(k for k in error_classes() if k != "IncompatiblePlatesError")
