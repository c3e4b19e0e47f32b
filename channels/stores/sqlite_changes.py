"""The change log of the embedded store (:mod:`channels.changes`): table ``changes``, one row per batch that
added or deleted instances, written in the batch's own transaction. Owned by
:class:`channels.stores.sqlite_store.SQLiteStore`; reaches the file through its
:class:`channels.stores.sqlite_db.SQLiteDatabase`."""
from __future__ import annotations

import json
import time
from datetime import datetime

from ..changes import Change, current_origin
from ..stream import StreamId
from ..time_interval import TimeInterval
from ..utils import utcnow
from .sqlite_columnar import _dt, _ms


class SQLiteChangeLog:
    """Records and lists the changes of one store file."""

    def __init__(self, db):
        self.db = db

    @staticmethod
    def record(con, sid, lo, hi, kind) -> None:
        """One change-log row for a batch, inside the batch's transaction (see :mod:`channels.changes`)."""
        row = con.execute("SELECT channel_id FROM definitions WHERE sid=?", (sid,)).fetchone()
        con.execute("INSERT INTO changes (sid, channel_id, lo, hi, at, kind, by) VALUES (?,?,?,?,?,?,?)",
                    (sid, row[0] if row else None, lo, hi, _ms(utcnow(), 0), kind, current_origin(kind)))

    def read(self, stream_id: StreamId | None = None, since: datetime | None = None,
             channel_id: str | None = None) -> list[Change]:
        """See :meth:`Store.list_changes`."""
        q = ("SELECT c.id, c.channel_id, s.key, c.lo, c.hi, c.at, c.kind, c.by FROM changes c "
             "JOIN streams s ON s.sid = c.sid WHERE 1")
        params: list = []
        db = self.db
        with db.errors("listing changes"):
            con = db.con()
            if stream_id is not None:
                sid = db.sid(con, stream_id)
                if sid is None:
                    return []
                q += " AND c.sid=?"
                params.append(sid)
            if since is not None:
                q += " AND c.at>?"
                params.append(_ms(since, 0))
            if channel_id is not None:
                q += " AND c.channel_id=?"
                params.append(channel_id)
            rows = con.execute(q + " ORDER BY c.at, c.id", params).fetchall()
        keys: dict = {}
        out = []
        for rid, cid, key, lo, hi, at, kind, by in rows:
            sid_ = stream_id if stream_id is not None else keys.get(key) or keys.setdefault(key, StreamId.from_key(key))
            out.append(Change(cid, sid_, TimeInterval._trusted(_dt(lo), _dt(hi)), _dt(at), kind, by, rid))
        return out

    #: rows fetched at a time by :meth:`newest_chunks`
    CHUNK = 4096

    def newest_chunks(self, channel_id: str | None = None):
        """Lists of ``(StreamId.key, epoch ms of its newest change)``, :attr:`CHUNK` rows each: one grouped read of
        the ``(sid, at)`` index. In chunks so that whoever builds something of them hands the GIL over between
        two (a list of all 131,000 rows of a 100-home store, then a dict of it in one C call, held it 30-60 ms)."""
        q = "SELECT s.key, n.at FROM (SELECT sid, MAX(at) AS at FROM changes{} GROUP BY sid) n " \
            "JOIN streams s ON s.sid = n.sid"
        with self.db.errors("listing changes"):
            con = self.db.con()
            cur = con.execute(q.format("")) if channel_id is None else \
                con.execute(q.format(" WHERE channel_id=?"), (channel_id,))
            while rows := cur.fetchmany(self.CHUNK):
                yield rows

    def newest_ms(self, channel_id: str | None = None) -> dict:
        """See :meth:`Store.newest_change_ms`."""
        out: dict = {}
        for rows in self.newest_chunks(channel_id):
            out.update(rows)
            time.sleep(0)
        return out

    def newest(self, channel_id: str | None = None) -> dict:
        """See :meth:`Store.newest_changes`."""
        out = {}
        for rows in self.newest_chunks(channel_id):
            for key, at in rows:
                name, pairs = json.loads(key)   # a key the store wrote from a checked StreamId
                sid = StreamId._stored(name, pairs)
                sid._text = key                 # its key, known already (what StreamId.key would make again)
                out[sid] = _dt(at)
        return out
