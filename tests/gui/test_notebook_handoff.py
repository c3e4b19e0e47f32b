"""Notebook hand-off: StreamView.to_pandas()/to_arrow() and the tree's "Copy as Python"."""
from __future__ import annotations

import builtins
from datetime import timedelta

import pytest
from PySide6.QtGui import QGuiApplication

from channels.channel_manager import ChannelManager
from channels.stream import StreamId
from channels.time_interval import TimeInterval

from hsgui_test_stores import HOUR, T0, make_sqlite_store


def test_copy_as_python_opens_the_same_store_and_window(qtbot, make_main_window, tmp_path):
    pd = pytest.importorskip("pandas")
    store = make_sqlite_store(tmp_path / "store.sqlite")
    w = make_main_window(store, interval=TimeInterval(T0, T0 + 10 * HOUR))
    stream = w.manager.get_channel("mongo")[StreamId("temperature", {"house": 1, "resident": "alice"})]
    menu = w.tree.build_context_menu([stream])
    next(a for a in menu.actions() if a.text() == "Copy as Python").trigger()
    code = QGuiApplication.clipboard().text()
    assert "ChannelManager.open(" in code and store in code
    expected = stream.window(TimeInterval(T0, T0 + 10 * HOUR)).items()
    w.close()
    ns = {}
    exec(compile(code, "<snippet>", "exec"), ns)   # what the user pastes into a notebook
    df = ns["df"]
    assert isinstance(df, pd.DataFrame) and len(df) == len(expected) > 0
    assert list(df["value"]) == [i.value for i in expected]
    assert str(df.index.tz) == "UTC"
    ns["manager"].close()


def test_to_arrow_and_dict_columns(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pytest.importorskip("pandas")
    m = ChannelManager.open(make_sqlite_store(tmp_path / "s.sqlite"))
    view = m.get_channel("mongo")[StreamId("environment", {"house": 1})].window(TimeInterval(T0, T0 + 5 * HOUR))
    table = view.to_arrow()
    assert isinstance(table, pa.Table) and table.num_rows == view.count() > 0
    assert table.column_names[0] == "timestamp" and len(table.column_names) > 2   # one column per dict key
    df = view.to_pandas()
    assert list(df.columns) == table.column_names[1:]
    m.close()


def test_a_clear_message_without_pandas(tmp_path, monkeypatch):
    m = ChannelManager.open(make_sqlite_store(tmp_path / "s.sqlite"))
    view = m.get_channel("mongo")[StreamId("events")].window()
    real = builtins.__import__

    def no_pandas(name, *a, **k):
        if name in ("pandas", "pyarrow"):
            raise ImportError(name)
        return real(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match=r"to_pandas\(\) needs pandas: pip install 'hyperstream-studio\[notebook\]'"):
        view.to_pandas()
    with pytest.raises(ImportError, match=r"to_arrow\(\) needs pyarrow"):
        view.to_arrow()
    monkeypatch.undo()
    m.close()


def test_snippet_never_carries_a_password():
    from hsgui.workspace.snippet import python_snippet
    code = python_snippet("mongodb://ann:hunter2@db:27017/hs", "mongo", StreamId("t", {"h": 1}),
                          TimeInterval(T0, T0 + timedelta(hours=1)))
    assert "hunter2" not in code and "mongodb://ann:***@db:27017/hs" in code and "password" in code
