"""Store fixtures shared by the store test files: one contract, every implementation.

``store`` is parametrised over the embedded SQLite store (a temporary file),
MongoStore on mongomock, and MongoStore on a real server when the environment
variable ``HSGUI_TEST_MONGO_URI`` is set (a unique database, dropped after).
"""
from __future__ import annotations

import os
import uuid

import pytest

from channels.stores.mongo_store import MongoStore
from channels.stores.sqlite_store import SQLiteStore

STORE_KINDS = ["sqlite", "mongomock", "mongo"]


def make_store(kind: str, tmp_path):
    """A fresh store of ``kind`` and a finaliser that removes what it created."""
    if kind == "sqlite":
        store = SQLiteStore(tmp_path / "store.sqlite")
        return store, store.close
    if kind == "mongomock":
        mongomock = pytest.importorskip("mongomock")
        client = mongomock.MongoClient()
        store = MongoStore(client, db_name="hsgui_test")
        return store, client.close
    if kind == "mongo":
        uri = os.environ.get("HSGUI_TEST_MONGO_URI")
        if not uri:
            pytest.skip("set HSGUI_TEST_MONGO_URI to run the contract tests against a real MongoDB server")
        db = f"hsgui_test_{uuid.uuid4().hex[:12]}"
        store = MongoStore.from_uri(uri, db=db)

        def fin():
            store.client.drop_database(db)
            store.close()
        return store, fin
    raise ValueError(kind)


@pytest.fixture(params=STORE_KINDS)
def store(request, tmp_path):
    s, fin = make_store(request.param, tmp_path)
    yield s
    fin()
