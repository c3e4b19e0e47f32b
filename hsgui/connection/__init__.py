"""Connecting to a store: the Connect dialog (the pure open/close functions are in hsgui.common.connection)."""
