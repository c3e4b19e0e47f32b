"""SVG export of a plot through pyqtgraph's SVGExporter, made to work with Qt 6's path data.

Qt 6's QSvgGenerator closes paths with ``Z``; pyqtgraph's exporter reads path
data as ``x,y`` pairs only and fails on it. :func:`export_svg` rewrites each
``Z`` as a line back to the sub-path's start before pyqtgraph maps the
coordinates to the page, so the result is the same drawing with every
coordinate in page units (full precision, unlike QSvgGenerator's own
6-significant-digit output of epoch-second coordinates).
"""
from __future__ import annotations

import importlib
import threading

_lock = threading.Lock()


def _close_paths_explicitly(node) -> None:
    for path in node.getElementsByTagName("path"):
        d = path.getAttribute("d")
        if "Z" not in d and "z" not in d:
            continue
        out, start = [], None
        for token in d.replace("z", "Z").split():
            if token.startswith("M"):
                start = token[1:]
            if token == "Z":
                if start is not None:
                    out.append("L" + start)
                continue
            out.append(token)
        path.setAttribute("d", " ".join(out))


def export_svg(plot_item, path: str) -> None:
    # pyqtgraph's exporters are imported on the first export, not on the app's start
    module = importlib.import_module("pyqtgraph.exporters.SVGExporter")  # the module, not the class of that name
    with _lock:
        original = module.correctCoordinates

        def correct_coordinates(node, defs, item, options):
            _close_paths_explicitly(node)
            return original(node, defs, item, options)

        module.correctCoordinates = correct_coordinates
        try:
            module.SVGExporter(plot_item).export(str(path))
        finally:
            module.correctCoordinates = original
