"""The console feature: the optional Python console (Tools › Python console) and the names it binds, kept
current as the connection, the selected stream and the time range change."""
from __future__ import annotations

from PySide6.QtCore import QObject

from hsgui.console.dock import ConsoleDock
from hsgui.shell import follow


class Console(QObject):
    def __init__(self, shell):
        super().__init__(shell.widget)
        self.shell = shell
        console = self.console = ConsoleDock(shell.widget)
        self.dock = shell.add_dock("console", "Python console", console, "bottom", tabify_with="instances")
        self.dock.hide()
        self.views = {"console": console}
        console.bind(window=shell.widget, manager=shell.state.manager)
        follow(self, shell.state, "manager", lambda m: console.bind(manager=m), now=False)
        for field in ("manager", "current_stream", "interval"):
            follow(self, shell.state, field, self._rebind_view, now=False)
        shell.on_close(console.shutdown)

    def _rebind_view(self, *_):
        stream, iv = self.shell.state.current_stream, self.shell.state.interval
        self.console.bind(stream=stream, view=None if stream is None or iv is None else stream.window(iv))

    def show(self, _ctx=None):
        self.shell.show_dock("console")
        if self.console.start():
            self.console.focus_input()      # typing goes to the console, not to the tree behind the menu


def install(shell) -> Console:
    c = Console(shell)
    shell.actions.add("console.show", "Python console", c.show, menu="tools", order=600)
    return c


__all__ = ["Console", "install"]
