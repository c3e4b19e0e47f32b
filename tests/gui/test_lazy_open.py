"""Opening a store whose data channel is large (issue 23): the window shows the store — its channel rows and its
workflow graph — right after the open, while the channel's streams are listed in a job; they appear when it
ends; a store switch during the listing shows nothing of the old store; the filter works on what was listed.

The listing is held with a threading.Event in the store's ``list_definitions`` (what a 136,000-stream store
spends seconds in), and ``channels.channel_manager.LIST_WITH_OPEN`` is lowered so a store of a few dozen streams
counts as large."""
from __future__ import annotations

import threading
from datetime import datetime

import pytest
from PySide6.QtCore import Qt

from channels import ChannelManager, UTC
from channels.stores.sqlite_store import SQLiteStore
from channels.stream import StreamId
from channels import channel_manager
from resources.demo.deployment import build_deployment

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUSES = 20


def big_store(path, name: str, with_workflow: bool) -> str:
    """A store whose ``mongo`` channel has ``name`` over 20 houses x 2 rooms (and, optionally, the deployment
    workflow of one home)."""
    m = ChannelManager.open(str(path))
    ch = m.channels["mongo"]
    ch.create_streams([StreamId(name, {"house": h, "room": r}) for h in range(1, HOUSES + 1)
                       for r in ("kitchen", "hall")])
    if with_workflow:
        build_deployment(m.store, 1, T0)
    m.close()
    return str(path)


@pytest.fixture
def held(monkeypatch):
    """``held[path]``: an Event the listing of that store's ``mongo`` definitions waits for (set at teardown)."""
    gates: dict = {}
    real = SQLiteStore.list_definitions

    def list_definitions(self, channel_id=None, updated_since=None):
        gate = gates.get(self.path)
        if gate is not None and channel_id == "mongo":
            assert gate.wait(20), "the listing was never released"
        return real(self, channel_id, updated_since)
    monkeypatch.setattr(SQLiteStore, "list_definitions", list_definitions)
    monkeypatch.setattr(channel_manager, "LIST_WITH_OPEN", 10)
    yield gates
    for gate in gates.values():
        gate.set()


def _rows(tree) -> dict:
    """The tree's channel rows: label -> (what its Count cell says, how many rows it shows under it)."""
    m = tree.model
    out = {}
    for r in range(m.rowCount()):
        idx = m.index(r, 0)
        out[idx.data()] = (m.index(r, 1).data(), m.rowCount(idx))
    return out


def _names(tree, channel="mongo") -> set:
    m = tree.model
    idx = m.find_index(channel)
    if not idx.isValid():
        return set()
    while m.canFetchMore(idx):
        m.fetchMore(idx)
    return {m.index(r, 0, idx).data() for r in range(m.rowCount(idx))}


def _store_path(path):
    import os
    return os.path.abspath(str(path))


def _count(path) -> int:
    m = ChannelManager.open(path)
    try:
        return m.store.count_definitions("mongo")
    finally:
        m.close()


def test_the_store_shows_before_its_streams_are_listed_then_they_appear(qtbot, make_main_window, tmp_path, held):
    path = big_store(tmp_path / "big.sqlite", "temperature", with_workflow=True)
    n = _count(path)
    gate = held[_store_path(path)] = threading.Event()
    w = make_main_window(size=(1300, 850), target=path, dock="workflows")
    tree = w.tree
    # open and shown: the channel rows are there, the data channel says it is being listed
    assert {"mongo", "assets"} <= set(_rows(tree))
    qtbot.waitUntil(lambda: tree.match_label.text() == f"listing {n:,} streams of mongo…", timeout=5000)
    assert _rows(tree)["mongo"][0] == "listing…" and _names(tree) == set()
    # the workflow graph is drawn while the listing waits
    qtbot.waitUntil(lambda: w.workflows.view.layout_ is not None and len(w.workflows.view.boxes) > 100,
                    timeout=10000)
    assert not gate.is_set() and tree.model.listing
    gate.set()
    qtbot.waitUntil(lambda: "temperature" in _names(tree), timeout=10000)
    assert not tree.model.listing and _rows(tree)["mongo"][0] == f"{n:,} streams" and tree.match_label.text() == ""
    assert tree.view.isExpanded(tree.model.find_index("mongo"))

    # the filter runs over what was listed
    qtbot.mouseClick(tree.filter_edit, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(tree.filter_edit, "temperature house=1?")
    qtbot.keyClick(tree.filter_edit, Qt.Key.Key_Return)
    assert tree.model.matched == 20               # houses 10..19, two rooms each
    assert tree.match_label.text() == "20 matches"


def test_switching_store_while_listing_shows_nothing_of_the_old_store(qtbot, make_main_window, tmp_path, held):
    first = big_store(tmp_path / "first.sqlite", "humidity", with_workflow=False)
    second = big_store(tmp_path / "second.sqlite", "pressure", with_workflow=False)
    gate = held[_store_path(first)] = threading.Event()
    w = make_main_window(size=(1300, 850), target=first)
    qtbot.waitUntil(lambda: w.tree.model.listing, timeout=5000)
    job = w.open_target(second)
    qtbot.waitUntil(lambda: job.is_finished and w.state.opening is None, timeout=15000)
    try:
        qtbot.waitUntil(lambda: "pressure" in _names(w.tree), timeout=5000)
    except Exception:
        print([(j.title, j.state) for j in w.runner.active], _rows(w.tree), w.tree.model._listing)
        raise
    gate.set()                                    # the first store's listing ends now: its answer is dropped
    qtbot.waitUntil(lambda: not w.runner.active, timeout=15000)
    qtbot.wait(50)
    assert _names(w.tree) == {"pressure"}
    assert w.tree.model.find_index("mongo").isValid() and not w.tree.model.listing
    assert w.manager.store.path == _store_path(second)


def test_the_range_moves_to_the_data_of_a_store_listed_after_it_opened(qtbot, make_main_window, tmp_path, held):
    """Issue 26 item 9 on a large store: its data channel is listed after the window shows it."""
    from datetime import timedelta
    from channels.stream import StreamInstance
    from channels.time_interval import TimeInterval
    path = big_store(tmp_path / "2017.sqlite", "humidity", with_workflow=False)
    t2017, hour = datetime(2017, 3, 1, tzinfo=UTC), timedelta(hours=1)
    m = ChannelManager.open(path)
    ch = m.channels["mongo"]
    ch.write_chunk(ch.create_stream(StreamId("old")), [StreamInstance(t2017 + hour * i, float(i)) for i in range(1, 49)],
                   TimeInterval(t2017, t2017 + 48 * hour))
    m.close()
    gate = held[_store_path(path)] = threading.Event()
    w = make_main_window(target=path)
    assert w.tree.model.listing
    gate.set()
    qtbot.waitUntil(lambda: not w.runner.active, timeout=15000)
    assert w.state.interval.end == t2017 + 48 * hour
