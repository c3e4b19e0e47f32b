"""The help feature: Getting started (F1), Keyboard shortcuts (built from the action registry) and About."""
from __future__ import annotations

from hsgui import help as hs_help


def install(shell):
    shell.actions.add("help.start", "Getting started", lambda ctx: hs_help.show_text(
        shell.widget, "Getting started", hs_help.GETTING_STARTED), menu="help", order=100, shortcut="F1")
    shell.actions.add("help.keys", "Keyboard shortcuts", lambda ctx: hs_help.show_text(
        shell.widget, "Keyboard shortcuts", hs_help.shortcuts_html(shell.actions)), menu="help", order=110)
    shell.actions.add("help.about", "About HyperStream Studio", lambda ctx: hs_help.about(shell.widget),
                      menu="help", order=900)
    return None


__all__ = ["install"]
