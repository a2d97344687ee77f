"""`python -m jirei.webapp serve|users …`: the same commands as `jirei serve` / `jirei users`,
for running the app without the main command line (the load bench starts the server this way)."""

from __future__ import annotations

import argparse
import sys

from .commands import add_webapp_parsers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jirei.webapp")
    add_webapp_parsers(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
