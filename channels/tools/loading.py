"""Loading tools from tool channels: one configured instance (:func:`load_tool`) or a scan of all."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ToolInitialisationError, ToolParameterError
from .engine import Tool
from .params import coerce_parameters, to_jsonable

# -- loading tools from tool channels ------------------------------------------------------------------------
def load_tool(tool_channel, name: str, parameters: dict | None = None, version=None, coerce: bool = True) -> Tool:
    """An instance of tool ``name`` from ``tool_channel``, with ``tool_version``/``tool_source``/``tool_channel`` set.

    With ``coerce`` (default), ``parameters`` may be form text; they are converted
    with :func:`channels.tools.params.coerce_parameters` first.
    """
    tv = tool_channel.find_tool_version(name, version)
    cls = tool_channel.get_tool_class(name, version)
    params = coerce_parameters(cls, parameters or {}) if coerce else dict(parameters or {})
    try:
        tool = cls(**params)
    except (ToolParameterError, ToolInitialisationError):
        raise
    except Exception as e:
        raise ToolInitialisationError(f"tool {name!r} v{tv.version} ({tv.path}) could not be created with "
                                      f"{to_jsonable(params)!r}: {type(e).__name__}: {e}") from e
    tool.tool_version = str(tv.version)
    tool.tool_source = tv.path
    tool.tool_channel = tool_channel.channel_id
    return tool


@dataclass
class ToolInfo:
    """One tool version found in a tool channel, with its class or the error that stopped it loading."""

    name: str
    version: str
    path: str
    channel_id: str
    tool_class: type | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def scan_tools(tool_channel, all_versions: bool = False) -> list[ToolInfo]:
    """Import every tool of ``tool_channel`` (newest version of each, or all); a file that fails to
    import is reported in its ToolInfo (``error`` names the path) and does not stop the others."""
    out = []
    for name, versions in tool_channel.list_tools().items():
        for tv in (versions if all_versions else versions[-1:]):
            info = ToolInfo(name, str(tv.version), tv.path, tv.channel_id)
            try:
                info.tool_class = tool_channel.get_tool_class(name, tv.version)
            except Exception as e:
                info.error = str(e) if str(e) and tv.path in str(e) else f"{tv.path}: {type(e).__name__}: {e}"
            out.append(info)
    return out



__all__ = ["load_tool", "scan_tools", "ToolInfo"]
