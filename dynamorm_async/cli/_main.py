"""The ``python -m dynamorm_async`` command line."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dynamorm_async",
        description="dynamorm_async: an async-first data mapper for Amazon DynamoDB.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo = commands.add_parser(
        "demo",
        help="tour mapping, conversion and CRUD against a local DynamoDB",
        description="Create a table, put/get/update/delete an item showing every type, "
        "then delete the table. Starts the embedded local DynamoDB unless an endpoint "
        "is given.",
    )
    demo.add_argument(
        "--endpoint-url",
        default=os.environ.get("DYNAMORM_ENDPOINT_URL"),
        help="a DynamoDB endpoint to use instead of the embedded server "
        "(default: $DYNAMORM_ENDPOINT_URL)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from dynamorm_async.cli._demo import run_demo

        asyncio.run(run_demo(args.endpoint_url))
    return 0
