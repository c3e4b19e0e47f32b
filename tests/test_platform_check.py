"""Starting on a machine without Qt's xcb libraries: a clear message and exit code 1, not Qt's abort."""
from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from hsgui.common import platform_check as pc


def test_missing_library_found_by_ldd_and_dlopen():
    seen = []
    missing = pc.missing_libraries("/x/libqxcb.so", ldd=lambda p: seen.append(p) or ["libxcb-icccm.so.4"],
                                   can_load=lambda so: so != "libxcb-cursor.so.0")
    assert seen == ["/x/libqxcb.so"]
    assert missing == ["libxcb-icccm.so.4", "libxcb-cursor.so.0"]


@pytest.mark.parametrize("family,command", [
    (0, "sudo apt-get install -y libxcb-cursor0 libxcb-icccm4"),
    (1, "sudo dnf install -y xcb-util-cursor xcb-util-wm"),
    (2, "sudo pacman -S --needed xcb-util-cursor xcb-util-wm"),
])
def test_message_names_the_libraries_and_the_install_command(family, command):
    text = pc.message(["libxcb-icccm.so.4", "libxcb-cursor.so.0"], family)
    assert "libxcb-icccm.so.4" in text and "libxcb-cursor.so.0" in text
    assert command in text


def test_unknown_distribution_gets_all_three_commands():
    text = pc.message(["libxcb-keysyms.so.1"], None)
    assert "apt-get install -y libxcb-keysyms1" in text and "dnf install" in text and "pacman -S" in text


def test_only_checked_when_qt_would_use_xcb():
    assert pc.wants_xcb({"DISPLAY": ":0"})
    assert pc.wants_xcb({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"})
    assert not pc.wants_xcb({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"})
    assert not pc.wants_xcb({})
    out = io.StringIO()
    assert pc.check_display({"QT_QPA_PLATFORM": "offscreen"}, out, missing=["libxcb-cursor.so.0"])
    assert not pc.check_display({"DISPLAY": ":0"}, out, missing=["libxcb-cursor.so.0"])
    assert "libxcb-cursor.so.0" in out.getvalue()


def test_the_app_exits_with_1_and_the_command_when_a_library_is_missing(tmp_path):
    """Simulate the missing library: an ``ldd`` on PATH that reports libxcb-icccm as not found."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "ldd").write_text("#!/bin/sh\necho '\tlibxcb-icccm.so.4 => not found'\n")
    (fake / "ldd").chmod(0o755)
    env = dict(os.environ, DISPLAY=":77", PATH=f"{fake}{os.pathsep}{os.environ['PATH']}", HOME=str(tmp_path))
    env.pop("QT_QPA_PLATFORM", None)
    env.pop("WAYLAND_DISPLAY", None)
    p = subprocess.run([sys.executable, "-m", "hsgui", "--no-demo", "--store-dir", str(tmp_path)], env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, p.stderr
    assert "libxcb-icccm.so.4" in p.stderr
    assert "install" in p.stderr and ("libxcb-icccm4" in p.stderr or "xcb-util-wm" in p.stderr)
