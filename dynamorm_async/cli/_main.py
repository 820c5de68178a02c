"""The ``dynamorm`` command line (also ``python -m dynamorm_async``).

Exit codes: 0 success; 1 ``schema diff`` found differences; 2 an error (bad
arguments, a DynamoDB or migration error); 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from dynamorm_async._version import __version__
from dynamorm_async.errors import DynamORMError

__all__ = ["main"]

_DESCRIPTION = """\
dynamorm_async: schema management, migrations and code generation for DynamoDB
tables mapped with dynamorm_async. `dynamorm COMMAND --help` for each command.
"""

_EPILOG = """\
connection options come from the environment too: DYNAMORM_ENDPOINT_URL,
DYNAMORM_REGION (or AWS_REGION), DYNAMORM_PROFILE (or AWS_PROFILE),
DYNAMORM_TABLE_PREFIX, DYNAMORM_LOCAL=1, DYNAMORM_MIGRATIONS and
DYNAMORM_HISTORY_TABLE; credentials come from the usual AWS chain.

exit codes: 0 success, 1 `schema diff` found differences, 2 an error,
130 interrupted.
"""

_MIGRATE_EPILOG = """\
a first migration, step by step:
  dynamorm migrate new "create products" --from-diff myapp.models:products
  dynamorm migrate up --dry-run      # prints every call it would send
  dynamorm migrate up
  dynamorm migrate status
