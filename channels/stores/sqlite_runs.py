"""The tool-run history of the embedded store: table ``runs`` (one tagged-JSON record per run) and, kept beside
it, the run summary (a first look at lineage reads a row per stream read instead of every record) and the runs
indexed by stream (one stream's lineage reads only its runs).

``run_reads(channel_id, stream, oldest_ms)``
    Per stream a recorded run read (its ``StreamId.key``): when the oldest run reading it started (epoch ms);
    of the runs that ended ok and committed something.
``run_tools(tool, version)``
    Every tool version such runs ran ('' for none).
``run_streams(channel_id, stream, role, run)``
    The runs by the streams they wrote and read (``StreamId.key``; ``wrote``/``read``; ``runs.id``): one
    stream's lineage reads only its runs.
``hsgui_meta('run_index_upto')``
    The newest ``runs.id`` folded into them.

Both are made by the first run recorded with them (files of earlier versions have neither, and older versions
ignore them) and updated in the same transaction as the records. Records written without them (an earlier
version, another program) are the ``runs`` rows after the mark: :meth:`SQLiteRuns.summary` and
:meth:`SQLiteRuns.runs_of` fold them in when they read (reading never writes) -- decoded once per session and
kept as their summary and run ids by stream, then only newer ones -- and the next :meth:`SQLiteRuns.record`
stores them. Owned by
:class:`channels.stores.sqlite_store.SQLiteStore`; reaches the file through its
:class:`channels.stores.sqlite_db.SQLiteDatabase`.
"""
from __future__ import annotations

import threading

from ..errors import ValueEncodingError
from ..tools.history import run_streams, summarise_run_dicts, wanted_streams
from ..utils import to_ms, utcnow
from .codec import decode_json, encode_json
from .sqlite_columnar import _dt, _ms

_TABLES = ("CREATE TABLE IF NOT EXISTS run_reads (channel_id TEXT NOT NULL, stream TEXT NOT NULL, "
           "oldest_ms INTEGER NOT NULL, PRIMARY KEY (channel_id, stream)) WITHOUT ROWID",
           "CREATE TABLE IF NOT EXISTS run_tools (tool TEXT NOT NULL, version TEXT NOT NULL, "
           "PRIMARY KEY (tool, version)) WITHOUT ROWID",
           "CREATE TABLE IF NOT EXISTS run_streams (channel_id TEXT NOT NULL, stream TEXT NOT NULL, "
           "role TEXT NOT NULL, run INTEGER NOT NULL, PRIMARY KEY (channel_id, stream, role, run)) WITHOUT ROWID")
_MARK = "run_index_upto"


