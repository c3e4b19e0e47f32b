"""Before QApplication: can Qt's X11 (xcb) platform plugin load? If not, say which system
libraries are missing and the one command that installs them, instead of Qt's abort (exit 134).

Pure Python (no Qt import): it runs ``ldd`` on PySide6's ``libqxcb.so`` (libraries it links to)
and tries to ``dlopen`` the ones Qt loads at run time (``libxcb-cursor.so.0``).
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import threading

#: soname -> (Debian/Ubuntu, Fedora, Arch) package
PACKAGES: dict[str, tuple[str, str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil", "xcb-util-renderutil"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libx11"),
    "libX11.so.6": ("libx11-6", "libX11", "libx11"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libglvnd"),
    "libGL.so.1": ("libgl1", "libglvnd-glx", "libglvnd"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype", "freetype2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "dbus"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
}
#: loaded by Qt with dlopen, so ldd does not list them
DLOPENED = ("libxcb-cursor.so.0",)
#: everything the README's one line installs (Debian/Ubuntu, Fedora, Arch)
ALL_PACKAGES = tuple(sorted({p[i] for p in PACKAGES.values()}) for i in range(3))
INSTALL = ("sudo apt-get install -y {}", "sudo dnf install -y {}", "sudo pacman -S --needed {}")


def xcb_plugin_path() -> str | None:
    try:
        import importlib.util
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    path = os.path.join(os.path.dirname(spec.origin), "Qt", "plugins", "platforms", "libqxcb.so")
    return path if os.path.exists(path) else None


def wants_xcb(env=None) -> bool:
    """Will Qt try the xcb platform? (QT_QPA_PLATFORM unset or xcb, and an X display is set.)"""
    env = os.environ if env is None else env
    platform = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if platform and platform != "xcb":
        return False
    if not platform and env.get("WAYLAND_DISPLAY"):
        return False        # Qt prefers its wayland plugin there
    return bool(env.get("DISPLAY"))


def _ldd_missing(path: str) -> list[str]:
    try:
        out = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split("=>")[0].strip() for line in out.splitlines() if "not found" in line]


def _can_dlopen(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
        return True
    except OSError:
        return False


def missing_libraries(plugin: str | None = None, ldd=_ldd_missing, can_load=_can_dlopen) -> list[str]:
    """Sonames the xcb plugin needs that the system does not have (empty when all is there)."""
    plugin = plugin or xcb_plugin_path()
    if plugin is None:
        return []
    missing = list(dict.fromkeys(ldd(plugin)))
    missing += [so for so in DLOPENED if so not in missing and not can_load(so)]
    return missing


def distro_family(os_release: str = "/etc/os-release") -> int | None:
    """0 Debian/Ubuntu, 1 Fedora/RHEL, 2 Arch, None unknown."""
    try:
        text = open(os_release, encoding="utf-8").read().lower()
    except OSError:
        return None
    ids = " ".join(line.split("=", 1)[1].strip('"') for line in text.splitlines()
                   if line.startswith(("id=", "id_like=")))
    for family, names in ((0, ("debian", "ubuntu")), (1, ("fedora", "rhel", "centos")), (2, ("arch",))):
        if any(n in ids.split() for n in names):
            return family
    return None


def install_commands(missing: list[str], family: int | None) -> list[str]:
    families = [family] if family is not None else [0, 1, 2]
    out = []
    for f in families:
        pkgs = sorted({PACKAGES[so][f] for so in missing if so in PACKAGES})
        if pkgs:
            out.append(INSTALL[f].format(" ".join(pkgs)))
    return out


def message(missing: list[str], family: int | None) -> str:
    lines = ["HyperStream Studio cannot open a window: Qt's X11 platform plugin (xcb) needs system "
             "libraries that are not installed:", ""]
    lines += [f"    {so}" for so in missing]
    cmds = install_commands(missing, family)
    if cmds:
        lines += ["", "Install them with:" if len(cmds) == 1 else "Install them with one of:", ""]
        lines += [f"    {c}" for c in cmds]
    lines += ["", "(or run headless with QT_QPA_PLATFORM=offscreen, e.g. for --screenshot)"]
    return "\n".join(lines)


def check_display_soon(env=None, stream=None):
    """Start :func:`check_display`'s look for missing libraries (an ``ldd`` run, tens of ms) in a thread; return
    the function that waits for it and answers as :func:`check_display` does. The app imports its window's
    modules meanwhile, so the check costs its start nothing."""
    if not wants_xcb(env):
        return lambda: True
    found: list[list[str]] = []
    worker = threading.Thread(target=lambda: found.append(missing_libraries()), name="display check", daemon=True)
    worker.start()

    def result() -> bool:
        worker.join()
        return check_display(env, stream, missing=found[0] if found else [])
    return result


def check_display(env=None, stream=None, missing=None) -> bool:
    """True when starting Qt is safe; otherwise print what to install and return False."""
    if not wants_xcb(env):
        return True
    missing = missing_libraries() if missing is None else missing
    if not missing:
        return True
    print(message(missing, distro_family()), file=stream or sys.stderr)
    return False
