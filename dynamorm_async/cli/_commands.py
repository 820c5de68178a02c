"""What each ``dynamorm`` command does, once its arguments are parsed."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

from dynamorm_async.cli._scaffold import migration_source, next_version, slug
from dynamorm_async.db import Database, SchemaDiff, create_table_request
from dynamorm_async.errors import MigrationError, ValidationError
from dynamorm_async.mapping import Mapper
from dynamorm_async.migrations import MigrationRun, Migrator
from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb

__all__ = ["load_mappers", "run"]

_COLOURS = {"green": "32", "yellow": "33", "red": "31", "bold": "1", "dim": "2"}
_STATE_COLOURS = {
    "applied": "green",
    "pending": "yellow",
    "failed": "red",
    "changed": "red",
    "missing": "red",
}
_SEVERITY_COLOURS = {"safe": "green", "data": "yellow", "breaking": "red"}


def _painter(stream: TextIO) -> Callable[[str, str], str]:
    """Colours only on a terminal, and never with NO_COLOR set."""
    enabled = stream.isatty() and not os.environ.get("NO_COLOR")

    def paint(text: str, colour: str) -> str:
        return f"\033[{_COLOURS[colour]}m{text}\033[0m" if enabled else text

    return paint


def load_mappers(spec: str) -> list[tuple[str, Mapper[Any]]]:
    """``module`` -> every module-level `Mapper`; ``module:name`` -> that one.

    The current directory is importable, as in ``python -m``.
    """
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the module's own bug too: a NameError, a SyntaxError...
        raise ValidationError(
            f"cannot import {module_name!r}: {type(exc).__name__}: {exc}"
        ) from exc
    if attribute:
        value = getattr(module, attribute, None)
        if not isinstance(value, Mapper):
            raise ValidationError(f"{spec!r} is not a Mapper (found {type(value).__name__})")
        return [(attribute, value)]
    found = [(name, value) for name, value in vars(module).items() if isinstance(value, Mapper)]
    if not found:
        raise ValidationError(f"module {module_name!r} has no module-level Mapper")
    return found


@asynccontextmanager
async def _database(args: argparse.Namespace) -> AsyncIterator[Database]:
    template = f"{args.table_prefix}{{table}}"
    if args.local:
        async with local_dynamodb() as url:
            print(f"(using a fresh embedded DynamoDB at {url})", file=sys.stderr)
            async with Database.connect(
                url, table_name_template=template, **LOCAL_CREDENTIALS
            ) as db:
                yield db
        return
    async with Database.connect(
        args.endpoint_url,
        args.region,
        profile_name=args.profile,
        table_name_template=template,
    ) as db:
        yield db


def _progress(stream: TextIO) -> Callable[[int], None] | None:
    if not stream.isatty():
        return None

    def show(scanned: int) -> None:
        stream.write(f"\r  {scanned:,} items scanned")
        stream.flush()

    return show


async def run(args: argparse.Namespace) -> int:
    """Run a parsed command; returns the exit code."""
    handler = _HANDLERS[(args.command, args.action)]
    return await handler(args)


# --- migrate -------------------------------------------------------------------


def _source(args: argparse.Namespace) -> str:
    if os.getcwd() not in sys.path:  # migrations import the application's models
        sys.path.insert(0, os.getcwd())
    path = Path(args.migrations)
    # A dotted name is a package: importing it says what is wrong with it. An undotted
    # one is a folder, or a top-level package named explicitly (the default,
    # "migrations", is always the folder: many projects have a package of that name).
    name = args.migrations
    folder_only = "/" in name or name == "migrations" or not _importable(name)
    if not path.exists() and "." not in name and folder_only:
        raise MigrationError(
            f"no migrations folder {args.migrations!r}: create one with "
            '`dynamorm migrate new "first migration"`, or pass --migrations'
        )
    return str(args.migrations)


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent package is missing, an empty name
        return False


def _write(path: Path, text: str) -> Path:
    # A command's one file, written once at its end: blocking is harmless here.
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _print_runs(runs: list[MigrationRun], dry_run: bool) -> None:
    paint = _painter(sys.stdout)
    if not runs:
        print("nothing to do")
        return
    for migration_run in runs:
        verb = "would run" if dry_run else "ran"
        print(
            paint(f"{verb} {migration_run.direction} {migration_run.version}", "bold")
            + ("" if dry_run else f" ({migration_run.duration_ms} ms)")
        )
        for operation, request in migration_run.calls:
            print(f"  {operation} {json.dumps(request, sort_keys=True, default=str)}")


async def _migrate_up(args: argparse.Namespace) -> int:
    source = _source(args)
    async with _database(args) as db:
        migrator = Migrator(db, source, table=args.history_table, progress=_progress(sys.stderr))
        runs = await migrator.up(args.to, dry_run=args.dry_run, allow_changed=args.allow_changed)
    _print_runs(runs, args.dry_run)
    return 0


async def _migrate_down(args: argparse.Namespace) -> int:
    source = _source(args)
    async with _database(args) as db:
        migrator = Migrator(db, source, table=args.history_table)
        runs = await migrator.down(None if args.all else args.to, dry_run=args.dry_run)
    _print_runs(runs, args.dry_run)
    return 0


async def _migrate_status(args: argparse.Namespace) -> int:
    source = _source(args)
    paint = _painter(sys.stdout)
    async with _database(args) as db:
        migrator = Migrator(db, source, table=args.history_table)
        statuses = await migrator.status()
        lock = await migrator.lock()
    if not statuses:
        print("no migrations")
    for status in statuses:
        line = str(status)
        print(line.replace(status.state, paint(status.state, _STATE_COLOURS[status.state]), 1))
    if lock is not None:
        print(f"locked by {lock.owner} since {lock.acquired_at:%Y-%m-%d %H:%M:%S} UTC")
    return 0


async def _migrate_unlock(args: argparse.Namespace) -> int:
    async with _database(args) as db:  # the migrations themselves are not needed
        broken = await Migrator(db, [], table=args.history_table).break_lock()
    print(f"broke the lock of {broken.owner}" if broken else "no lock was held")
    return 0


async def _migrate_new(args: argparse.Namespace) -> int:
    folder = Path(args.migrations)
    version = next_version(folder)
    if args.from_diff:
        module, _, attribute = args.from_diff.partition(":")
        if not attribute:
            raise ValidationError("--from-diff takes MODULE:MAPPER, e.g. myapp.models:products")
        [(_, mapper)] = load_mappers(args.from_diff)
        async with _database(args) as db:
            diff = await db.schema.diff(mapper)
        if not diff:
            print(f"{diff.table} is up to date: nothing to migrate", file=sys.stderr)
            return 0
        source = migration_source(version, args.name, diff.changes, mapper=(module, attribute))
    else:
        source = migration_source(version, args.name)
    path = _write(folder / f"{version}_{slug(args.name)}.py", source)
    print(f"wrote {path}")
    return 0


# --- schema --------------------------------------------------------------------


def _dump(data: Any, form: str) -> str:
    if form == "yaml":
        try:
            import yaml
        except ImportError as exc:  # pragma: no cover - PyYAML comes with the cli extra
            raise ValidationError(
                "YAML output needs PyYAML: pip install 'dynamorm-async[cli]'"
            ) from exc
        return str(yaml.safe_dump(data, sort_keys=True))
    return json.dumps(data, indent=2, sort_keys=True, default=str)


async def _schema_dump(args: argparse.Namespace) -> int:
    if args.table:
        async with _database(args) as db:
            response = await db.transport.call("DescribeTable", {"TableName": args.table})
            ttl = await db.transport.call("DescribeTimeToLive", {"TableName": args.table})
        data: Any = {**response["Table"], "TimeToLive": ttl.get("TimeToLiveDescription", {})}
    else:
        template = f"{args.table_prefix}{{table}}"
        data = [
            create_table_request(mapper, template.format(table=mapper.table))
            for _, mapper in load_mappers(args.module)
        ]
    print(_dump(data, args.format))
    return 0


async def _schema_diff(args: argparse.Namespace) -> int:
    mappers = load_mappers(args.module)
    diffs: list[SchemaDiff] = []
    async with _database(args) as db:
        for _, mapper in mappers:
            diffs.append(await db.schema.diff(mapper))
    if args.format == "json":
        print(_dump([d.to_dict() for d in diffs], "json"))
    else:
        paint = _painter(sys.stdout)
        for diff in diffs:
            if not diff:
                print(f"{diff.table}: {paint('up to date', 'green')}")
                continue
            print(paint(f"{diff.table}: {len(diff.changes)} change(s)", "bold"))
            for change in diff.changes:
                print(
                    f"  [{paint(change.severity, _SEVERITY_COLOURS[change.severity])}] {change.description}"
                )
    return 1 if any(diffs) else 0


# --- generate ------------------------------------------------------------------


async def _generate_model(args: argparse.Namespace) -> int:
    from dynamorm_async.cli._generate import generate_model

    if args.sample < 0:
        raise ValidationError(f"--sample must be 0 or more, not {args.sample}")
    async with _database(args) as db:
        described = await db.transport.call("DescribeTable", {"TableName": args.table})
        ttl = await db.transport.call("DescribeTimeToLive", {"TableName": args.table})
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": args.table}
        while len(items) < args.sample:
            request["Limit"] = args.sample - len(items)
            page = await db.transport.call("Scan", request)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    description = ttl.get("TimeToLiveDescription", {})
    ttl_attribute = (
        description.get("AttributeName")
        if description.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
        else None
    )
    source = generate_model(
        described["Table"], items, class_name=args.class_name, ttl_attribute=ttl_attribute
    )
    if args.output:
        _write(Path(args.output), source)
        print(f"wrote {args.output} ({len(items)} sample item(s))", file=sys.stderr)
    else:
        sys.stdout.write(source)
    return 0


_HANDLERS = {
    ("migrate", "up"): _migrate_up,
    ("migrate", "down"): _migrate_down,
    ("migrate", "status"): _migrate_status,
    ("migrate", "unlock"): _migrate_unlock,
    ("migrate", "new"): _migrate_new,
    ("schema", "dump"): _schema_dump,
    ("schema", "diff"): _schema_diff,
    ("generate", "model"): _generate_model,
}
