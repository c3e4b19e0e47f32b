"""A module channel of tools: folder ``sliding_window`` holds versions of class ``SlidingWindow``."""
from __future__ import annotations

from dataclasses import dataclass

import semantic_version

from .errors import ToolInitialisationError, ToolNotFoundError
from .module_channel import ModuleChannel
from .plugin_names import plugin_names
from .stream import StreamInstance
from .utils import MIN_DATE, camel_case


@dataclass(frozen=True)
class ToolVersion:
    name: str
    version: semantic_version.Version
    path: str
    channel_id: str


class ToolChannel(ModuleChannel):
    """Loads tools from ``<path>/<tool_name>/<timestamp>_v<semver>.py``; newest version wins."""

    #: a tool file written for HyperStream imports ``hyperstream.*`` unchanged (see :mod:`channels.plugin_names`)
    import_hook = staticmethod(plugin_names)

    def __init__(self, channel_id, path, up_to_timestamp=MIN_DATE):
        super().__init__(channel_id, path, up_to_timestamp)

    def _to_class(self, stream, inst):
        """A stored ``(version, importer)`` document -> StreamInstance(timestamp, tool class)."""
        if inst is None:
            return None
        version, importer = inst.value
        name = stream.stream_id.name
        return StreamInstance._make((inst.timestamp, self._class_from(importer(), camel_case(name), name, version)))

    def get_results(self, stream, time_interval):
        return [self._to_class(stream, inst) for inst in super().get_results(stream, time_interval)]

    def first_instance(self, stream, time_interval):
        return self._to_class(stream, super().first_instance(stream, time_interval))

    def last_instance(self, stream, time_interval):
        return self._to_class(stream, super().last_instance(stream, time_interval))

    def _class_from(self, module, class_name, tool_name, version):
        try:
            return getattr(module, class_name)
        except AttributeError:
            raise ToolInitialisationError(f"tool file for {tool_name!r} v{version} ({module.__file__}) "
                                          f"defines no class {class_name!r}") from None

    # -- tool lookup by name -----------------------------------------------------
    def tool_versions(self, name: str) -> list[ToolVersion]:
        """All versions of a tool, oldest first."""
        found = [ToolVersion(n, info.version, info.long_filename, self.channel_id)
                 for (n, _v), info in self.versions.items() if n == name]
        return sorted(found, key=lambda tv: tv.version)

    def list_tools(self) -> dict[str, list[ToolVersion]]:
        names = sorted({n for (n, _v) in self.versions})
        return {n: self.tool_versions(n) for n in names}

    def find_tool_version(self, name: str, version=None) -> ToolVersion:
        versions = self.tool_versions(name)
        if not versions:
            raise ToolNotFoundError(name, detail=f"no folder {name!r} in tool channel {self.channel_id!r} "
                                                 f"({self.path})")
        if version is None:
            return versions[-1]
        try:
            wanted = semantic_version.Version.coerce(str(version).lstrip("v"))
        except ValueError:
            raise ToolNotFoundError(name, str(version), detail="not a version number; available: "
                                    + ", ".join(str(t.version) for t in versions)) from None
        for tv in versions:
            if tv.version == wanted:
                return tv
        raise ToolNotFoundError(name, str(version), detail="available: " + ", ".join(str(t.version) for t in versions))

    def get_tool_class(self, name: str, version=None):
        tv = self.find_tool_version(name, version)
        from .module_channel import import_module_file
        module = import_module_file(tv.path, self.import_hook, self.sys_path)
        return self._class_from(module, camel_case(name), name, tv.version)

    def get_tool(self, name: str, parameters: dict | None = None, version=None):
        """An instance of the tool, built from keyword ``parameters``."""
        cls = self.get_tool_class(name, version)
        try:
            return cls(**(parameters or {}))
        except TypeError as e:
            raise ToolInitialisationError(f"tool {name!r}: bad parameters {parameters!r}: {e}") from e
