"""The stream picker on a deployment-sized channel (issue 25): typing a filter over 20,000+ streams lists exactly
the streams the Streams filter keeps, in the order of ``sorted(channel.streams)``; Enter takes the highlighted
match; a channel not listed yet is listed in a job, the picker saying so, and its streams appear when it ends."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from channels import ChannelManager, channel_manager
from channels.stores.sqlite_store import SQLiteStore
from channels.stream import StreamId
from channels.tool_channel import ToolChannel
from hsgui.common.stream_filter import StreamFilter
from hsgui.compute.stream_inputs import ROLE_STREAM, StreamPickerDialog

from hsgui_test_stores import deployment_manager

N = 20_400


@pytest.fixture(scope="module")
def manager():
    return deployment_manager(N)


def _open(qtbot, manager, runner=None):
    p = StreamPickerDialog(manager, runner=runner)
    qtbot.addWidget(p)
    p.show()
    p.filter_edit.setFocus()
    return p


def _ready(qtbot, picker, manager):
    """Wait until the large channel is indexed (the count line then ends with the total, nothing pending)."""
    total = sum(len(ch.streams) for ch in manager if not isinstance(ch, ToolChannel))
    qtbot.waitUntil(lambda: picker.count_label.text().endswith(f"of {total} streams"), timeout=30_000)


def _rows(picker) -> list:
    m = picker.proxy
    return [m.index(r, 0).data(ROLE_STREAM) for r in range(m.rowCount())]


def _expected(manager, text: str) -> list:
    """What the Streams filter keeps, checked stream by stream on the row's text, channel by channel in the
    manager's order, each channel's streams sorted."""
    f = StreamFilter(text)
    out = []
    for ch in manager:
        if isinstance(ch, ToolChannel):
            continue
        for sid in sorted(ch.streams):
            row = f"{ch.channel_id} / {sid}\n{ch.channel_id}\n{StreamFilter.search_text(sid)}"
            if f.matches(row, row.casefold()):
                out.append((ch.channel_id, sid))
    return out


@pytest.mark.parametrize("typed", [
    "wearable_01",                   # a name (substring, any case)
    "ENV_0",                         # case does not matter; two channels have it
    "house=42 room=hall",            # key=value words, all must match
    "wear*_0? house=4?",             # globs on the name and on a key=value
    "sensor=s[12] resident=r2",      # a character class
    "summary",                       # the stream without meta-data
    "memory",                        # the channel id matches every stream of that channel
    "zzz",                           # nothing
])
def test_typing_lists_what_the_streams_filter_keeps_in_sorted_order(qtbot, manager, typed):
    picker = _open(qtbot, manager)
    _ready(qtbot, picker, manager)
    qtbot.keyClicks(picker.filter_edit, typed)
    want = _expected(manager, typed)
    assert _rows(picker) == want
    assert picker.count_label.text() == f"{len(want)} of {N // 50 * 50 + 2} streams"


def test_without_a_filter_every_stream_in_channel_then_stream_id_order(qtbot, manager):
    picker = _open(qtbot, manager)
    _ready(qtbot, picker, manager)
    assert _rows(picker) == _expected(manager, "")


def test_down_down_enter_takes_the_third_match(qtbot, manager):
    picker = _open(qtbot, manager)
    _ready(qtbot, picker, manager)
    qtbot.keyClicks(picker.filter_edit, "wearable_01 house=7")
    want = _expected(manager, "wearable_01 house=7")
    assert len(want) > 3
    qtbot.keyClick(picker.filter_edit, Qt.Key.Key_Down)
    qtbot.keyClick(picker.filter_edit, Qt.Key.Key_Down)
    qtbot.keyClick(picker.filter_edit, Qt.Key.Key_Down)
    qtbot.keyClick(picker.filter_edit, Qt.Key.Key_Return)
    assert not picker.isVisible() and picker.result() == picker.DialogCode.Accepted
    assert picker.selected() == [want[2]]


def test_backspacing_a_word_brings_its_streams_back(qtbot, manager):
    picker = _open(qtbot, manager)
    _ready(qtbot, picker, manager)
    qtbot.keyClicks(picker.filter_edit, "Env_03 house=1")
    assert _rows(picker) == _expected(manager, "Env_03 house=1")
    for _ in range(len(" house=1")):
        qtbot.keyClick(picker.filter_edit, Qt.Key.Key_Backspace)
    assert _rows(picker) == _expected(manager, "Env_03")


# -- a channel whose streams are not listed yet ---------------------------------------------------------------
@pytest.fixture
def lazy_store(tmp_path, monkeypatch):
    """A store whose ``mongo`` channel (240 streams) opens unlisted; its listing waits for ``gate``."""
    path = str(tmp_path / "lazy.hsdb")
    m = ChannelManager.open(path)
    m.channels["mongo"].create_streams([StreamId(f"power_{k}", {"house": h}) for k in range(12) for h in range(20)])
    m.close()
    gate = threading.Event()
    real = SQLiteStore.list_definitions

    def list_definitions(self, channel_id=None, updated_since=None):
        if channel_id == "mongo":
            assert gate.wait(20), "the listing was never released"
        return real(self, channel_id, updated_since)
    monkeypatch.setattr(SQLiteStore, "list_definitions", list_definitions)
    monkeypatch.setattr(channel_manager, "LIST_WITH_OPEN", 10)
    m = ChannelManager.open(path)
    yield m, gate
    gate.set()
    m.close()


def test_a_channel_not_listed_yet_is_listed_in_a_job_and_its_streams_appear(qtbot, lazy_store, runner):
    manager, gate = lazy_store
    assert not manager.channels["mongo"].listed
    picker = _open(qtbot, manager, runner)
    qtbot.keyClicks(picker.filter_edit, "power_1 house=3")
    # the window is not held by the listing: the picker is open and says what it waits for
    qtbot.waitUntil(lambda: "listing 240 streams of mongo…" in picker.count_label.text(), timeout=5000)
    assert picker.proxy.rowCount() == 0
    gate.set()
    qtbot.waitUntil(lambda: picker.proxy.rowCount() > 0, timeout=10_000)
    assert "listing" not in picker.count_label.text()
    assert _rows(picker) == _expected(manager, "power_1 house=3")
    assert ("mongo", StreamId("power_11", {"house": 3})) in _rows(picker)
    qtbot.waitUntil(lambda: not runner.active, timeout=5000)


def test_a_stream_chosen_while_a_channel_is_listed_stays_chosen_when_its_streams_arrive(qtbot, lazy_store, runner):
    manager, gate = lazy_store
    manager.channels["memory"].create_stream(StreamId("zeta", {"house": 3}))
    picker = _open(qtbot, manager, runner)
    qtbot.keyClicks(picker.filter_edit, "house=3")
    qtbot.waitUntil(lambda: "listing" in picker.count_label.text(), timeout=5000)
    qtbot.keyClick(picker.filter_edit, Qt.Key.Key_Down)            # highlights the one match so far
    assert picker.selected() == [("memory", StreamId("zeta", {"house": 3}))]
    gate.set()
    qtbot.waitUntil(lambda: picker.proxy.rowCount() == 13, timeout=10_000)   # + power_0..11 of house 3
    qtbot.keyClick(picker.filter_edit, Qt.Key.Key_Return)
    assert picker.selected() == [("memory", StreamId("zeta", {"house": 3}))]
    assert not picker.isVisible()
    qtbot.waitUntil(lambda: not runner.active, timeout=5000)
