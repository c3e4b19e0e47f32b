"""The stream filter every stream search uses (the Streams dock, the stream picker).

Each word must match: a plain word is a case-insensitive substring of the name or
any ``key=value``; a word with ``* ? [..]`` is a glob that must match the whole
name or a whole ``key=value``.

:class:`StreamIndex` evaluates a filter over a whole channel without a Python step per
stream. A deployment's streams repeat a few names and a few meta-data sets (50 names x
100 houses x rooms x sensors), so the index keeps each distinct name, meta-data set and
``key=value`` once: a word is matched against those distinct texts (one regex scan over
their joined text), and the hits are spread to the streams with numpy. Typing a filter
over 150,000 streams costs a few milliseconds per keystroke; each word's stream mask is
cached, so a second word, a backspace or a retyped word costs almost nothing.
"""
from __future__ import annotations

import ctypes
import re
import time
from itertools import chain
from operator import attrgetter

import numpy as np


def _glob_to_regex(word: str) -> str:
    out, i = [], 0
    while i < len(word):
        c = word[i]
        if c == "*":
            out.append(r"[^\n]*")
        elif c == "?":
            out.append(r"[^\n]")
        elif c == "[":
            j = word.find("]", i + 1)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = word[i + 1:j].replace("\\", "\\\\")
                if body.startswith(("!", "^")):
                    body = "^\n" + body[1:]     # a negated class still stays on one line (one name or key=value)
                out.append("[" + body + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


class StreamFilter:
    """Compiled filter text. Each word must match: a plain word is a case-insensitive
    substring of the name or any ``key=value``; a word with ``* ? [..]`` is a glob
    that must match the whole name or a whole ``key=value``."""

    def __init__(self, text: str):
        self.text = text.strip()
        self.substrings: list[str] = []
        self.globs: list[re.Pattern] = []
        for word in self.text.split():
            if any(c in word for c in "*?["):
                self.globs.append(re.compile("^" + _glob_to_regex(word) + "$", re.M | re.I))
            else:
                self.substrings.append(word.casefold())

    def __bool__(self):
        return bool(self.text)

    @staticmethod
    def search_text(stream_id) -> str:
        """One line per token: the name, then each ``k=v`` (globs anchor on lines)."""
        if not stream_id.meta_data:
            return stream_id.name
        return stream_id.name + "\n" + "\n".join([k + "=" + v for k, v in stream_id.meta_data])

    def patterns(self) -> list:
        """``(cache key, pattern, on folded text?)`` per word: a substring is searched in the case-folded
        texts, a glob (whole-line, case-insensitive) in the texts as they are."""
        return ([(("s", s), re.compile(re.escape(s)), True) for s in self.substrings]
                + [(("g", g.pattern), g, False) for g in self.globs])

    def matches(self, text: str, folded: str) -> bool:
        for s in self.substrings:
            if s not in folded:
                return False
        for g in self.globs:
            if g.search(text) is None:
                return False
        return True


def _line_starts(texts) -> np.ndarray:
    """Offsets of each text in ``"\\n".join(texts)``."""
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    return np.concatenate(([0], np.cumsum(lengths)[:-1])) if len(texts) else lengths


class _Lines:
    """Distinct texts joined into one string, so a word is matched against all of them in one regex scan."""

    def __init__(self, texts):
        self.n = len(texts)
        self.text = "\n".join(texts)
        self.starts = _line_starts(texts)
        folded = [t.casefold() for t in texts]
        self.folded = "\n".join(folded)
        self.folded_starts = _line_starts(folded)

    def hits(self, pattern: re.Pattern, folded: bool) -> np.ndarray:
        """Which texts the pattern finds something in (bool per text)."""
        hit = np.zeros(self.n, dtype=bool)
        if self.n:
            found = [m.start() for m in pattern.finditer(self.folded if folded else self.text)]
            if found:
                hit[np.searchsorted(self.folded_starts if folded else self.starts, found, side="right") - 1] = True
        return hit


CHUNK = 1024   # streams per step of an index build: a step is a few C-level passes of 0.5-2 ms


def _objects(items: list) -> np.ndarray:
    """A numpy array of objects: unlike a list, the cyclic garbage collector never traverses it, so holding
    150,000 streams adds nothing to a full collection (which the app runs after background jobs)."""
    return np.fromiter(items, dtype=object, count=len(items))


def stream_list_key(streams) -> bytes:
    """Which stream objects, in which order: equal keys mean the same streams (by identity, no StreamId hashed,
    and not a container the garbage collector traverses). The bytes of the object pointers — each one's
    ``id()`` — copied out of a numpy object array: 1.5 ms on 150,000 streams (``map(id, …)``: 7-20 ms)."""
    refs = _objects(streams if isinstance(streams, list) else list(streams))
    return ctypes.string_at(refs.ctypes.data, refs.nbytes) if len(refs) else b""


class _Interner:
    """Numbers items by their distinct values (first seen first), fed in chunks: one hash per item, in C."""

    def __init__(self):
        self.first: dict = {}     # item -> where it was first seen (its keys: the distinct items, in order)
        self.seen: list = []
        self.n = 0

    def add(self, items: list) -> None:
        self.seen.append(np.fromiter(map(self.first.setdefault, items, range(self.n, self.n + len(items))),
                                     dtype=np.int64, count=len(items)))
        self.n += len(items)

    def result(self) -> tuple:
        """``(ids, distinct)``: each item's number in ``distinct``."""
        seen = np.concatenate(self.seen) if self.seen else np.zeros(0, dtype=np.int64)
        distinct_at = np.flatnonzero(seen == np.arange(len(seen)))       # first occurrences, in order
        dense = np.empty(len(seen), dtype=np.int64)
        dense[distinct_at] = np.arange(len(distinct_at))
        return dense[seen], list(self.first)


_NAME = attrgetter("stream_id.name")
_META = attrgetter("stream_id.meta_data")


class StreamIndex:
    """One channel's streams, grouped by name (groups in case-insensitive name order), with what the filter and a
    meta-data restriction need, built once. Positions (``0 .. len-1``) are into :attr:`streams`; masks are numpy
    bool arrays over them; ``None`` as a mask means every stream.

    The build is resumable: :meth:`advance` works for a time budget and returns, so a large channel is indexed on
    the GUI thread in slices between events (no thread: a Python thread busy next to the GUI thread makes every
    model call of a paint wait for the GIL). Its name groups come first (:attr:`grouped`: enough to show the
    tree), then the search keys (:attr:`searchable`). :meth:`complete` finishes at once (a small channel)."""

    CACHE = 48   # word masks kept (each one bool per stream)

    def __init__(self, streams, key: bytes | None = None):
        streams = streams if isinstance(streams, list) else list(streams)   # a list given is not changed after
        self._n = len(streams)
        self._key = key   # which streams, in which order (stream_list_key); made in the first steps when not given
        self.grouped = self.searchable = False
        self._orders: dict = {}                     # group -> its positions sorted by meta-data (numpy)
        self._words: dict = {}                      # word key -> mask
        self._restriction = (None, None)            # (the restriction, its mask)
        self._steps = self._build(streams)

    @property
    def key(self) -> bytes:
        """:func:`stream_list_key` of the streams it was made of."""
        if self._key is None:
            for _ in self._steps:       # the first steps make it
                if self._key is not None:
                    break
        return self._key

    def advance(self, budget_s: float) -> bool:
        """Build for about ``budget_s`` seconds (at least one step); True when the index is complete."""
        end = time.perf_counter() + budget_s
        for _ in self._steps:
            if time.perf_counter() >= end:
                return False
        return True

    def complete(self) -> "StreamIndex":
        for _ in self._steps:
            pass
        return self

    def _build(self, streams: list):
        n = len(streams)
        if self._key is None:
            parts = []
            for a in range(0, n, 4 * CHUNK):
                refs = _objects(streams[a:a + 4 * CHUNK])
                parts.append(ctypes.string_at(refs.ctypes.data, refs.nbytes))
                yield
            self._key = b"".join(parts)
        names = _Interner()
        for a in range(0, n, CHUNK):
            names.add(list(map(_NAME, streams[a:a + CHUNK])))
            yield
        name_ids, distinct = names.result()
        del names
        by_name = sorted(range(len(distinct)), key=lambda i: (distinct[i].casefold(), distinct[i]))  # no case
        self.names: list[str] = [distinct[i] for i in by_name]
        rank = np.empty(len(distinct), dtype=np.int64)
        rank[by_name] = np.arange(len(distinct))
        ranks = rank[name_ids]
        order = np.argsort(ranks, kind="stable")
        yield
        ordered = np.empty(n, dtype=object)
        for a in range(0, n, CHUNK):
            ordered[a:a + CHUNK] = _objects(list(map(streams.__getitem__, order[a:a + CHUNK].tolist())))
            yield
        self.streams = ordered
        self.sizes = np.bincount(ranks, minlength=len(self.names)).astype(np.int64)
        self.starts = np.concatenate(([0], np.cumsum(self.sizes))).astype(np.int64)
        self.grouped = True
        yield
        del streams, order
        metas = _Interner()                           # each distinct meta-data tuple once
        for a in range(0, n, CHUNK):
            metas.add(list(map(_META, ordered[a:a + CHUNK].tolist())))
            yield
        self.meta_ids, distinct = metas.result()
        yield
        del metas                                     # freeing a dict of ~n entries: a step of its own
        yield
        pairs = _Interner()                           # each distinct (key, value) once
        lengths = []
        for a in range(0, len(distinct), CHUNK):
            part = distinct[a:a + CHUNK]
            pairs.add(list(chain.from_iterable(part)))
            lengths.append(np.fromiter(map(len, part), dtype=np.int64, count=len(part)))
            yield
        metas_array = np.empty(len(distinct), dtype=object)
        for a in range(0, len(distinct), 4 * CHUNK):
            metas_array[a:a + 4 * CHUNK] = _objects(distinct[a:a + 4 * CHUNK])
            yield
        self.metas = metas_array
        self._pair_id, pair_values = pairs.result()
        yield
        del pairs
        yield
        self._pair_meta = np.repeat(np.arange(len(distinct), dtype=np.int64),
                                    np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64))
        self._pair_lines = _Lines([k + "=" + v for k, v in pair_values])
        self._name_lines = _Lines(self.names)
        self.searchable = True

    def __len__(self):
        return self._n

    # -- masks ---------------------------------------------------------------------------------------
    def mask(self, stream_filter: "StreamFilter | None" = None, restriction=None):
        """Streams matching every word of ``stream_filter`` whose meta-data (as a frozenset of pairs) is in
        ``restriction`` (None: no restriction); None when that is every stream."""
        out = None
        if restriction is None and not stream_filter:
            return None
        self.complete()
        if restriction is not None:
            out = self._restricted(restriction)
        if stream_filter:
            for key, pattern, folded in stream_filter.patterns():
                m = self._word_mask(key, pattern, folded)
                out = m if out is None else out & m
        return out

    def _word_mask(self, key, pattern, folded) -> np.ndarray:
        m = self._words.pop(key, None)
        if m is None:
            pair_hit = self._pair_lines.hits(pattern, folded)
            meta_hit = np.zeros(len(self.metas), dtype=bool)
            meta_hit[self._pair_meta[pair_hit[self._pair_id]]] = True
            m = meta_hit[self.meta_ids] | np.repeat(self._name_lines.hits(pattern, folded), self.sizes)
            if len(self._words) >= self.CACHE:
                self._words.pop(next(iter(self._words)))
        self._words[key] = m      # newest last: the oldest goes first
        return m

    def _restricted(self, restriction) -> np.ndarray:
        if self._restriction[0] is not restriction:
            hit = np.fromiter((frozenset(m) in restriction for m in self.metas), dtype=bool, count=len(self.metas))
            self._restriction = (restriction, hit[self.meta_ids])
        return self._restriction[1]

    # -- groups and variants -------------------------------------------------------------------------
    def group_counts(self, mask) -> np.ndarray:
        """How many streams of each name group the mask keeps."""
        if mask is None or not len(self.names):
            return self.sizes.copy()
        return np.add.reduceat(mask.astype(np.int64), self.starts[:-1])

    def positions(self, group: int, mask=None) -> np.ndarray:
        """The group's streams the mask keeps, in stream order (not sorted)."""
        a, b = int(self.starts[group]), int(self.starts[group + 1])
        if mask is None:
            return np.arange(a, b)
        return a + np.flatnonzero(mask[a:b])

    def variants(self, group: int, mask=None) -> np.ndarray:
        """The group's streams the mask keeps, sorted by meta-data (the order the tree shows). A whole group's
        order is kept once made; a filtered subset of a group not sorted yet is sorted alone."""
        order = self._orders.get(group)
        if order is None:
            positions = self.positions(group, mask)
            metas = list(map(_META, self.streams[positions].tolist()))
            order = positions[np.array(sorted(range(len(metas)), key=metas.__getitem__), dtype=np.int64)]
            if mask is not None:
                return order
            self._orders[group] = order
        return order if mask is None else order[mask[order]]

    def take(self, positions) -> list:
        """The streams at ``positions`` (a numpy array or a list)."""
        return self.streams[np.asarray(positions, dtype=np.int64)].tolist()


def list_streams(ctx, channel) -> None:
    """Job (the Streams tree's and the stream picker's): read ``channel``'s stream definitions (once, whoever else
    lists them meanwhile); first says how many there are."""
    if not channel.listed:
        ctx.report(0.0, f"listing {channel.count_streams():,} streams…")
        channel.streams  # noqa: B018 - reads them


__all__ = ["StreamFilter", "StreamIndex", "list_streams", "stream_list_key"]
