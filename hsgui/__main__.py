"""Command line: ``hsgui [TARGET] [--workspace FILE] [--screenshot FILE] [--no-demo] [--store-dir DIR]
[--workers N] [--scheduler ADDR]``."""
from __future__ import annotations

import argparse
import sys


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="hsgui",
        description="HyperStream Studio: browse, plot and compute HyperStream streams. With no TARGET the "
                    "embedded store in your data folder is opened (created with demo data on first start).")
    p.add_argument("target", nargs="?", default=None,
                   help="embedded store file, mongodb:// URI, or HyperStream config file (.json)")
    p.add_argument("--screenshot", metavar="FILE",
                   help="render the main window to a PNG once it has loaded, then exit (for headless checks)")
    p.add_argument("--workspace", metavar="FILE",
                   help="open a saved workspace (panes, curves, range, zone, layout); on TARGET if given, else "
                        "on the store it names")
    p.add_argument("--no-demo", action="store_true", help="do not create the demo dataset on first start")
    p.add_argument("--store-dir", metavar="DIR", default=None,
                   help="folder of the default embedded store (default: the user's data folder)")
    p.add_argument("--workers", type=int, metavar="N", default=None,
                   help="worker processes a workflow run uses (default: the config's workflow_engine.workers, "
                        "else as many as cores)")
    p.add_argument("--scheduler", metavar="ADDR", default=None,
                   help="run workflows on the Dask cluster of this scheduler (e.g. tcp://host:8786; the store must "
                        "be MongoDB, which the cluster's workers open themselves)")
    p.add_argument("--timeout", type=float, default=120.0, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.workers is not None and args.workers < 1:
        print("hsgui: --workers must be at least 1", file=sys.stderr)
        return 2
    from .workflows.engine_defaults import ENGINE_DEFAULTS
    ENGINE_DEFAULTS.update({k: v for k, v in (("workers", args.workers), ("scheduler", args.scheduler))
                            if v is not None})
    from .app import run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
