"""Annotations as data: labelled time ranges and instants kept as an ordinary stream in the store.

A tool, a notebook or HyperStream itself reads them like any stream::

    db = manager.get_channel("mongo")
    for ts, value in db["annotations"].window(interval).items():
        ...   # ts = the annotation's end; value = {"label", "start", "colour", "note"}

Format (one stream per set, in the store's database channel, id ``mongo``):

* stream ``annotations`` (the default set; another set is ``annotations: [set=<name>]``);
* one instance per annotation; its **timestamp is the annotation's end** (HyperStream's convention: an
  instance's timestamp closes its window), so a window read ``(a, b]`` finds the annotations that end in it;
* its value is a dict with four keys, always all four::

      {"label": "door left open",     # text, not empty
       "start": datetime | None,      # aware UTC datetime (a BSON date on MongoDB); None = an instant
       "colour": "#rrggbb" | None,
       "note": str | None}

  ``start`` is a datetime, not epoch ms or ISO text: both stores keep datetimes inside dict values exactly
  (tagged JSON / BSON date), so a reader gets an aware datetime back without parsing, and a numeric ``start``
  would show up as a plottable "component" of the stream. Reading is lenient: a ``start`` written by another
  program as epoch ms or ISO text is understood too.
* the stream's calculated interval is ``(MIN_DATE, time of the last change]``: annotations are user data,
  so the stream is complete up to the moment it was last written (as assets are up to their newest version);
  a deletion keeps it (the annotation's absence is now the truth), never punching a hole into it.

Two annotations cannot end at the same millisecond (they would be one instance). :meth:`AnnotationSet.add`
moves a new one's end 1 ms earlier until it is free (``nudge=True``, the default: user marks are far coarser
than a millisecond, and earlier can never be in the future) and returns where it landed; ``nudge=False``
refuses with an error naming the time and the label already there.
"""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .errors import ChannelsError, StreamNotFoundError, TimeError
from .stream import StreamId, StreamInstance
from .time_interval import TimeInterval, TimeIntervals
from .utils import MAX_DATE, MIN_DATE, UTC, ensure_utc, from_ms, parse_datetime, utcnow

log = logging.getLogger(__name__)

STREAM_NAME = "annotations"
#: the database channel the annotations live in (HyperStream's id for it)
CHANNEL_ID = "mongo"
MAX_LABEL = 200
ONE_MS = timedelta(milliseconds=1)
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_MAX_NUDGE = 1000
_write_lock = threading.RLock()   # one annotation change at a time in this process (check, then write)


class AnnotationError(ChannelsError, ValueError):
    """An annotation that cannot be written as given (nothing was written)."""


def annotation_stream_id(set_name: str | None = None) -> StreamId:
    """``annotations`` for the default set, ``annotations: [set=<name>]`` for another."""
    return StreamId(STREAM_NAME) if not set_name else StreamId(STREAM_NAME, {"set": str(set_name)})


@dataclass(frozen=True)
class Annotation:
    """One annotation: a range ``(start, end]`` or, with ``start`` None, the instant ``end``."""

    end: datetime
    label: str
    start: datetime | None = None
    colour: str | None = None
    note: str | None = None

    @property
    def is_instant(self) -> bool:
        return self.start is None

    @property
    def interval(self) -> TimeInterval | None:
        """The range as a TimeInterval (None for an instant)."""
        return None if self.start is None else TimeInterval(self.start, self.end)

    def overlaps(self, interval: TimeInterval) -> bool:
        """Whether the annotation shares time with ``(interval.start, interval.end]`` (an instant: lies in it)."""
        if self.start is None:
            return interval.start < self.end <= interval.end
        return self.start < interval.end and self.end > interval.start

    def to_value(self) -> dict:
        return {"label": self.label, "start": self.start, "colour": self.colour, "note": self.note}

    def to_instance(self) -> StreamInstance:
        return StreamInstance(self.end, self.to_value())

    @classmethod
    def from_instance(cls, instance) -> Annotation:
        """The annotation of a stored instance; AnnotationError naming the time if it is not one."""
        ts, value = instance
        where = f"annotation instance at {ts.isoformat()}"
        if not isinstance(value, dict) or not isinstance(value.get("label"), str):
            raise AnnotationError(f"{where} is not a dict with a text 'label': {value!r}")
        start = value.get("start")
        try:
            start = _read_time(start)
        except (TimeError, TypeError, ValueError, OverflowError) as e:
            raise AnnotationError(f"{where}: 'start' {start!r} is not a time ({e})") from None
        colour, note = value.get("colour"), value.get("note")
        return cls(ts, value["label"], start, colour if isinstance(colour, str) else None,
                   note if isinstance(note, str) else None)


