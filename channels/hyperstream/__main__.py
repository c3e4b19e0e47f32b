"""``python -m channels.hyperstream SCRIPT.py [args]``: run a HyperStream 0.3.8 script on this layer."""
from __future__ import annotations

import sys


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m channels.hyperstream SCRIPT.py [args...]\n"
              "Runs a HyperStream 0.3.8 script with `import hyperstream` resolving to channels.hyperstream.",
              file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    from .script import ScriptNotFoundError, run_script
    try:
        run_script(argv[0], argv[1:])
    except ScriptNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
