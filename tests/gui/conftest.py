"""Fixtures shared by the widget tests."""
from __future__ import annotations

import os

import pytest
import shiboken6
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from hsgui.common.background import JobRunner


@pytest.fixture
def runner():
    """A job runner of its own per test; every job must have ended when the test does."""
    r = JobRunner()
    yield r
    assert r.shutdown(10000)


def _use_settings_dir(path: str) -> None:
    """Point QSettings (the native format on Linux: ``<dir>/HyperStream/hsgui.conf``) at ``path``."""
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, path)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, path)


@pytest.fixture
def make_main_window(qtbot, tmp_path):
    """``make_main_window(store=None, **options)`` -> a :class:`MainWindow`, the only place tests build one.

    The test's settings (QSettings, the last workspace) live in a folder of its own (``tmp_path/"settings"``),
    so no test reads what another saved; two windows of one test share it (save in one, restore in the next).
    Every window made is closed at teardown (which stops its runner and closes its connection).

    What the window shows, each optional:
      ``store``       path of an embedded store file (or a URI / config file) opened in the test's thread;
      ``tool_paths``  tool folders for that store's manager;
      ``manager``     a ChannelManager already opened (instead of ``store``);
      ``demo``        the demo store, built in ``tmp_path`` (instead of ``store``);
      ``target``      opened as the user does (``open_target`` in a job); waits until it is connected or failed.
    How it is built and shown:
      ``runner``      the JobRunner to use (default: the window's own);
      ``restore``     restore the saved layout and range (default False);
      ``persist``     save layout and range on close (default False);
      ``size``        (width, height);
      ``shown``       show it (default True); ``active``: also wait until it is the active window (key events);
      ``interval``    the time range set (emitted) once the store is shown;
      ``dock``        name of a dock to show and raise; ``dock_height``: its height;
      ``ready``       ``ready(window) -> bool``: wait until true (``ready_timeout`` ms) before returning.
    """
    from channels import ChannelManager, Config
    from hsgui.main_window import MainWindow

    made = []
    _use_settings_dir(str(tmp_path / "settings"))

    def make(store=None, *, tool_paths=None, manager=None, demo=False, target=None, runner=None, restore=False,
             persist=False, size=None, shown=True, active=False, interval=None, dock=None, dock_height=None,
             ready=None, ready_timeout=20000):
        if sum(x is not None and x is not False for x in (store, manager, demo, target)) > 1:
            raise TypeError("make_main_window: give at most one of store, manager, demo, target")
        if demo:
            from resources.demo import build_demo_store
            manager = ChannelManager.open(str(tmp_path / "demo.sqlite"))
            build_demo_store(manager)
        elif store is not None:
            store = str(store)
            manager = ChannelManager.open(store, Config(tool_paths=list(tool_paths)) if tool_paths else None)
        w = MainWindow(runner, restore=restore)
        w.persist = persist
        qtbot.addWidget(w)
        closed = []
        w.sigClosing.connect(lambda: closed.append(True))
        made.append((w, closed))
        if size is not None:
            w.resize(*size)
        if shown:
            w.show()
        if active:
            qtbot.waitExposed(w)
            w.activateWindow()
            qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=3000)
        if manager is not None:
            w.set_manager(manager, store)
        if target is not None:
            job = w.open_target(target)
            qtbot.waitUntil(lambda: job.is_finished and w.state.opening is None, timeout=15000)
        if interval is not None:
            w.picker.set_interval(interval, emit=True)
        if dock is not None:
            w.docks[dock].show()
            w.docks[dock].raise_()
            if dock_height is not None:
                w.resizeDocks([w.docks[dock]], [dock_height], Qt.Orientation.Vertical)
        if ready is not None:
            qtbot.waitUntil(lambda: ready(w), timeout=ready_timeout)
        return w

    yield make
    for w, closed in made:
        if shiboken6.isValid(w):
            if not closed:
                w.close()
            w.runner.shutdown()
    _use_settings_dir(os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"))
