"""The ``lumen`` command.

Each group of subcommands lives in its own module and registers itself here:
``lumen.cli_admin`` (instance set-up and accounts), ``lumen.cli_run`` (demo, serve,
worker).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from lumen.config import ConfigError


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="lumen", description="Anonymous reporting drop.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from lumen import cli_admin, cli_run

    cli_run.register(commands)
    cli_admin.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``lumen`` subcommand and return its exit status."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic reports every plugin and migration step at INFO; its warnings still show.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    arguments = build_parser().parse_args(argv)
    try:
        status: int = arguments.handler(arguments)
    except ConfigError as error:
        print(f"lumen: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":
    raise SystemExit(main())
