"""Data the app ships: built-in tools (a ToolChannel folder), icons, demo-data definition.

``TOOLS_PATH`` is registered in ``pyproject.toml`` as the entry point ``tools`` of the group
``hyperstream_studio.tool_folders``; that is how ``channels.ChannelManager`` finds the built-in
tools without importing this package.
"""
import os

TOOLS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools")
