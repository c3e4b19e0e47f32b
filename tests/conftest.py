"""Shared test set-up: Qt runs headless, and no test reads or writes the user's settings or data folder."""
import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_home = tempfile.mkdtemp(prefix="hsgui-test-home-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_home, "config")  # QSettings (native format on Linux)
os.environ["XDG_DATA_HOME"] = os.path.join(_home, "data")      # default embedded store location
