"""A dock whose contents are built the first time they are shown or asked for (start-up time, issue 25).

The dock itself — its title, its place, its View-menu toggle, its object name that a saved layout restores —
exists from the start; only the widget inside waits. It is built when the dock first becomes visible (its tab
chosen, its menu entry, a restored layout that shows it) or when code asks for it (:meth:`DeferredDock.widget`,
and through :class:`Views` the window's ``window.<view name>``). The build function subscribes the new widget to
the state with ``follow(...)``, which calls back at once with the current value: a widget built late starts
where one built at start would be.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QVBoxLayout, QWidget


class DeferredDock(QObject):
    """``shell.add_dock(name, title, <a holder>, ...)`` now; ``build()`` puts the real widget in the holder
    the first time the dock shows or :meth:`widget` is called."""

    def __init__(self, shell, name: str, title: str, build: Callable[[], QWidget], area: str = "left",
                 tabify_with: str | None = None, scroll: bool = False):
        super().__init__(shell.widget)
        self._build = build
        self._widget: QWidget | None = None
        self.holder = QWidget()
        self._layout = QVBoxLayout(self.holder)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.dock = shell.add_dock(name, title, self.holder, area, tabify_with=tabify_with, scroll=scroll)
        self.dock.visibilityChanged.connect(self._visibility_changed)

    def widget(self) -> QWidget:
        """The dock's widget, built now if it was not yet."""
        if self._widget is None:
            widget = self._build()
            self._layout.addWidget(widget)
            widget.show()     # at once, not at the layout's next turn: the dock may be on screen already
            self._widget = widget
        return self._widget

    def if_built(self) -> QWidget | None:
        """The widget if it exists (for work that only matters to a built one), else None."""
        return self._widget

    def _visibility_changed(self, visible: bool) -> None:
        if visible and self._widget is None:
            self.widget()


class Views(Mapping):
    """A feature's views by name (the window's ``window.<name>``); a :class:`DeferredDock` given as a view is
    built when it is looked up."""

    def __init__(self, **views):
        self._views = views

    def __getitem__(self, name: str):
        view = self._views[name]
        return view.widget() if isinstance(view, DeferredDock) else view

    def __contains__(self, name) -> bool:
        return name in self._views        # without building anything

    def __iter__(self) -> Iterator[str]:
        return iter(self._views)

    def __len__(self) -> int:
        return len(self._views)


__all__ = ["DeferredDock", "Views"]