class SQLiteRuns:
    """Records and lists the runs of one store file, and keeps their summary and index by stream."""

    def __init__(self, db):
        self.db = db
        self._lock = threading.Lock()
        #: the records after the mark as read so far: (mark, newest id read, their summary, {(channel_id,
        #: StreamId.key, role): [run ids]}) -- decoded once for both (a first look asks for the summary, then a
        #: lineage for one stream's runs)
        self._late = None

    def record(self, runs: list) -> None:
        """Store ``runs`` (dicts) with their summary and index by stream in one transaction; inside this thread's
        write group (:mod:`channels.stores.sqlite_group`), in the group's transaction, encoded when it commits
        (a write of the group that fails may change a record's outcome meanwhile)."""
        for run in runs:
            if not isinstance(run, dict):
                raise ValueEncodingError(f"a run record must be a dict, got {type(run).__name__}")
        if not runs:
            return
        what = "recording a tool run" if len(runs) == 1 else f"recording {len(runs)} tool runs"
        group = self.db.group
        if group is not None:
            group.queue(lambda con: self._write(con, _prepared(runs)), what, None, owned=False)
            return
        prepared = _prepared(runs)   # encoded and summarised before the write lock
        with self.db.errors(what), self.db.write() as con:
            self._write(con, prepared)

    def _write(self, con, prepared) -> None:
        rows, summary, streams = prepared
        top = con.execute("SELECT MAX(id) FROM runs").fetchone()[0] or 0
        mark = self._mark(con)
        con.executemany("INSERT INTO runs (recorded_ms, record) VALUES (?, ?)", rows)
        # this transaction holds the write lock: the rows after the newest before it are these, in order
        ids = [i for i, in con.execute("SELECT id FROM runs WHERE id>? ORDER BY id", (top,))]
        if mark is None:
            for stmt in _TABLES:
                con.execute(stmt)
            mark = 0
        if mark < top:  # records written without the summary (an earlier version): folded in now
            earlier = list(self._iter_records_after(con, mark, top))
            _merge(summary, summarise_run_dicts(run for _id, run in earlier))
            ids += [i for i, _run in earlier]
            streams += [run_streams(run) for _i, run in earlier]
        self._store(con, summary)
        con.executemany("INSERT OR IGNORE INTO run_streams VALUES (?, ?, ?, ?)",
                        [(c, k, role, i) for i, keys in zip(ids, streams) for c, k, role in keys])
        con.execute("INSERT OR REPLACE INTO hsgui_meta VALUES (?, ?)", (_MARK, str(max(ids))))

    def list(self, limit: int | None = None) -> list[dict]:
        with self.db.errors("listing tool runs"):
            q = "SELECT record FROM runs ORDER BY id DESC"
            rows = self.db.con().execute(q + (" LIMIT ?" if limit is not None else ""),
                                         (() if limit is None else (int(limit),))).fetchall()
        return [decode_json(r[0]) for r in rows]

    def summary(self) -> dict:
        """See :meth:`Store.run_summary`: the stored summary plus the records after its mark."""
        with self.db.errors("reading the run summary"):
            con = self.db.con()
            mark = self._mark(con)
            reads, tools = {}, set()
            if mark is not None:
                reads = {(c, s): _dt(ms) for c, s, ms in con.execute("SELECT channel_id, stream, oldest_ms "
                                                                     "FROM run_reads")}
                tools = {(t or None, v or None) for t, v in con.execute("SELECT tool, version FROM run_tools")}
            out = {"reads": reads, "tools": tools}
            _merge(out, self._after_mark(con, mark)[0])
        return out

    def runs_of(self, streams, role: str | None = None) -> list[dict]:
        """See :meth:`Store.runs_of`: the stored index plus the records after its mark."""
        wanted = wanted_streams(streams, role)
        out = {}
        with self.db.errors("listing tool runs"):
            con = self.db.con()
            mark = self._mark(con)
            if mark is not None:
                for c, key, r in wanted:
                    for i, text in con.execute("SELECT r.id, r.record FROM run_streams s JOIN runs r ON r.id = s.run "
                                               "WHERE s.channel_id=? AND s.stream=? AND s.role=? AND s.run<=?",
                                               (c, key, r, mark)):
                        if i not in out:
                            out[i] = decode_json(text)
            by_stream = self._after_mark(con, mark)[1]
            ids = sorted({i for w in wanted for i in by_stream.get(w, ())} - set(out))
            for part in range(0, len(ids), 500):
                chunk = ids[part:part + 500]
                for i, text in con.execute(f"SELECT id, record FROM runs WHERE id IN ({','.join('?' * len(chunk))})",
                                           chunk):
                    out[i] = decode_json(text)
        return [out[i] for i in sorted(out, reverse=True)]

    def _after_mark(self, con, mark) -> tuple:
        """``(summary, {(channel_id, StreamId.key, role): [run ids]})`` of the records after ``mark`` (None: all;
        what an earlier version recorded without the summary), decoded once and then only the newer ones."""
        mark = mark or 0
        with self._lock:
            late = self._late
            if late is None or late[0] != mark:
                late = (mark, mark, {"reads": {}, "tools": set()}, {})
            _mark, top, summary, by_stream = late
            newer, ids = {}, []

            def runs():   # decoded one at a time, each freed once looked at (see _iter_records_after)
                for i, run in self._iter_records_after(con, top):
                    ids.append(i)
                    for k in run_streams(run):
                        newer.setdefault(k, []).append(i)
                    yield run
            more = summarise_run_dicts(runs())
            if ids:   # what was returned before is never changed: new ones are made
                summary = {"reads": dict(summary["reads"]), "tools": set(summary["tools"])}
                _merge(summary, more)
                by_stream = {k: list(v) for k, v in by_stream.items()}
                for k, v in newer.items():
                    by_stream.setdefault(k, []).extend(v)
                top = max(ids)
            self._late = (mark, top, summary, by_stream)
        return summary, by_stream

    @staticmethod
    def _mark(con) -> int | None:
        row = con.execute("SELECT value FROM hsgui_meta WHERE key=?", (_MARK,)).fetchone()
        return None if row is None else int(row[0])

    @staticmethod
    def _iter_records_after(con, mark: int, upto: int | None = None):
        """``(id, record)`` of the rows after ``mark`` (up to ``upto``), decoded one at a time: each is freed once
        looked at. (A list of them all — 76,903 records in a 100-home deployment store — took 239 ms to free, in
        one C call that held the GIL: the window's event loop stalled as long.)"""
        q, args = "SELECT id, record FROM runs WHERE id>?", [mark]
        if upto is not None:
            q += " AND id<=?"
            args.append(upto)
        for i, text in con.execute(q, args):
            yield i, decode_json(text)

    @staticmethod
    def _store(con, summary: dict) -> None:
        con.executemany("INSERT INTO run_reads VALUES (?, ?, ?) ON CONFLICT (channel_id, stream) "
                        "DO UPDATE SET oldest_ms=MIN(oldest_ms, excluded.oldest_ms)",
                        [(c, s, to_ms(at)) for (c, s), at in summary["reads"].items()])
        con.executemany("INSERT OR IGNORE INTO run_tools VALUES (?, ?)",
                        [(t or "", v or "") for t, v in summary["tools"]])


def _prepared(runs) -> tuple:
    """The rows, summary and streams of ``runs`` as :meth:`SQLiteRuns._write` stores them."""
    now = _ms(utcnow(), 0)
    return [(now, encode_json(run)) for run in runs], summarise_run_dicts(runs), [run_streams(run) for run in runs]


def _merge(into: dict, more: dict) -> None:
    into["tools"] |= more["tools"]
    reads = into["reads"]
    for key, at in more["reads"].items():
        if key not in reads or at < reads[key]:
            reads[key] = at


__all__ = ["SQLiteRuns"]
