"""What a save would change: the differences between two values, as changes and as text. Pure Python."""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from .value_kinds import KIND_LABELS, kind_of, path_text
from .value_model import same_value
from .value_text import short_text, to_json_text


# -- diff -------------------------------------------------------------------------------------------------

@dataclass
class Change:
    op: str          # "added", "removed", "changed"
    path: tuple
    old: object = None
    new: object = None

    @property
    def path_text(self) -> str:
        return path_text(self.path)


def _canon(v) -> str:
    return kind_of(v) + ":" + to_json_text(v, indent=None)


def diff_values(old, new, path=()) -> list[Change]:
    """Structural changes from ``old`` to ``new`` (lists matched by content, so an insert is one change)."""
    ko, kn = kind_of(old), kind_of(new)
    if ko != kn:
        return [Change("changed", path, old, new)]
    if ko == "object":
        out = []
        for k in old:
            if k not in new:
                out.append(Change("removed", path + (k,), old[k], None))
        for k in new:
            if k not in old:
                out.append(Change("added", path + (k,), None, new[k]))
            else:
                out.extend(diff_values(old[k], new[k], path + (k,)))
        if not out and list(old) != list(new):
            out.append(Change("changed", path, old, new))  # same keys, new order
        return out
    if ko == "array":
        out = []
        sm = difflib.SequenceMatcher(a=[_canon(v) for v in old], b=[_canon(v) for v in new], autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag == "equal":
                continue
            if tag == "replace" and i2 - i1 == j2 - j1:
                for d in range(i2 - i1):
                    out.extend(diff_values(old[i1 + d], new[j1 + d], path + (j1 + d,)))
                continue
            for i in range(i1, i2):
                out.append(Change("removed", path + (i,), old[i], None))
            for j in range(j1, j2):
                out.append(Change("added", path + (j,), None, new[j]))
        return out
    if same_value(old, new):
        return []
    return [Change("changed", path, old, new)]


def _label(value) -> str:
    k = kind_of(value)
    if k in ("object", "array"):
        return short_text(value, 60)
    return f"{short_text(value, 60)} ({KIND_LABELS[k]})" if k in ("integer", "number", "boolean", "datetime") else \
        short_text(value, 60)


def format_diff(changes) -> list[str]:
    """Readable lines: ``+ path = value``, ``- path = value``, ``~ path: old → new``."""
    lines = []
    for c in changes:
        if c.op == "added":
            lines.append(f"+ {c.path_text} = {_label(c.new)}")
        elif c.op == "removed":
            lines.append(f"- {c.path_text} = {_label(c.old)}")
        else:
            if kind_of(c.old) == kind_of(c.new) == "object" and list(c.old) != list(c.new):
                lines.append(f"~ {c.path_text}: keys reordered")
            else:
                lines.append(f"~ {c.path_text}: {_label(c.old)} → {_label(c.new)}")
    return lines


def summarize_diff(changes) -> str:
    n = {"added": 0, "removed": 0, "changed": 0}
    for c in changes:
        n[c.op] += 1
    parts = [f"{v} {k}" for k, v in n.items() if v]
    return ", ".join(parts) if parts else "no changes"


# -- re-applying edits on a newer version ------------------------------------------------------------------

_MISSING = object()


def merge_edits(base, edited, theirs, path=()) -> tuple[object, list[tuple]]:
    """Re-apply the edits that turned ``base`` into ``edited`` on top of ``theirs`` (a newer version).

    A three-way merge by key: what the user did not touch takes ``theirs``; what only the user changed takes
    ``edited``; where both changed the same field differently the user's edit wins and the field's path is
    returned in the second item (the conflicts), so the editor can say which fields to check. Lists and
    scalars are merged as a whole.
    """
    if same_value(edited, base):
        return theirs, []
    if same_value(theirs, base) or same_value(theirs, edited):
        return edited, []
    if isinstance(base, dict) and isinstance(edited, dict) and isinstance(theirs, dict):
        out, conflicts = {}, []
        keys = list(theirs) + [k for k in edited if k not in theirs]
        for k in keys:
            b, e, t = base.get(k, _MISSING), edited.get(k, _MISSING), theirs.get(k, _MISSING)
            if e is _MISSING and b is not _MISSING:       # the user removed it
                if t is not _MISSING and not same_value(t, b):
                    conflicts.append(path + (k,))
                continue
            if e is _MISSING:                             # only theirs has it
                out[k] = t
                continue
            if b is _MISSING or t is _MISSING:            # the user added it (or they removed an edited one)
                out[k] = e
                other = b if t is _MISSING else t
                if other is not _MISSING and not same_value(e, other):
                    conflicts.append(path + (k,))
                continue
            v, c = merge_edits(b, e, t, path + (k,))
            out[k] = v
            conflicts.extend(c)
        return out, conflicts
    return edited, [path]
