"""What a feature may use of the window: the typed :class:`Shell`, and the Qt side of the state and the actions.

Every feature package installs itself with ``install(shell)``: it adds its docks, registers its actions,
follows the :class:`~hsgui.state.AppState` and submits jobs to the runner — all through this protocol. No
feature sets attributes on the window or calls its private methods (``tests/test_shell_contract.py`` and the
import-linter layers in ``pyproject.toml`` keep it so); features talk to each other only through the state
(e.g. selecting a stream) and through actions (``shell.actions.trigger("plot.plot", Context(streams))``).
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Protocol

import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QWidget

from hsgui.actions import Action, ActionRegistry, Context, separated
from hsgui.common.background import JobRunner
from hsgui.state import AppState

log = logging.getLogger(__name__)

#: dock areas by the names features use
AREAS = {"left": Qt.DockWidgetArea.LeftDockWidgetArea, "right": Qt.DockWidgetArea.RightDockWidgetArea,
         "bottom": Qt.DockWidgetArea.BottomDockWidgetArea, "top": Qt.DockWidgetArea.TopDockWidgetArea}


class Shell(Protocol):
    """The window as features see it."""

    state: AppState
    runner: JobRunner
    actions: ActionRegistry
    #: the window itself, as a parent for dialogs and for saving/restoring its layout (public Qt API only)
    widget: QMainWindow
    #: the plot area in the centre (public methods: add_stream, pane_states, restore_panes, curves, …)
    plots: Any

    def add_dock(self, name: str, title: str, widget: QWidget, area: str = "left", tabify_with: str | None = None,
                 scroll: bool = False) -> QDockWidget: ...

    def show_dock(self, name: str) -> None: ...

    def show_dialog(self, dialog): ...

    def show_error(self, text: str) -> None: ...

    def show_status(self, text: str, ms: int = 8000) -> None: ...

    def offer(self, text: str, action: Callable[[], None], button: str) -> None:
        """A one-line offer above the plots (never modal): ``button`` runs ``action``."""

    def resolve_stream(self, channel_id, stream_id): ...

    def on_close(self, callback: Callable[[], None]) -> None: ...

    def open_target(self, target: str | None, create: bool = False, demo: bool = False): ...

    def context_menu(self, scope: str, ctx: Context, parent: QWidget) -> QMenu | None: ...

    def set_selection_source(self, source: Callable[[], list]) -> None:
        """``source()`` gives the selected streams an action run from a key or the menu bar applies to."""


def follow(owner: QObject, state: AppState, field: str, callback: Callable[[Any], None], now: bool = True) -> None:
    """Call ``callback(value)`` whenever ``state.<field>`` changes — and at once with its value (``now``) — until
    ``owner``'s C++ object is gone. The one way a view subscribes to the state."""
    signal = getattr(state.events, field)

    def call(value, *_old):
        if shiboken6.isValid(owner):
            callback(value)

    signal.connect(call)
    owner.destroyed.connect(lambda *_: signal.disconnect(call, missing_ok=True))
    if now:
        callback(getattr(state, field))


