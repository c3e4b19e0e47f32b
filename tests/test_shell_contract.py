"""Features use the window only through the typed shell (hsgui.shell.Shell): none sets an attribute on it or
reaches for a private member — read from the source, so a new feature that does is caught before it lands."""
from __future__ import annotations

import ast
from pathlib import Path

import hsgui

HSGUI = Path(hsgui.__file__).parent
#: the packages below the shell: features, and what they share
FEATURES = sorted(p for p in HSGUI.iterdir() if p.is_dir() and (p / "__init__.py").exists())
SHELL_NAMES = {"shell", "window"}


def _is_shell(node: ast.AST) -> bool:
    """``shell`` / ``window``, or ``self.shell`` / ``self.window``."""
    if isinstance(node, ast.Name):
        return node.id in SHELL_NAMES
    return (isinstance(node, ast.Attribute) and node.attr in SHELL_NAMES and isinstance(node.value, ast.Name)
            and node.value.id == "self")


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for t in targets:
            if isinstance(t, ast.Attribute) and _is_shell(t.value):
                out.append(f"{path.relative_to(HSGUI.parent)}:{node.lineno}: sets {ast.unparse(t)}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" \
                and node.args and _is_shell(node.args[0]):
            out.append(f"{path.relative_to(HSGUI.parent)}:{node.lineno}: setattr on {ast.unparse(node.args[0])}")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__") \
                and _is_shell(node.value):
            out.append(f"{path.relative_to(HSGUI.parent)}:{node.lineno}: uses private {ast.unparse(node)}")
    return out


def test_the_feature_packages_exist():
    names = {p.name for p in FEATURES}
    assert {"browse", "plotting", "compute", "assets", "jobs", "workflows", "importing", "annotations", "console",
            "connection", "workspace", "help"} <= names


def test_no_feature_sets_attributes_on_the_window_or_uses_its_private_members():
    offences = [o for pkg in FEATURES for f in sorted(pkg.rglob("*.py")) for o in _offences(f)]
    assert offences == []


def test_every_feature_installs_itself_through_the_shell():
    from hsgui.main_window import FEATURES as INSTALLED
    for name, module in INSTALLED:
        assert callable(getattr(module, "install", None)), f"{name} has no install(shell)"


def test_the_check_catches_what_it_forbids(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def install(shell):\n    shell.thing = 1\n    shell._show_dialog(None)\n"
                   "    setattr(shell, 'x', 2)\n", encoding="utf-8")
    original = HSGUI.parent
    try:
        globals()["HSGUI"] = tmp_path / "pkg"
        (tmp_path / "pkg").mkdir()
        found = _offences(bad)
    finally:
        globals()["HSGUI"] = original / "hsgui"
    assert len(found) == 3


def test_the_top_level_holds_the_shell_only():
    modules = sorted(p.stem for p in HSGUI.glob("*.py"))
    assert len(modules) <= 8, modules
