"""Benchmark harness only: a hash-based unique-index check for mongomock (never used by the app or the tests).

Stock mongomock checks every unique index after each inserted document by scanning the whole collection, so a
write of n documents costs n²/2 document comparisons (1,000 documents: 501,496 filter evaluations, 97 % of the
time of a 1,000-instance write under cProfile). MongoDB itself uses a B-tree. HyperStream's peer benchmark
(``../shared/peer/hs_bench.py``) applies a harness patch of the same idea before its main database figures; this
module is ours, so that both sides are measured on a mongomock whose unique check costs O(1) per document.

``enable()`` patches ``mongomock.Collection._ensure_uniques``: for each unique index without ``sparse`` or a
partial filter, the keys already present are kept in a set per collection; the set is rebuilt by one scan
whenever the collection may have changed other than by our inserts (its size is not what the set expects, or an
update / delete / drop ran). Duplicates raise ``DuplicateKeyError`` exactly as before. Sparse and partial
indexes use mongomock's own check.
"""
from __future__ import annotations

_state = {"on": False}


def _frozen(value):
    if isinstance(value, dict):
        return ("d", tuple(sorted((k, _frozen(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return ("l", tuple(_frozen(v) for v in value))
    return value


def enable() -> None:
    if _state["on"]:
        return
    import mongomock
    import mongomock.collection as mc
    from mongomock import helpers

    original = mc.Collection._ensure_uniques
    sets: dict = {}  # (id of the collection store, index name) -> [store, expected size, keys]

    def key_of(doc, fields):
        out = []
        for field in fields:
            try:
                out.append(_frozen(helpers.get_value_by_dot(doc, field)))
            except KeyError:
                out.append(None)
        return tuple(out)

    def ensure(self, new_data):
        store = self._store
        plain = {}
        for name, index in store.indexes.items():
            if not index.get("unique"):
                continue
            if index.get("sparse") or index.get("partialFilterExpression") is not None:
                return original(self, new_data)
            plain[name] = [f for f, _ in index["key"]]
        for name, fields in plain.items():
            entry = sets.get((id(store), name))
            size = len(store)  # new_data is already in the store
            new_key = key_of(new_data, fields)
            if entry is None or entry[0] is not store or entry[1] != size - 1:
                keys: set = set()
                for doc in store.documents:
                    if doc is new_data:
                        continue
                    keys.add(key_of(doc, fields))
                entry = sets[(id(store), name)] = [store, size - 1, keys]
            if new_key in entry[2]:
                raise mongomock.DuplicateKeyError("E11000 Duplicate Key Error", 11000)
        for name, fields in plain.items():
            entry = sets[(id(store), name)]
            entry[2].add(key_of(new_data, fields))
            entry[1] += 1

    def invalidating(fn):
        def wrapped(self, *args, **kwargs):
            for k in [k for k in sets if k[0] == id(self._store)]:
                del sets[k]
            return fn(self, *args, **kwargs)
        return wrapped

    for name in ("_update", "_delete", "drop", "rename", "drop_index", "drop_indexes"):
        setattr(mc.Collection, name, invalidating(getattr(mc.Collection, name)))
    mc.Collection._ensure_uniques = ensure
    _state["on"] = True