"""


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes", "on")


def _connection_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("connection")
    group.add_argument(
        "--endpoint-url",
        default=os.environ.get("DYNAMORM_ENDPOINT_URL"),
        help="a DynamoDB-compatible endpoint (default: AWS; $DYNAMORM_ENDPOINT_URL)",
    )
    group.add_argument(
        "--region",
        default=os.environ.get("DYNAMORM_REGION"),
        help="the AWS region ($DYNAMORM_REGION, else AWS_REGION or the profile's)",
    )
    group.add_argument(
        "--profile",
        default=os.environ.get("DYNAMORM_PROFILE"),
        help="an AWS profile for credentials and region ($DYNAMORM_PROFILE)",
    )
    group.add_argument(
        "--table-prefix",
        default=os.environ.get("DYNAMORM_TABLE_PREFIX", ""),
        help="prepended to every table name, e.g. 'staging-' ($DYNAMORM_TABLE_PREFIX)",
    )
    group.add_argument(
        "--local",
        action="store_true",
        default=_env_flag("DYNAMORM_LOCAL"),
        help="run against a fresh embedded DynamoDB (moto) that lasts for this command; "
        "for trying things out ($DYNAMORM_LOCAL=1)",
    )
    return options


def _migration_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("migrations")
    group.add_argument(
        "--migrations",
        default=os.environ.get("DYNAMORM_MIGRATIONS", "migrations"),
        metavar="DIR_OR_PACKAGE",
        help="the folder (or importable package) of migration modules "
        "(default: ./migrations; $DYNAMORM_MIGRATIONS)",
    )
    group.add_argument(
        "--history-table",
        default=os.environ.get("DYNAMORM_HISTORY_TABLE", "dynamorm_migrations"),
        help="the history table's name, before --table-prefix "
        "(default: dynamorm_migrations; $DYNAMORM_HISTORY_TABLE)",
    )
    return options


def _parser() -> argparse.ArgumentParser:
    connection = _connection_options()
    migration = _migration_options()
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="dynamorm",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"dynamorm_async {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser(
        "demo",
        help="tour mapping, CRUD, queries and transactions against a local DynamoDB",
        description="Create a table, put/get/update/delete an item showing every type, "
        "query, run a unit of work and a transaction, then delete the table. Starts the "
        "embedded local DynamoDB unless an endpoint is given.",
    )
    demo.add_argument(
        "--endpoint-url",
        default=os.environ.get("DYNAMORM_ENDPOINT_URL"),
        help="a DynamoDB endpoint to use instead of the embedded server "
        "(default: $DYNAMORM_ENDPOINT_URL)",
    )

    # --- migrate ---------------------------------------------------------------
    migrate = commands.add_parser(
        "migrate",
        help="apply, revert, list and write migrations",
        description="Versioned migrations, recorded in a history table, under a lock.",
        epilog=_MIGRATE_EPILOG,
        formatter_class=formatter,
    )
    steps = migrate.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = steps.add_parser(
        "up",
        parents=[connection, migration],
        help="apply pending migrations",
        description="Apply the pending migrations in version order, up to --to.",
    )
    up.add_argument("--to", metavar="VERSION", help="stop after this version (default: all)")
    up.add_argument(
        "--dry-run", action="store_true", help="print the calls it would send; change nothing"
    )
    up.add_argument(
        "--allow-changed",
        action="store_true",
        help="run even though an applied migration's source changed (checksum mismatch)",
    )
    down = steps.add_parser(
        "down",
        parents=[connection, migration],
        help="revert applied migrations",
        description="Revert the applied migrations above --to, newest first.",
    )
    target = down.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="VERSION", help="keep this version and those before it")
    target.add_argument("--all", action="store_true", help="revert every applied migration")
    down.add_argument(
        "--dry-run", action="store_true", help="print the calls it would send; change nothing"
    )
    steps.add_parser(
        "status",
        parents=[connection, migration],
        help="list migrations and whether they are applied",
        description="Each migration: pending, applied, failed, changed (its source was "
        "edited after it was applied) or missing (applied, but its module is gone).",
    )
    steps.add_parser(
        "unlock",
        parents=[connection, migration],
        help="break a stale lock left by a crashed run",
        description="Delete the lock item, whoever holds it. Only when no run is in progress.",
    )
    new = steps.add_parser(
        "new",
        parents=[connection, migration],
        help="write a new migration module",
        description="Write VERSION_NAME.py into the migrations folder: a skeleton, or, with "
        "--from-diff, the calls that bring the live table to the model.",
    )
    new.add_argument("name", help="what the migration does, e.g. 'index products by category'")
    new.add_argument(
        "--from-diff",
        metavar="MODULE:MAPPER",
        help="pre-fill from `schema diff` of this mapper against its live table",
    )

    # --- schema ----------------------------------------------------------------
    schema = commands.add_parser(
        "schema",
        help="dump and diff table schemas",
        description="Compare models with live tables.",
    )
    schema_steps = schema.add_subparsers(dest="action", metavar="ACTION", required=True)
    dump = schema_steps.add_parser(
        "dump",
        parents=[connection],
        help="print a live table's description, or the models' tables",
        description="With --table, DynamoDB's description of a live table; with MODULE, "
        "the CreateTable request of each Mapper in it.",
    )
    source = dump.add_mutually_exclusive_group(required=True)
    source.add_argument("--table", help="a live table's full name (--table-prefix does not apply)")
    source.add_argument(
        "module", nargs="?", metavar="MODULE", help="module[:mapper] holding Mapper objects"
    )
    dump.add_argument(
        "--format", choices=("json", "yaml"), default="json", help="the output format (json)"
    )
    diff = schema_steps.add_parser(
        "diff",
        parents=[connection],
        help="compare models with live tables (exit 1 if they differ)",
        description="Each difference is classified: safe (applied online by an update or "
        "a migration), data (needs a data migration) or breaking (needs a new table). "
        "Exits 1 when anything differs, for CI.",
    )
    diff.add_argument("module", metavar="MODULE", help="module[:mapper] holding Mapper objects")
    diff.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (classified, coloured on a terminal) or json",
    )

    # --- generate --------------------------------------------------------------
    generate = commands.add_parser(
        "generate",
        help="generate code from live tables",
        description="Generate an attrs class and its Mapper from a live table.",
    )
    kinds = generate.add_subparsers(dest="action", metavar="WHAT", required=True)
    model = kinds.add_parser(
        "model",
        parents=[connection],
        help="an attrs class + Mapper module from a live table",
        description="Read the table's description and a sample of its items, and write a "
        "module with an attrs class and a Mapper for it.",
    )
    model.add_argument("--table", required=True, help="the live table's full name")
    model.add_argument("--class-name", help="the class's name (default: from the table name)")
    model.add_argument("--sample", type=int, default=100, help="items to read (default: 100)")
    model.add_argument("--output", "-o", help="the file to write (default: standard output)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from dynamorm_async.cli._demo import run_demo

        asyncio.run(run_demo(args.endpoint_url))
        return 0
    from dynamorm_async.cli._commands import run

    try:
        return asyncio.run(run(args))
    except DynamORMError as exc:
        hint = " (use --region or DYNAMORM_REGION)" if "no AWS region" in str(exc) else ""
        print(f"dynamorm: error: {exc}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dynamorm: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # not ours (a file system error, say): still exit 2, not 1
        print(f"dynamorm: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


def console() -> None:
    """The ``dynamorm`` console script."""
    raise SystemExit(main())
