"""Every command of the window as data: one registry builds the menus, the context menus, the toolbar, the
key bindings and Help's list of keys, so none of them can disagree with another (pure Python, no Qt).

Each feature registers its actions in its ``install(shell)``. An action's callback gets a :class:`Context`:
the streams (and channel) it applies to — the right-clicked ones in a context menu, the Streams dock's
selection when run from the menu bar or a key.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

#: the menus of the menu bar, in their order
MENUS = ("file", "view", "tools", "help")
#: the context-menu scopes: right-click on streams, on a channel row
SCOPES = ("streams", "channel")


@dataclass
class Context:
    """What an action applies to."""
    streams: list = field(default_factory=list)
    channel: Any = None

    @property
    def stream(self):
        """The one stream (None unless exactly one applies)."""
        return self.streams[0] if len(self.streams) == 1 else None


@dataclass(frozen=True)
class Action:
    """One command.

    ``menu``/``order``: where it sits in the menu bar (None: in no menu); menus are sorted by ``order`` and a
    separator goes between hundreds. ``shortcut``: a portable key text (``"Ctrl+I"``), bound window-wide and
    shown in menus, context menus and Help. ``scopes``: the context menus it appears in. ``when(ctx)``: whether
    it applies (disabled in the menu bar, left out of a context menu). ``text`` may be a function of the
    context (a context-menu entry that names what it does to the streams). ``submenu()``: the entries of a
    dynamic submenu (text, callback) built from the context each time it opens. ``everywhere``: its key works
    in dialogs too (Ctrl+. cancels the newest job whatever has the focus).
    """
    id: str
    text: str | Callable[[Context], str]
    callback: Callable[[Context], Any] | None = None
    menu: str | None = None
    order: int = 500
    shortcut: str | None = None
    scopes: tuple[str, ...] = ()
    when: Callable[[Context], bool] | None = None
    toolbar: bool = False
    tip: str = ""
    submenu: Callable[[Context], list[tuple[str, Callable[[], Any]]]] | None = None
    everywhere: bool = False

    def __post_init__(self):
        if self.menu is not None and self.menu not in MENUS:
            raise ValueError(f"action {self.id!r}: unknown menu {self.menu!r} (one of {', '.join(MENUS)})")
        bad = [s for s in self.scopes if s not in SCOPES]
        if bad:
            raise ValueError(f"action {self.id!r}: unknown context-menu scope {bad[0]!r} (one of {', '.join(SCOPES)})")
        if self.callback is None and self.submenu is None:
            raise ValueError(f"action {self.id!r}: needs a callback or a submenu")

    def label(self, ctx: Context | None = None) -> str:
        return self.text(ctx or Context()) if callable(self.text) else self.text

    def applies(self, ctx: Context) -> bool:
        if self.when is None:
            return True
        try:
            return bool(self.when(ctx))
        except Exception:  # noqa: BLE001 - a faulty condition hides the entry instead of breaking the menu
            return False


class ActionRegistry:
    """The window's actions by id. Listeners hear of each registration (the Qt shell makes its QAction)."""

    def __init__(self):
        self._actions: dict[str, Action] = {}
        self._listeners: list[Callable[[Action], None]] = []

    def register(self, action: Action) -> Action:
        if action.id in self._actions:
            raise ValueError(f"action {action.id!r} is registered twice")
        if action.shortcut:
            clash = self.by_shortcut(action.shortcut)
            if clash is not None:
                raise ValueError(f"shortcut {action.shortcut} of {action.id!r} is already {clash.id!r}'s")
        self._actions[action.id] = action
        for listener in list(self._listeners):
            listener(action)
        return action

    def add(self, id: str, text, callback=None, **kw) -> Action:  # noqa: A002 - the action's id
        """``register(Action(id, text, callback, **kw))``."""
        return self.register(Action(id, text, callback, **kw))

    def listen(self, listener: Callable[[Action], None]) -> None:
        """Call ``listener(action)`` for every action registered so far and from now on."""
        self._listeners.append(listener)
        for action in list(self._actions.values()):
            listener(action)

    def __getitem__(self, action_id: str) -> Action:
        try:
            return self._actions[action_id]
        except KeyError:
            raise KeyError(f"no action {action_id!r}") from None

    def __contains__(self, action_id: str) -> bool:
        return action_id in self._actions

    def __iter__(self):
        return iter(self._actions.values())

    def by_shortcut(self, key: str) -> Action | None:
        norm = _norm_key(key)
        return next((a for a in self._actions.values() if a.shortcut and _norm_key(a.shortcut) == norm), None)

    def in_menu(self, menu: str) -> list[Action]:
        return sorted((a for a in self._actions.values() if a.menu == menu), key=lambda a: a.order)

    def in_scope(self, scope: str, ctx: Context) -> list[Action]:
        """The actions of context menu ``scope`` that apply to ``ctx``, in their order."""
        return sorted((a for a in self._actions.values() if scope in a.scopes and a.applies(ctx)),
                      key=lambda a: a.order)

    def keys(self) -> list[tuple[str, str]]:
        """``(shortcut, text)`` of every action with a key: what Help lists."""
        return [(a.shortcut, a.label()) for a in sorted(self._actions.values(), key=_help_order) if a.shortcut]

    def trigger(self, action_id: str, ctx: Context | None = None):
        action = self[action_id]
        if action.callback is None:
            raise ValueError(f"action {action_id!r} is a submenu")
        return action.callback(ctx or Context())


def _help_order(a: Action):
    return (MENUS.index(a.menu) if a.menu in MENUS else len(MENUS), a.order)


def _norm_key(key: str) -> str:
    return "+".join(part.strip().lower() for part in key.replace(" ", "").split("+"))


def separated(actions: Iterable[Action]) -> list[Action | None]:
    """``actions`` with a None (a separator) between order hundreds."""
    out: list[Action | None] = []
    group = None
    for a in actions:
        if group is not None and a.order // 100 != group:
            out.append(None)
        group = a.order // 100
        out.append(a)
    return out


__all__ = ["Action", "ActionRegistry", "Context", "MENUS", "SCOPES", "separated"]
