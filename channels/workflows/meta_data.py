"""The meta-data tree HyperStream users organise their streams with (collection ``meta_data``).

Each item is ``{tag, data, parent}``; its identifier is ``tag_data`` under the root and
``<parent identifier>.tag_data`` below that (HyperStream 0.3.8's rule), e.g.
``house_1`` → ``house_1.resident_alice``. A stream's meta-data pairs ``(tag, data)`` from
the top down are the path to its item (``house=1, resident=alice``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ChannelsError

ROOT = "root"


class MetaDataError(ChannelsError):
    """A meta-data item that cannot be placed in the tree (missing parent, duplicate, empty tag/data)."""


def identifier_of(tag: str, data: str, parent: str) -> str:
    return f"{tag}_{data}" if parent == ROOT else f"{parent}.{tag}_{data}"


@dataclass
class MetaDataItem:
    tag: str
    data: str
    parent: str = ROOT
    children: list["MetaDataItem"] = field(default_factory=list, repr=False, compare=False)

    @property
    def identifier(self) -> str:
        return identifier_of(self.tag, self.data, self.parent)

    def to_document(self) -> dict:
        """HyperStream's document (field order of its MetaDataModel)."""
        return {"tag": self.tag, "data": self.data, "parent": self.parent}


class MetaDataTree:
    """The tree of meta-data items under a root; built from documents in any order."""

    def __init__(self, items=()):
        self.root = MetaDataItem("root", "", parent="")
        self._items: dict[str, MetaDataItem] = {}
        self.add_all(items)

    @classmethod
    def from_documents(cls, documents) -> "MetaDataTree":
        items = []
        for i, d in enumerate(documents):
            try:
                items.append(MetaDataItem(str(d["tag"]), str(d["data"]), str(d.get("parent") or ROOT)))
            except KeyError as e:
                raise MetaDataError(f"meta_data document {i} has no {e.args[0]!r}: {d!r}") from None
        return cls(items)

    def add_all(self, items) -> None:
        """Add items whose parents come later in ``items`` too (as HyperStream's loader does)."""
        pending = list(items)
        while pending:
            placed, waiting = [], []
            for it in pending:
                (placed if it.parent == ROOT or it.parent in self._items else waiting).append(it)
            if not placed:
                missing = sorted({it.parent for it in pending})
                raise MetaDataError(f"meta-data items {', '.join(sorted(it.identifier for it in pending))} have no "
                                    f"parent in the tree (missing: {', '.join(missing)})")
            for it in placed:
                self.add(it)
            pending = waiting

    def add(self, item: MetaDataItem) -> MetaDataItem:
        if not item.tag or not item.data:
            raise MetaDataError(f"meta-data item needs a tag and a data value, got tag={item.tag!r} data={item.data!r}")
        if item.identifier in self._items:
            raise MetaDataError(f"meta-data {item.identifier} already exists")
        parent = self.root if item.parent == ROOT else self._items.get(item.parent)
        if parent is None:
            raise MetaDataError(f"meta-data {item.identifier}: parent {item.parent!r} is not in the tree")
        item.children = []
        self._items[item.identifier] = item
        parent.children.append(item)
        return item

    def __contains__(self, identifier) -> bool:
        return identifier in self._items

    def __getitem__(self, identifier) -> MetaDataItem:
        try:
            return self._items[identifier]
        except KeyError:
            raise MetaDataError(f"no meta-data {identifier!r}") from None

    def __iter__(self):
        """Items top-down (parents before children)."""
        stack = list(reversed(self.root.children))
        while stack:
            it = stack.pop()
            yield it
            stack.extend(reversed(it.children))

    def __len__(self):
        return len(self._items)

    def parent_of(self, item: MetaDataItem) -> MetaDataItem | None:
        return None if item.parent == ROOT else self._items[item.parent]

    def path(self, item: MetaDataItem) -> tuple[tuple[str, str], ...]:
        """``((tag, data), ...)`` from the top down to ``item`` — the meta-data of its streams."""
        out = []
        node = item
        while node is not None:
            out.append((node.tag, node.data))
            node = self.parent_of(node)
        return tuple(reversed(out))

    def tags(self) -> list[str]:
        seen = []
        for it in self:
            if it.tag not in seen:
                seen.append(it.tag)
        return seen


__all__ = ["MetaDataTree", "MetaDataItem", "MetaDataError", "identifier_of", "ROOT"]
