"""Shell wiring of the optional Python console: the dock (Tools › Python console) and the names it binds,
kept current as the connection, the selected stream and the time range change."""
from __future__ import annotations

from PySide6.QtCore import Qt

from hsgui.console.dock import ConsoleDock


def install_console_dock(window) -> None:
    """Add the (lazily started) console dock to ``window``, hidden until asked for."""
    console = window.console = ConsoleDock(window)
    dock = window.add_dock("console", "Python console", console, Qt.DockWidgetArea.BottomDockWidgetArea,
                           tabify_with="instances")
    dock.hide()
    console.bind(window=window, manager=window.manager)

    def rebind_view(*_):
        stream = window.tree.current_stream()
        iv = window.picker.interval()
        console.bind(stream=stream, view=None if stream is None or iv is None else stream.window(iv))

    window.managerChanged.connect(lambda m: (console.bind(manager=m), rebind_view()))
    window.tree.currentStreamChanged.connect(rebind_view)
    window.picker.sigRangeChanged.connect(rebind_view)

    def show():
        dock.show()
        dock.raise_()
        if console.start():
            console.focus_input()      # typing goes to the console, not to the tree behind the menu

    window.menus["tools"].addAction("Python console", show)
    window.sigClosing.connect(console.shutdown)


__all__ = ["install_console_dock"]
