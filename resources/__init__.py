"""Data the app ships: built-in tools (a ToolChannel folder), icons, demo-data definition."""
