"""HyperStream's plate-style tools, run by the one engine with the output plate given as meta-data values.

HyperStream has three tool shapes besides ``Tool``:

* ``MultiOutputTool._execute(source, splitting_stream, interval, meta_data_id, output_plate_values)``
  (the splitter family, ``stream_broadcaster``, ``asset_splitter``) yields
  ``StreamMetaInstance(instance, (meta_data_id, plate_value))``;
* ``SelectorTool._execute(sources, interval)`` (``index_of``) yields
  ``StreamMetaInstance(instance, meta_data_of_the_output_stream)``;
* ``PlateCreationTool._execute(source, interval)`` yields the meta-data of the
  plate values it finds (it writes no stream).

Here a plate is meta-data: the output plate is ``meta_data_id`` plus its values,
and each yielded instance goes to the sibling of the sink whose id is the sink's
id plus that meta-data, exactly as :class:`channels.tools.engine.Tool` writes any
StreamMetaInstance. So ::

    splitter.execute([source], sink, interval, meta_data_id="house", output_plate_values=["1", "2"])

writes ``sink: [house=1]`` and ``sink: [house=2]``. HyperStream's own call,
``execute(source, splitting_stream, sinks, interval, meta_data_id, output_plate_values)``,
works too: the sinks' common id (without ``meta_data_id``) is the sink.

As in HyperStream, an instance whose meta-data is not a value of the output
plate is not written (one warning per run); ``output_plate_values=None``
accepts every value. Each class runs through the engine's only-missing,
chunk-committed path; its ``_produce`` adapts the call.
"""
from __future__ import annotations

import logging

from ..errors import ToolExecutionError
from ..stream import Stream, StreamId, StreamMetaInstance
from ..time_interval import TimeInterval
from .engine import Tool, _normalise_meta

log = logging.getLogger(__name__)


def plate_values(meta_data_id, values) -> list[tuple] | None:
    """``values`` of the plate ``meta_data_id`` as HyperStream passes them: one tuple of (key, value) pairs
    each. A value may be given plainly (``"1"``), as a pair (``("house", "1")``) or as a tuple of pairs."""
    if values is None:
        return None
    out = []
    for v in values:
        if isinstance(v, (tuple, list)) and not v:
            out.append(())  # the stream itself (a selector's output with no meta-data left)
            continue
        if isinstance(v, (tuple, list)) and all(isinstance(p, (tuple, list)) and len(p) == 2 for p in v):
            pairs = tuple((str(k), str(x)) for k, x in v)
        elif isinstance(v, (tuple, list)) and len(v) == 2 and isinstance(v[0], str):
            pairs = ((str(v[0]), str(v[1])),)
        else:
            if meta_data_id is None:
                raise ToolExecutionError(f"output plate value {v!r} needs a meta_data_id")
            pairs = ((str(meta_data_id), str(v)),)
        out.append(pairs)
    return out


class _PlateTool(Tool):
    """Common part: remember the plate for the run, filter meta-data against it."""

    _plate_id = None
    _plate_values = None

    def _allowed(self, item, dropped):
        """``item`` if its meta-data belongs to the output plate (or no plate was given), else None."""
        if not isinstance(item, StreamMetaInstance) or self._plate_values is None:
            return item
        pairs = set(_normalise_meta(item.meta_data, self.name))
        if any(set(pv) <= pairs for pv in self._plate_values):
            return item
        if not dropped:
            log.warning("tool %s produced meta-data %s, which is not a value of the output plate %s; not written",
                        self.name, sorted(pairs), self._plate_id)
        dropped.append(item)
        return None

    def _filtered(self, produced):
        dropped: list = []
        for item in produced or ():
            item = self._allowed(item, dropped)
            if item is not None:
                yield item

    _raw_sources = None

    def _run_plate(self, sources, sink, interval, alignment_stream, meta_data_id, output_plate_values, options,
                   temporary_sink=False):
        self._plate_id = meta_data_id
        self._plate_values = plate_values(meta_data_id, output_plate_values)
        flat = []
        for s in sources:  # HyperStream's index_of_by_stream takes [selector stream, [streams ...]]
            flat.extend(s if isinstance(s, (list, tuple)) else [s])
        self._raw_sources = sources if len(flat) != len(sources) else None
        try:
            return Tool.execute(self, flat, sink, interval, alignment_stream, **options)
        finally:
            self._plate_id = self._plate_values = self._raw_sources = None
            if temporary_sink and sink.stream_id in sink.channel and not sink.window(
                    TimeInterval.all_time()).count():
                # the common stream we made for HyperStream's list of sinks: not one of the outputs
                sink.channel.purge_stream(sink.stream_id, remove_definition=True)


def _common_sink(sinks, meta_data_id, tool_name) -> tuple[Stream, bool]:
    """The stream whose id is the sinks' id without ``meta_data_id`` (created in their channel if needed),
    calculated over what every sink has calculated."""
    sinks = list(sinks)
    if not sinks or not all(isinstance(s, Stream) for s in sinks):
        raise ToolExecutionError(f"tool {tool_name!r}: sinks must be a non-empty list of Streams, got {sinks!r}")
    channel = sinks[0].channel
    base = {StreamId(s.stream_id.name, [p for p in s.stream_id.meta_data if p[0] != meta_data_id]) for s in sinks}
    if len(base) != 1 or any(s.channel is not channel for s in sinks):
        raise ToolExecutionError(f"tool {tool_name!r}: the sinks {[str(s.stream_id) for s in sinks]} are not one "
                                 f"stream split over {meta_data_id!r} in one channel")
    sid = base.pop()
    return base_stream(channel, sid, sinks)