def _read_time(x) -> datetime | None:
    if x is None:
        return None
    if isinstance(x, datetime):
        return ensure_utc(x if x.tzinfo is not None else x.replace(tzinfo=UTC))  # BSON dates may come naive
    if isinstance(x, bool):
        raise TypeError("a bool")
    if isinstance(x, (int, float)):
        return from_ms(int(x))
    if isinstance(x, str):
        return parse_datetime(x)
    raise TypeError(type(x).__name__)


def make_annotation(label, end, start=None, colour=None, note=None) -> Annotation:
    """A checked :class:`Annotation`; AnnotationError / TimeError naming what is wrong."""
    if not isinstance(label, str) or not label.strip():
        raise AnnotationError(f"an annotation needs a label (text that is not empty), got {label!r}")
    label = label.strip()
    if len(label) > MAX_LABEL:
        raise AnnotationError(f"annotation label is {len(label)} characters long; at most {MAX_LABEL} "
                              f"(put the rest in the note)")
    end = ensure_utc(end, "annotation end")
    if start is not None:
        start = ensure_utc(start, "annotation start")
        if start >= end:
            raise TimeError(f"annotation {label!r}: start {start.isoformat()} is not before its end "
                            f"{end.isoformat()} (for a single instant leave the start empty)")
        if start < MIN_DATE + ONE_MS:
            raise TimeError(f"annotation {label!r}: start {start.isoformat()} is before the beginning of time")
    if end > utcnow():
        raise TimeError(f"annotation {label!r}: end {end.isoformat()} is in the future; stream instances "
                        f"cannot be, so an annotation can only mark time that has passed")
    if colour is not None and colour != "":
        if not isinstance(colour, str) or not _COLOUR.match(colour):
            raise AnnotationError(f"annotation {label!r}: colour {colour!r} is not of the form #rrggbb")
        colour = colour.lower()
    else:
        colour = None
    if note is not None and not isinstance(note, str):
        raise AnnotationError(f"annotation {label!r}: note must be text, got {type(note).__name__}")
    return Annotation(end, label, start, colour, note or None)


