"""Assets: edit asset streams (static inputs) — the editor dock with save/diff/history, the
stand-alone edit window and the create dialog. The value form itself lives in :mod:`hsgui.forms`."""