def base_stream(channel, sid, sinks) -> tuple[Stream, bool]:
    """``sid`` in ``channel`` (made if needed; True then), calculated over what all ``sinks`` have calculated."""
    created = sid not in channel
    sink = channel.get_or_create_stream(sid)
    if any(s.stream_id == sid for s in sinks):
        return sink, False
    done = sinks[0].calculated_intervals
    for s in sinks[1:]:
        done = done & s.calculated_intervals
    if sink.calculated_intervals != done:
        sink.calculated_intervals = done
    return sink, created


class MultiOutputTool(_PlateTool):
    """HyperStream's multi-output tool: ``_execute(source, splitting_stream, interval, meta_data_id,
    output_plate_values)`` yields StreamMetaInstances onto the output plate."""

    def _execute(self, source, splitting_stream, interval, meta_data_id, output_plate_values):
        raise NotImplementedError(f"tool {self.name!r} does not implement _execute")

    def _produce(self, sources, alignment_stream, interval):
        if len(sources) > 1:
            raise ToolExecutionError(f"tool {self.name!r} splits one source stream, got {len(sources)}")
        return self._filtered(self._execute(source=sources[0] if sources else None, splitting_stream=alignment_stream,
                                            interval=interval, meta_data_id=self._plate_id,
                                            output_plate_values=list(self._plate_values or ())))

    def execute(self, *args, **kwargs):
        """``execute(sources, sink, interval, splitting_stream=None, *, meta_data_id, output_plate_values, progress,
        cancel, chunk, history)`` or HyperStream's ``execute(source, splitting_stream, sinks, interval,
        meta_data_id, output_plate_values)``. Returns the RunRecord."""
        if "sinks" in kwargs or (len(args) >= 3 and isinstance(args[2], (list, tuple))):
            names = ("source", "splitting_stream", "sinks", "interval", "meta_data_id", "output_plate_values")
            call = dict(zip(names, args), **kwargs)
            sink, temporary = _common_sink(call["sinks"], call.get("meta_data_id"), self.name)
            given = call.get("output_plate_values")
            if given is None:
                given = [tuple(p for p in s.stream_id.meta_data if p[0] == call.get("meta_data_id"))
                         for s in call["sinks"]]
            options = {k: call[k] for k in ("progress", "cancel", "chunk", "history") if k in call}
            source = call.get("source")
            return self._run_plate([source] if source is not None else [], sink, call["interval"],
                                   call.get("splitting_stream"), call.get("meta_data_id"), given, options,
                                   temporary_sink=temporary)
        names = ("sources", "sink", "interval", "splitting_stream")
        call = dict(zip(names, args), **kwargs)
        splitting = call.pop("splitting_stream", None)
        if splitting is None:
            splitting = call.pop("alignment_stream", None)
        meta_data_id = call.pop("meta_data_id", None)
        values = call.pop("output_plate_values", None)
        return self._run_plate(list(call.pop("sources") or []), call.pop("sink"), call.pop("interval"), splitting,
                               meta_data_id, values, call)


class SelectorTool(_PlateTool):
    """HyperStream's selector: ``__init__(selector_meta_data, **kwargs)``; ``_execute(sources, interval)`` yields
    StreamMetaInstances whose meta-data names the output stream (the source's without the selected key)."""

    def __init__(self, selector_meta_data, **kwargs):
        super().__init__(selector_meta_data=selector_meta_data, **kwargs)

    def _execute(self, sources, interval):
        raise NotImplementedError(f"tool {self.name!r} does not implement _execute")

    def _produce(self, sources, alignment_stream, interval):
        return self._filtered(self._execute(sources=self._raw_sources or sources, interval=interval))

    def execute(self, sources, sink, interval, alignment_stream=None, **kwargs):
        """``execute(sources, sink, interval)``: writes ``sink`` + the yielded meta-data; or HyperStream's
        ``execute(sources, sinks, interval)`` with a list of sinks."""
        if isinstance(sink, (list, tuple)):
            sinks = list(sink)
            if not sinks:
                raise ToolExecutionError(f"tool {self.name!r}: no sinks given")
            names = {s.stream_id.name for s in sinks}
            if len(names) != 1:
                raise ToolExecutionError(f"tool {self.name!r}: sinks have different names {sorted(names)}")
            base, temporary = base_stream(sinks[0].channel, StreamId(names.pop()), sinks)
            values = [tuple(s.stream_id.meta_data) for s in sinks]
            return self._run_plate(list(sources or []), base, interval, alignment_stream, None, values, kwargs,
                                   temporary_sink=temporary)
        return self._run_plate(list(sources or []), sink, interval, alignment_stream, None,
                               kwargs.pop("output_plate_values", None), kwargs)


class PlateCreationTool(Tool):
    """HyperStream's plate-creation tool: ``_execute(source, interval)`` yields StreamMetaInstances whose meta-data
    are the new plate's values. ``execute(source, interval, input_plate_value=None)`` returns that set of values
    (it writes no stream); use the values as ``output_plate_values`` of a MultiOutputTool."""

    def _execute(self, source, interval):
        raise NotImplementedError(f"tool {self.name!r} does not implement _execute")

    def execute(self, source, interval, input_plate_value=None):
        if not isinstance(interval, TimeInterval):
            raise ToolExecutionError(f"tool {self.name!r}: interval must be a TimeInterval, got {interval!r}")
        values = set()
        try:
            for item in self._execute(source=source, interval=interval) or ():
                meta = item.meta_data if isinstance(item, StreamMetaInstance) else item
                values.add(meta if not isinstance(meta, list) else tuple(meta))
        except ToolExecutionError:
            raise
        except Exception as e:
            raise ToolExecutionError(f"tool {self.name!r} failed over {interval}: {type(e).__name__}: {e}") from e
        return values


__all__ = ["MultiOutputTool", "SelectorTool", "PlateCreationTool", "plate_values"]