class AnnotationSet:
    """The annotations of one set in a database channel: list, add, edit, delete.

    Every change is one checked step: the new annotation is validated and its end checked against the
    others before anything is written, so bad input leaves the store as it was.
    """

    def __init__(self, channel, set_name: str | None = None):
        if getattr(channel, "store", None) is None:
            raise AnnotationError(f"channel {getattr(channel, 'channel_id', channel)!r} is not a database "
                                  f"channel: annotations live in the store's database channel "
                                  f"({CHANNEL_ID!r})")
        self.channel = channel
        self.stream_id = annotation_stream_id(set_name)

    @classmethod
    def of(cls, manager, set_name: str | None = None) -> AnnotationSet:
        """The set in ``manager``'s database channel (AnnotationError saying why there is none)."""
        channel = getattr(manager, "channels", {}).get(CHANNEL_ID)
        if channel is None:
            raise AnnotationError("this connection has no database channel (no store is open), so it "
                                  "cannot keep annotations")
        return cls(channel, set_name)

    @property
    def read_only(self) -> bool:
        return bool(getattr(self.channel, "read_only", False))

    @property
    def stream(self):
        """The annotations stream, or None while nothing was ever written."""
        return self.channel.known_stream(self.stream_id)

    # -- reading -------------------------------------------------------------------------------------
    def list(self, interval: TimeInterval | None = None) -> list[Annotation]:
        """Annotations overlapping ``interval`` (all when None), by end time. An instance that is not an
        annotation is logged and left out."""
        stream = self.stream
        if stream is None:
            return []
        # a range that overlaps (a, b] ends after a; it may end long after b, so read to the end of time
        lo = MIN_DATE if interval is None else interval.start
        out = []
        for inst in stream.window(TimeInterval(lo, MAX_DATE)).items():
            try:
                a = Annotation.from_instance(inst)
            except AnnotationError as e:
                log.warning("%s: %s", self.stream_id, e)
                continue
            if interval is None or a.overlaps(interval):
                out.append(a)
        return out

    def get(self, end: datetime) -> Annotation | None:
        """The annotation ending at ``end`` (None if there is none)."""
        stream = self.stream
        if stream is None:
            return None
        end = ensure_utc(end, "annotation end")
        for inst in stream.window(TimeInterval(end - ONE_MS, end)).items():
            return Annotation.from_instance(inst)
        return None

    # -- writing -------------------------------------------------------------------------------------
    def add(self, label, end, start=None, colour=None, note=None, nudge: bool = True) -> Annotation:
        """Write a new annotation; returns it as stored (its end moved by :func:`nudge` if it was taken)."""
        a = make_annotation(label, end, start, colour, note)
        with _write_lock:
            self._check_writable()
            a = self._free_end(a, nudge, ignore=None)
            stream = self.channel.get_or_create_stream(self.stream_id)
            self.channel.write_chunk(stream, [a.to_instance()], self._calculated())
        return a

    def edit(self, old: Annotation | datetime, nudge: bool = True, **changes) -> Annotation:
        """Change ``label``, ``start``, ``end``, ``colour`` or ``note`` of the annotation ``old`` (or the one
        ending at that time); returns the annotation as now stored.

        The old instance is deleted and the new one written; if the write fails the old one is written
        back, so a failure leaves the old annotation."""
        unknown = set(changes) - {"label", "start", "end", "colour", "note"}
        if unknown:
            raise AnnotationError(f"cannot change {', '.join(sorted(unknown))} of an annotation")
        with _write_lock:
            self._check_writable()
            current = self._existing(old)
            new = make_annotation(**{"label": current.label, "end": current.end, "start": current.start,
                                        "colour": current.colour, "note": current.note, **changes})
            new = self._free_end(new, nudge, ignore=current.end)
            if new == current:
                return current
            stream = self.stream
            self._remove(stream, current)
            try:
                self.channel.write_chunk(stream, [new.to_instance()], self._calculated())
            except Exception:
                self.channel.write_chunk(stream, [current.to_instance()], self._calculated())
                raise
        return new

    def delete(self, old: Annotation | datetime) -> Annotation:
        """Delete one annotation; returns what was deleted (add it again to undo)."""
        with _write_lock:
            self._check_writable()
            current = self._existing(old)
            self._remove(self.stream, current)
        return current

    # -- internals -----------------------------------------------------------------------------------
    def _check_writable(self) -> None:
        if self.read_only:
            raise AnnotationError(f"channel {self.channel.channel_id!r} is read-only: annotations cannot be "
                                  f"changed")

    @staticmethod
    def _calculated() -> TimeIntervals:
        return TimeIntervals([TimeInterval(MIN_DATE, utcnow())])

    def _existing(self, old) -> Annotation:
        end = old.end if isinstance(old, Annotation) else old
        found = self.get(end)
        if found is None:
            raise StreamNotFoundError(f"annotation ending at {ensure_utc(end).isoformat()}",
                                      self.channel.channel_id)
        if isinstance(old, Annotation) and found != old:
            raise AnnotationError(f"the annotation ending at {end.isoformat()} was changed meanwhile (now "
                                  f"{found.label!r}); read it again")
        return found

    def _free_end(self, a: Annotation, nudge: bool, ignore) -> Annotation:
        for _ in range(_MAX_NUDGE):
            there = self.get(a.end) if a.end != ignore else None
            if there is None:
                return a
            if not nudge:
                raise AnnotationError(
                        f"an annotation already ends at {a.end.isoformat()} ({there.label!r}); two "
                        f"annotations cannot end at the same millisecond: move this one's end")
            end = a.end - ONE_MS
            if a.start is not None and a.start >= end:
                raise AnnotationError(f"annotation {a.label!r}: its end {a.end.isoformat()} is taken and the "
                                      f"range is too short to move it")
            a = replace(a, end=end)
        raise AnnotationError(f"annotation {a.label!r}: no free millisecond found before {a.end.isoformat()}")

    def _remove(self, stream, a: Annotation) -> None:
        self.channel.purge_interval(stream.stream_id, TimeInterval(a.end - ONE_MS, a.end),
                                    calculated_intervals=self._calculated())


__all__ = [
    "CHANNEL_ID",
    "STREAM_NAME",
    "Annotation",
    "AnnotationError",
    "AnnotationSet",
    "annotation_stream_id",
    "make_annotation",
]
