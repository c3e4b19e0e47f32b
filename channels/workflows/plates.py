"""Plates: sets of meta-data values selected from the tree (collection ``plate_definitions``).

A plate definition ``{plate_id, meta_data_id, description, values, complement, parent_plate}``
selects the tree items tagged ``meta_data_id`` — those whose data is in ``values`` (all of them
when ``values`` is empty and ``complement`` is set) — and, with a parent plate, only those whose
ancestors form one of the parent plate's values. A plate value is the tuple of ``(tag, data)``
pairs from the top of the tree down to the item, e.g. ``(("house", "1"), ("resident", "alice"))``:
the meta-data of the plate's streams.

One difference on purpose: HyperStream 0.3.8 ignores ``complement`` when ``values`` is not empty
(it selects the listed values). Here ``complement`` selects every value *not* listed, as its
definition says; the usual form (``values: []``, ``complement: true`` = every value) is the same.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ChannelsError
from .meta_data import MetaDataTree

PlateValue = tuple  # tuple[tuple[str, str], ...]


class PlateError(ChannelsError):
    """A plate definition that cannot be resolved (no values, unknown parent, a cycle of parents)."""


@dataclass
class PlateDefinition:
    plate_id: str
    meta_data_id: str
    description: str = ""
    values: list = field(default_factory=list)
    complement: bool = False
    parent_plate: str | None = None

    @classmethod
    def from_document(cls, d: dict) -> "PlateDefinition":
        try:
            return cls(str(d["plate_id"]), str(d["meta_data_id"]), str(d.get("description") or ""),
                       [str(v) for v in d.get("values") or []], bool(d.get("complement", False)),
                       d.get("parent_plate") or None)
        except KeyError as e:
            raise PlateError(f"plate definition without {e.args[0]!r}: {d!r}") from None

    def to_document(self) -> dict:
        """HyperStream's document (its PlateDefinitionModel's fields, ``parent_plate`` left out when None)."""
        d = {"plate_id": self.plate_id, "meta_data_id": self.meta_data_id, "description": self.description,
             "values": list(self.values), "complement": self.complement}
        if self.parent_plate:
            d["parent_plate"] = self.parent_plate
        return d


@dataclass
class Plate:
    plate_id: str
    meta_data_id: str
    values: list  # list[PlateValue], sorted
    parent: "Plate | None" = None
    description: str = ""

    @property
    def is_root(self) -> bool:
        return self.parent is None

    @property
    def meta_data_ids(self) -> tuple[str, ...]:
        """The tags of a value of this plate, top-down (ancestors' first)."""
        return (self.parent.meta_data_ids if self.parent else ()) + (self.meta_data_id,)


def resolve_plates(definitions, tree: MetaDataTree) -> dict[str, Plate]:
    """Every plate by id, parents resolved first (in any stored order)."""
    defs = {d.plate_id: d for d in definitions}
    out: dict[str, Plate] = {}

    def resolve(pid, chain=()):
        if pid in out:
            return out[pid]
        if pid in chain:
            raise PlateError(f"plates {' -> '.join(chain + (pid,))} are each other's parents")
        d = defs.get(pid)
        if d is None:
            raise PlateError(f"plate {chain[-1]!r} has parent plate {pid!r}, which is not defined" if chain
                             else f"no plate {pid!r}")
        if not d.values and not d.complement:
            raise PlateError(f"plate {pid!r} selects nothing: give values, or complement=true for every "
                             f"{d.meta_data_id!r}")
        parent = resolve(d.parent_plate, chain + (pid,)) if d.parent_plate else None
        parent_values = {frozenset(v) for v in parent.values} if parent else None
        wanted = set(d.values)
        values = []
        for item in tree:
            if item.tag != d.meta_data_id:
                continue
            listed = item.data in wanted
            if (d.complement and listed and wanted) or (not d.complement and not listed):
                continue
            path = tree.path(item)
            if parent_values is not None and frozenset(path[:-1]) not in parent_values:
                continue
            values.append(path)
        out[pid] = Plate(pid, d.meta_data_id, sorted(values), parent, d.description)
        return out[pid]

    for pid in defs:
        resolve(pid)
    return out


def overlapping_values(plates) -> list[PlateValue]:
    """The plate values of a node over several plates: combinations that agree on shared meta-data,
    merged (a node on ``H`` and ``H.R`` has the values of ``H.R``; one on ``[H.W, H.APs]`` pairs each
    wearable with the access points of its own house).

    Joined plate by plate on the shared meta-data (values grouped by what they share), so the cost grows
    with the values and the result, never with the product of the plates."""
    plates = list(plates)
    if not plates:
        return [()]
    if len(plates) == 1:
        return list(plates[0].values)
    acc = [dict(v) for v in plates[0].values]
    for plate in plates[1:]:
        groups: dict = {}   # key set of a value -> its values
        for v in plate.values:
            groups.setdefault(frozenset(k for k, _ in v), []).append(v)
        out, seen = [], set()
        by_index: dict = {}
        for merged in acc:
            mkeys = frozenset(merged)
            for keys, values in groups.items():
                shared = tuple(sorted(mkeys & keys))
                index = by_index.get((keys, shared))
                if index is None:
                    index = by_index[(keys, shared)] = {}
                    for v in values:
                        d = dict(v)
                        index.setdefault(tuple(d[k] for k in shared), []).append(v)
                for v in index.get(tuple(merged[k] for k in shared), ()):
                    m = dict(merged)
                    m.update(v)
                    key = tuple(m.items())
                    if key not in seen:
                        seen.add(key)
                        out.append(m)
        acc = out
    return sorted({tuple(m.items()) for m in acc})


__all__ = ["PlateDefinition", "Plate", "PlateError", "resolve_plates", "overlapping_values", "PlateValue"]