class QtActions(QObject):
    """Makes the registry's actions real: a window-wide QAction per key, menu entries in their order, context
    menus on demand. Menus are refilled as they open, so ``when`` and dynamic texts are current."""

    def __init__(self, window: QMainWindow, registry: ActionRegistry, context: Callable[[], Context],
                 menus: dict[str, QMenu]):
        super().__init__(window)
        self.window = window
        self.registry = registry
        self.context = context
        self.menus = menus
        self.bound: dict[str, QAction] = {}     # action id -> its window-wide QAction (those with a key)
        self._filled = False                     # menus are built once the window's features are installed
        for name, menu in menus.items():
            menu.aboutToShow.connect(lambda n=name: self._fill(n))
            menu.aboutToHide.connect(self._menu_closed)
        registry.listen(self._registered)

    def _registered(self, action: Action) -> None:
        if action.shortcut and action.callback is not None:     # the one binding of its key
            qa = QAction(action.label(), self.window)
            qa.setObjectName(f"action_{action.id}")
            qa.setShortcut(QKeySequence(action.shortcut))
            qa.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut if action.everywhere
                                  else Qt.ShortcutContext.WindowShortcut)
            qa.triggered.connect(lambda _=False, a=action: self.run(a, self.context()))
            self.window.addAction(qa)
            self.bound[action.id] = qa
        if action.menu is not None and self._filled:
            self._fill(action.menu)     # a late action: its menu is whole before it next opens

    def run(self, action: Action, ctx: Context):
        if not action.applies(ctx):
            return None
        try:
            return action.callback(ctx)
        except Exception as e:  # noqa: BLE001 - a failing command says so instead of ending the app
            log.exception("action %s failed", action.id)
            self.window.show_error(f"{action.label(ctx)}: {e}")
            return None

    def fill_all(self) -> None:
        """Build every menu (once the features registered their actions): whole before they first open."""
        self._filled = True
        for name in self.menus:
            self._fill(name)

    def _fill(self, name: str) -> None:
        """Rebuild menu ``name`` from the registry (plus the dock toggles the View menu ends with)."""
        menu = self.menus[name]
        menu.clear()
        ctx = self.context()
        self._add_entries(menu, self.registry.in_menu(name), ctx, disable=True)
        if name == "view":
            docks = self.window.findChildren(QDockWidget)
            if docks:
                menu.addSeparator()
                for dock in sorted(docks, key=lambda d: d.windowTitle()):
                    menu.addAction(dock.toggleViewAction())

    def _menu_closed(self) -> None:
        # an entry disabled while its menu showed must not keep its key from working
        for qa in self.bound.values():
            qa.setEnabled(True)

    def _add_entries(self, menu: QMenu, actions, ctx: Context, disable: bool) -> None:
        """``disable``: the menu bar (entries that do not apply show disabled; an entry with a key is its one
        window-wide QAction, so the key is bound once). Else a context menu: entries that apply only, each a
        QAction of its own for ``ctx`` whose key is shown (the menu is deleted when it closes)."""
        for action in separated(actions):
            if action is None:
                menu.addSeparator()
            elif action.submenu is not None:
                sub = menu.addMenu(action.label(ctx))
                entries = action.submenu(ctx)
                for text, fn in entries:
                    sub.addAction(text, fn)
                if not entries:
                    sub.addAction("(none)").setEnabled(False)
            elif disable and action.id in self.bound:
                qa = self.bound[action.id]
                qa.setText(action.label(ctx))
                qa.setEnabled(action.applies(ctx))
                menu.addAction(qa)
            else:
                qa = menu.addAction(action.label(ctx))
                qa.setObjectName(f"menu_{action.id}")
                if action.shortcut:
                    qa.setShortcut(QKeySequence(action.shortcut))   # shown; the window-wide action is the binding
                    qa.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
                    qa.setShortcutVisibleInContextMenu(True)
                if action.tip:
                    qa.setToolTip(action.tip)
                qa.setEnabled(not disable or action.applies(ctx))
                qa.triggered.connect(lambda _=False, a=action, c=ctx: self.run(a, c))

    def context_menu(self, scope: str, ctx: Context, parent: QWidget) -> QMenu | None:
        """The context menu of ``scope`` for ``ctx`` (None if no action applies)."""
        menu = QMenu(parent)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)   # its entries' keys are shown, never left bound
        actions = self.registry.in_scope(scope, ctx)
        if scope == "channel" and ctx.streams:   # a channel row: what applies to its streams, then to it
            actions = self.registry.in_scope("streams", ctx) + actions
        self._add_entries(menu, actions, ctx, disable=False)
        return menu if not menu.isEmpty() else None

    def toolbar_actions(self) -> list[QAction]:
        return [self.bound[a.id] for a in self.registry if a.toolbar and a.id in self.bound]


__all__ = ["Shell", "follow", "QtActions", "AREAS"]
