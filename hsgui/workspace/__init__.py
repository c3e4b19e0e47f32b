"""Workspaces: the saved document (doc), saving/opening it (controller), "Copy as Python" (snippet)."""
