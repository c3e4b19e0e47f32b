"""Write groups of the embedded store: the writes one thread makes inside ``with store.write_group():`` are
queued (each as the transaction body it would have run) and committed together, in ONE write transaction, when
the group ends -- or earlier, when the queued writes pass ``max_instances`` instances (memory stays bounded), or
when this thread reads or changes otherwise a stream that has queued writes (so the thread always reads what it
wrote, as outside a group).

Why: every write transaction takes the file's write lock, and in WAL mode every commit makes each other
connection drop its page cache at its next read. A worker running 32 steps of a workflow made thousands of
transactions a run; in a group it makes one per batch, and holds the write lock only while the group is
committed, never while a tool computes.

The queued bodies run in the order they were queued, in one transaction, each as it would have run alone (a
body reads the state the earlier ones left: the calculated intervals of a stream written twice add up). If one
fails (e.g. a :class:`~channels.errors.DuplicateInstanceError` against stored data, a definition deleted since),
the whole transaction is rolled back and every body runs again in its own transaction, so all that can be
written is; the failed ones are kept in :attr:`WriteGroup.failures` by the ``owner`` that was current when they
were queued (a workflow step), and that owner's later writes are not made (as a run stops at its first failed
write). A process killed while a group commits leaves nothing of the group: it was one transaction.
"""
from __future__ import annotations

import sqlite3

from ..errors import StoreError

#: a group commits by itself once its queued writes hold this many instances
GROUP_MAX_INSTANCES = 200_000


_WAITING = object()


class _Queued:
    """One queued write: its transaction body and the callbacks waiting for its result."""

    __slots__ = ("body", "what", "owner", "done", "result")

    def __init__(self, body, what, owner):
        self.body, self.what, self.owner, self.done, self.result = body, what, owner, [], _WAITING

    def when_stored(self, callback) -> None:
        """``callback(result)`` once the body committed (result None: it was not written); now if it has."""
        if self.result is _WAITING:
            self.done.append(callback)
        else:
            callback(self.result)

    def stored(self, result) -> None:
        self.result = result
        done, self.done = self.done, []
        for callback in done:
            callback(result)


class WriteGroup:
    """The writes queued on one thread of a :class:`~channels.stores.sqlite_db.SQLiteDatabase` (see the module's
    text). ``owner``: what queued writes are attributed to (set by the caller, e.g. the index of a workflow step);
    ``on_failure(owner, error)``: called when a queued write of ``owner`` turned out not to be written."""

    def __init__(self, db, max_instances: int = GROUP_MAX_INSTANCES):
        self.db = db
        self.max_instances = int(max_instances)
        self.owner = None
        self.on_failure = None
        #: owner -> the first error that kept one of its queued writes from being stored
        self.failures: dict = {}
        #: write transactions this group has committed so far
        self.commits = 0
        self._queue: list[_Queued] = []
        self._keys: set = set()
        self._size = 0

    def queue(self, body, what: str, key, size: int = 0, owned: bool = True):
        """Queue ``body(con)`` (``what`` it writes, for errors: e.g. "writing to stream X"; ``key`` the stream
        key it changes -- or several keys, e.g. of the definitions it creates --, ``size`` its instances;
        ``owned``: attributed to the current owner, else to none, e.g. run records); returns
        ``when_stored(callback)``: ``callback`` gets the body's result once committed, or None if it was not
        written. The current owner's earlier failure is raised here."""
        owner = self.owner if owned else None
        failed = self.failures.get(owner) if owner is not None else None
        if failed is not None:
            raise failed
        item = _Queued(body, what, owner)
        self._queue.append(item)
        if isinstance(key, str):
            self._keys.add(key)
        elif key is not None:
            self._keys.update(key)
        self._size += size
        if self._size >= self.max_instances:
            self.flush()
            if item.owner is not None and item.owner in self.failures:
                raise self.failures[item.owner]
        return item.when_stored

    def pending(self, key: str | None = None) -> bool:
        """Whether writes are queued (to stream ``key``, when given)."""
        return bool(self._queue) if key is None else key in self._keys

    def pending_prefix(self, prefix: str) -> bool:
        """Whether writes are queued to a stream whose key starts with ``prefix`` (e.g. every stream of a name)."""
        return any(k.startswith(prefix) for k in self._keys)

    def flush(self) -> None:
        """Commit every queued write (see the module's text for failures)."""
        items, self._queue, self._keys, self._size = self._queue, [], set(), 0
        if not items:
            return
        try:
            results = self.db.transact(lambda con: [item.body(con) for item in items])
        except Exception:  # noqa: BLE001 - which write failed, and why, is found by writing them one by one
            self._one_by_one(items)
            return
        self.commits += 1
        for item, result in zip(items, results):
            item.stored(result)

    def _one_by_one(self, items) -> None:
        unowned = None
        for item in items:
            owner = item.owner
            if owner is not None and owner in self.failures:
                item.stored(None)    # its owner stopped at an earlier failed write
                continue
            try:
                try:
                    result = self.db.transact(item.body)
                except sqlite3.Error as e:
                    raise StoreError(f"SQLite store {self.db.path}: {item.what} failed: {e}") from e
            except Exception as e:  # noqa: BLE001 - kept for the owner (reported as its outcome)
                item.stored(None)
                if owner is None:
                    unowned = unowned or e
                    continue
                self.failures[owner] = e
                if self.on_failure is not None:
                    self.on_failure(owner, e)
                continue
            self.commits += 1
            item.stored(result)
        if unowned is not None:
            raise unowned


__all__ = ["WriteGroup", "GROUP_MAX_INSTANCES"]
