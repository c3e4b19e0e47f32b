"""Reads never see half a batch: writer threads fill a gap in the middle of a stream while readers count.

Every answer a reader gets (``count``, ``summary(...).total``, ``columns``) must match a committed state:
the initial instances plus a whole number of batches. On SQLite every multi-query read runs in one read
transaction (a WAL snapshot); on MongoDB (mongomock here) the store serialises its batch writes with its
multi-document reads within the process.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import numpy as np
import pytest

from channels.stores.base import StreamDefinition
from channels.stream import StreamId, StreamInstance
from channels.utils import UTC

from stores_fixtures import make_store

T0 = datetime(2021, 3, 1, tzinfo=UTC)
SID = StreamId("gap_filled", {"k": "v"})
BATCH = 200
WRITERS = 2


def t(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


# EDGE instances are stored on each side of the gap before the writers start (mongomock is slow: fewer, and still
# 30 s or more)
@pytest.mark.parametrize("kind, BATCHES_PER_WRITER, EDGE",
                         [("sqlite", 40, 1000), pytest.param("mongomock", 4, 300, marks=pytest.mark.slow)])
def test_reads_see_whole_batches_only_while_writers_fill_a_gap(kind, BATCHES_PER_WRITER, EDGE, tmp_path):
    store, fin = make_store(kind, tmp_path)
    try:
        store.create_definition(StreamDefinition(SID, "mongo"))
        gap = WRITERS * BATCHES_PER_WRITER * BATCH
        # stored: seconds 0 .. EDGE-1, then EDGE+gap .. 2*EDGE+gap-1; the writers fill EDGE .. EDGE+gap-1
        store.insert(SID, [StreamInstance(t(s), float(s)) for s in range(EDGE)])
        store.insert(SID, [StreamInstance(t(s), float(s)) for s in range(EDGE + gap, 2 * EDGE + gap)])
        base = 2 * EDGE
        allowed = {base + k * BATCH for k in range(WRITERS * BATCHES_PER_WRITER + 1)}
        start, end = t(-1), t(2 * EDGE + gap)
        errors: list = []
        seen: list = []
        done = threading.Event()

        def writer(w):
            try:
                for b in range(BATCHES_PER_WRITER):
                    first = EDGE + (b * WRITERS + w) * BATCH
                    store.insert(SID, [StreamInstance(t(s), float(s)) for s in range(first, first + BATCH)])
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        def reader(what):
            try:
                while not done.is_set():
                    if what == "count":
                        n = store.count(SID, start, end)
                    elif what == "summary":
                        n = int(store.summary(SID, start, end, 7).total)
                    else:
                        ms, vals = store.columns(SID, start, end)
                        n = len(ms)
                        assert np.all(np.diff(ms) > 0)
                    seen.append((what, n))
                    time.sleep(0.0005)  # let the writers in
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        readers = [threading.Thread(target=reader, args=(w,)) for w in ("count", "summary", "columns")]
        writers = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        for th in readers + writers:
            th.start()
        for th in writers:
            th.join(300)
            assert not th.is_alive(), "a writer did not finish"
        done.set()
        for th in readers:
            th.join(120)
        assert not errors, errors
        bad = [(what, n) for what, n in seen if n not in allowed]
        assert not bad, f"reads matching no committed state: {bad[:10]} (of {len(seen)} reads)"
        assert len(seen) >= 3
        total = base + WRITERS * BATCHES_PER_WRITER * BATCH
        assert store.count(SID, start, end) == total
        assert int(store.summary(SID, start, end, 7).total) == total
        assert store.first(SID, start, end).value == 0.0
        assert store.last(SID, start, end).value == float(total - 1)
    finally:
        fin()
