"""The ``dynamorm`` command against the embedded server, as a user types it.

`main([...])` runs in-process (each command is one ``asyncio.run``, so these tests are
plain sync tests); one test runs the installed console script. Each test has its own
folder (the current directory), its own models module and its own table prefix.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml

from dynamorm_async._version import __version__
from dynamorm_async.cli import main
from dynamorm_async.db import Database
from dynamorm_async.migrations._history import History
from dynamorm_async.testing import LOCAL_CREDENTIALS

_numbers = itertools.count(1)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def unique(stem: str) -> str:
    return f"{stem}_{os.getpid()}_{next(_numbers)}"


@attrs.define
class Result:
    code: int
    out: str
    err: str


@attrs.define
class Project:
    """A folder to run the command in, with a table prefix of its own."""

    path: Path
    endpoint: str
    prefix: str
    capsys: Any
    modules: list[str] = attrs.field(factory=list)

    @property
    def connection(self) -> list[str]:
        return ["--endpoint-url", self.endpoint, "--table-prefix", self.prefix]

    def run(self, *argv: str) -> Result:
        """``dynamorm ARGV``: the exit code and what it printed."""
        self.capsys.readouterr()
        code = main(list(argv))
        out, err = self.capsys.readouterr()
        return Result(code, out, err)

    def cli(self, *argv: str) -> Result:
        """``dynamorm ARGV --endpoint-url URL --table-prefix PREFIX``."""
        return self.run(*argv, *self.connection)

    def write_models(
        self, name: str | None = None, *, indexed: bool = False, options: str = "None"
    ) -> str:
        """A models module with one mapper, ``m``, of table ``widgets``; its name.

        A module written again is dropped from `sys.modules`, as a new process would.
        """
        name = name or unique("cli_models")
        indexes = '[GlobalIndex("by-color", partition_key="color")]' if indexed else "[]"
        source = f"""\
            import attrs

            from dynamorm_async import GlobalIndex, Mapper, TableOptions


            @attrs.define
            class Widget:
                id: str
                color: str = "red"


            m = Mapper(
                Widget,
                table="widgets",
                partition_key="id",
                indexes={indexes},
                options={options},
            )
        """
        (self.path / f"{name}.py").write_text(textwrap.dedent(source))
        sys.modules.pop(name, None)
        if name not in self.modules:
            self.modules.append(name)
        return name

    def write_migration(self, filename: str, body: str, *, folder: str = "migrations") -> Path:
        path = self.path / folder / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body))
        return path

    def noop_migration(self, version: str, name: str = "noop") -> Path:
        """A migration that does nothing, both ways."""
        return self.write_migration(
            f"{version}_{name}.py",
            f"""\
            from dynamorm_async.migrations import Migration


            async def step(ctx):
                pass


            migration = Migration("{version}", step, step, description="{name}")
            """,
        )

    def database(self) -> Database:
        return Database.connect(
            self.endpoint, table_name_template=self.prefix + "{table}", **LOCAL_CREDENTIALS
        )

    def create_table(self, mapper: Any, prefix: str) -> None:
        async def create() -> None:
            async with Database.connect(
                self.endpoint, table_name_template=prefix + "{table}", **LOCAL_CREDENTIALS
            ) as db:
                await db.schema.create(mapper)

        asyncio.run(create())

    def tables(self) -> list[str]:
        async def names() -> list[str]:
            async with self.database() as db:
                found = (await db.client.list_tables(Limit=100))["TableNames"]
            return sorted(n for n in found if n.startswith(self.prefix))

        return asyncio.run(names())


@pytest.fixture
def dynamorm_mappers():
    return []


@pytest.fixture
def project(tmp_path, monkeypatch, capsys, dynamorm_endpoint):
    """A fresh project folder as the current directory, with the local server's
    credentials in the environment and no DYNAMORM_* settings."""
    for name in list(os.environ):
        if name.startswith("DYNAMORM_") and name != "DYNAMORM_TEST_ENDPOINT":
            monkeypatch.delenv(name)
    for name in ("NO_COLOR", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # The local server's dummy credentials (the embedded one, or DYNAMORM_TEST_ENDPOINT's
    # DynamoDB Local); nothing from ~/.aws.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LOCAL_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LOCAL_CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_REGION", LOCAL_CREDENTIALS["region_name"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", LOCAL_CREDENTIALS["region_name"])
    # Files are rewritten within one second: a cached .pyc could shadow the edit.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    made = Project(tmp_path, dynamorm_endpoint, f"{unique('cli')}-", capsys)
    yield made
    for name in made.modules:
        sys.modules.pop(name, None)


def applied_states(out: str) -> dict[str, str]:
    """`migrate status` output as ``{version: state}``."""
    states = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit():
            states[parts[0]] = parts[1]
    return states


# --- the acceptance flow ----------------------------------------------------------


def test_first_migration_then_an_index_up_and_down(project):
    models = project.write_models()
    table = f"{project.prefix}widgets"

    made = project.cli("migrate", "new", "create widgets", "--from-diff", f"{models}:m")
    assert made.code == 0, made.err
    assert made.out.strip() == "wrote migrations/0001_create_widgets.py"
    source = (project.path / "migrations" / "0001_create_widgets.py").read_text()
    assert "await ctx.schema.create(m)" in source
    assert f"from {models} import m" in source

    # A dry run prints the calls and changes nothing.
    dry = project.cli("migrate", "up", "--dry-run")
    assert dry.code == 0, dry.err
    lines = dry.out.splitlines()
    assert lines[0] == "would run up 0001"
    assert lines[1].startswith("  CreateTable {")
    assert json.loads(lines[1].removeprefix("  CreateTable "))["TableName"] == table
    assert project.tables() == []  # neither the table nor the history table
    still = project.cli("schema", "diff", models)
    assert still.code == 1
    assert "create table" in still.out
    assert applied_states(project.cli("migrate", "status").out) == {"0001": "pending"}

    ran = project.cli("migrate", "up")
    assert ran.code == 0, ran.err
    assert re.fullmatch(r"ran up 0001 \(\d+ ms\)\n", ran.out)
    assert project.tables() == sorted([table, f"{project.prefix}dynamorm_migrations"])
    same = project.cli("schema", "diff", models)
    assert same.code == 0, same.out + same.err
    assert same.out == f"{table}: up to date\n"
    again = project.cli("migrate", "up")
    assert (again.code, again.out) == (0, "nothing to do\n")

    # The model gains an index: the diff says so, a migration adds it.
    project.write_models(models, indexed=True)
    differs = project.cli("schema", "diff", models)
    assert differs.code == 1
    changes = [line for line in differs.out.splitlines() if line.startswith("  ")]
    assert len(changes) == 1
    assert changes[0].startswith("  [safe] index by-color: add index")
    assert f"{table}: 1 change(s)" in differs.out

    made = project.cli("migrate", "new", "index widgets by color", "--from-diff", f"{models}:m")
    assert made.code == 0, made.err
    assert made.out.strip() == "wrote migrations/0002_index_widgets_by_color.py"
    source = (project.path / "migrations" / "0002_index_widgets_by_color.py").read_text()
    assert 'await ctx.schema.add_index(m, "by-color")' in source
    assert 'await ctx.schema.drop_index(m, "by-color")' in source

    ran = project.cli("migrate", "up")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("ran up 0002 (")
    assert project.cli("schema", "diff", models).code == 0
    status = project.cli("migrate", "status")
    assert status.code == 0
    assert applied_states(status.out) == {"0001": "applied", "0002": "applied"}
    assert "index widgets by color" in status.out
    assert "locked by" not in status.out

    down = project.cli("migrate", "down", "--to", "0001")
    assert down.code == 0, down.err
    assert down.out.startswith("ran down 0002 (")
    assert applied_states(project.cli("migrate", "status").out) == {
        "0001": "applied",
        "0002": "pending",
    }
    back = project.cli("schema", "diff", models)
    assert back.code == 1
    assert "[safe] index by-color: add index" in back.out


def test_up_to_a_version_and_down_all(project):
    models = project.write_models()
    assert project.cli("migrate", "new", "create", "--from-diff", f"{models}:m").code == 0
    project.noop_migration("0002", "second")
    project.noop_migration("0003", "third")

    ran = project.cli("migrate", "up", "--to", "0002")
    assert ran.code == 0, ran.err
    assert [line.split(" (")[0] for line in ran.out.splitlines()] == [
        "ran up 0001",
        "ran up 0002",
    ]
    states = applied_states(project.cli("migrate", "status").out)
    assert states == {"0001": "applied", "0002": "applied", "0003": "pending"}

    dry = project.cli("migrate", "down", "--all", "--dry-run")
    assert dry.code == 0, dry.err
    assert dry.out.splitlines() == [
        "would run down 0002",
        "would run down 0001",
        f'  DeleteTable {{"TableName": "{project.prefix}widgets"}}',
    ]
    assert f"{project.prefix}widgets" in project.tables()

    down = project.cli("migrate", "down", "--all")
    assert down.code == 0, down.err
    assert f"{project.prefix}widgets" not in project.tables()
    states = applied_states(project.cli("migrate", "status").out)
    assert states == {"0001": "pending", "0002": "pending", "0003": "pending"}


# --- schema diff and dump ---------------------------------------------------------------


def test_schema_diff_as_json(project):
    models = project.write_models()
    result = project.cli("schema", "diff", models, "--format", "json")
    assert result.code == 1
    [diff] = json.loads(result.out)
    assert diff["table"] == f"{project.prefix}widgets"
    [change] = diff["changes"]
    assert change["kind"] == "create_table"
    assert change["severity"] == "safe"
    assert change["calls"][0]["operation"] == "CreateTable"

    assert project.cli("migrate", "new", "c", "--from-diff", f"{models}:m").code == 0
    assert project.cli("migrate", "up").code == 0
    project.write_models(models, indexed=True)
    result = project.cli("schema", "diff", f"{models}:m", "--format", "json")
    assert result.code == 1
    [diff] = json.loads(result.out)
    assert [(c["kind"], c["severity"], c["subject"]) for c in diff["changes"]] == [
        ("add_index", "safe", "index by-color")
    ]
    project.write_models(models)
    result = project.cli("schema", "diff", models, "--format", "json")
    assert result.code == 0
    assert json.loads(result.out) == [{"table": f"{project.prefix}widgets", "changes": []}]


def test_schema_dump_of_a_module(project):
    models = project.write_models(indexed=True)
    (project.path / f"{models}_two.py").write_text(
        f"from {models} import Widget, m\n"
        "from dynamorm_async import Mapper\n"
        "other = Mapper(Widget, table='gadgets', partition_key='id')\n"
        "not_a_mapper = 42\n"
    )
    project.modules.append(f"{models}_two")
    result = project.run("schema", "dump", f"{models}_two", "--table-prefix", "dev-")
    assert result.code == 0, result.err
    requests = json.loads(result.out)
    assert sorted(r["TableName"] for r in requests) == ["dev-gadgets", "dev-widgets"]
    widgets = next(r for r in requests if r["TableName"] == "dev-widgets")
    assert widgets["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert widgets["GlobalSecondaryIndexes"][0]["IndexName"] == "by-color"
    # One mapper, as YAML; no server is needed to dump models.
    result = project.run("schema", "dump", f"{models}:m", "--format", "yaml")
    assert result.code == 0, result.err
    assert yaml.safe_load(result.out) == [{**widgets, "TableName": "widgets"}]


def test_schema_dump_of_a_live_table(project):
    models = project.write_models(indexed=True)
    assert project.cli("migrate", "new", "c", "--from-diff", f"{models}:m").code == 0
    assert project.cli("migrate", "up").code == 0
    table = f"{project.prefix}widgets"

    result = project.cli("schema", "dump", "--table", table, "--format", "yaml")
    assert result.code == 0, result.err
    described = yaml.safe_load(result.out)
    assert described["TableName"] == table
    assert described["TableStatus"] == "ACTIVE"
    assert described["GlobalSecondaryIndexes"][0]["IndexName"] == "by-color"
    assert "TimeToLive" in described

    result = project.cli("schema", "dump", "--table", table)
    assert result.code == 0, result.err
    assert json.loads(result.out)["TableName"] == table

    missing = project.cli("schema", "dump", "--table", f"{project.prefix}nope")
    assert missing.code == 2
    assert missing.err.startswith("dynamorm: error: ")
    assert "nope" in missing.err


# --- errors -----------------------------------------------------------------------------


def test_an_unknown_module_is_an_error(project):
    result = project.cli("schema", "diff", "no_such_module_anywhere")
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith("dynamorm: error: cannot import 'no_such_module_anywhere'")
    assert "Traceback" not in result.err

    models = project.write_models()
    for spec, message in [
        (f"{models}:nothing", "is not a Mapper (found NoneType)"),
        (f"{models}:Widget", "is not a Mapper (found type)"),
        ("textwrap", "module 'textwrap' has no module-level Mapper"),
    ]:
        result = project.cli("schema", "diff", spec)
        assert result.code == 2, spec
        assert message in result.err, spec


def test_a_models_module_that_fails_to_import_is_an_error(project):
    broken = unique("cli_broken_models")
    (project.path / f"{broken}.py").write_text("import attrs\nundefined_name\n")
    project.modules.append(broken)
    result = project.cli("schema", "diff", broken)
    assert result.code == 2
    assert broken in result.err


def test_from_diff_needs_a_mapper_name(project):
    models = project.write_models()
    result = project.cli("migrate", "new", "x", "--from-diff", models)
    assert result.code == 2
    assert "--from-diff takes MODULE:MAPPER" in result.err
    assert not (project.path / "migrations").exists()


def test_from_diff_of_an_up_to_date_table_writes_nothing(project):
    models = project.write_models()
    assert project.cli("migrate", "new", "c", "--from-diff", f"{models}:m").code == 0
    assert project.cli("migrate", "up").code == 0
    result = project.cli("migrate", "new", "again", "--from-diff", f"{models}:m")
    assert result.code == 0
    assert "up to date: nothing to migrate" in result.err
    assert sorted(p.name for p in (project.path / "migrations").iterdir()) == ["0001_c.py"]


@pytest.mark.parametrize("action", ["up", "down --all", "status"])
def test_a_missing_migrations_folder_is_explained(project, action):
    result = project.cli("migrate", *action.split())
    assert result.code == 2
    assert result.err.startswith("dynamorm: error: no migrations folder 'migrations'")
    assert "dynamorm migrate new" in result.err
    assert "--migrations" in result.err
    assert project.tables() == []


def test_a_migrations_package_that_cannot_be_imported(project):
    result = project.cli("migrate", "status", "--migrations", "no_such_app.migrations")
    assert result.code == 2
    assert "cannot import migrations package 'no_such_app.migrations'" in result.err


def test_migrations_from_an_importable_package_in_the_current_directory(project):
    package = unique("cli_migs")
    project.write_migration("__init__.py", "", folder=package)
    project.write_migration(
        "m1.py",
        """\
        from dynamorm_async.migrations import Migration

        async def up(ctx):
            pass

        migration = Migration("1", up, description="from a package")
        """,
        folder=package,
    )
    project.modules.append(package)
    result = project.cli("migrate", "up", "--migrations", package)
    assert result.code == 0, result.err
    assert result.out.startswith("ran up 1 (")


def test_migrations_from_a_top_level_package_elsewhere_on_the_path(project, monkeypatch):
    package = unique("cli_top_migs")
    project.write_migration("__init__.py", "", folder=f"lib/{package}")
    project.write_migration(
        "m1.py",
        """\
        from dynamorm_async.migrations import Migration

        async def up(ctx):
            pass

        migration = Migration("1", up)
        """,
        folder=f"lib/{package}",
    )
    monkeypatch.syspath_prepend(str(project.path / "lib"))
    project.modules.append(package)
    result = project.cli("migrate", "status", "--migrations", package)
    assert result.code == 0, result.err
    assert applied_states(result.out) == {"1": "pending"}


def test_migrate_down_needs_to_or_all(project):
    project.write_migration("0001_x.py", "")
    with pytest.raises(SystemExit) as exited:
        main(["migrate", "down", *project.connection])
    assert exited.value.code == 2
    err = project.capsys.readouterr().err
    assert "one of the arguments --to --all is required" in err
    with pytest.raises(SystemExit) as exited:
        main(["migrate", "down", "--to", "0001", "--all", *project.connection])
    assert exited.value.code == 2
    assert "not allowed with argument" in project.capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["migrate"],
        ["schema"],
        ["generate"],
        ["schema", "dump"],
        ["generate", "model"],
        ["migrate", "new"],
        ["frobnicate"],
        ["migrate", "up", "--format", "json"],
        ["schema", "diff", "m", "--format", "xml"],
    ],
    ids=lambda argv: " ".join(argv) or "nothing",
)
def test_bad_arguments_exit_2_with_usage(project, argv):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = project.capsys.readouterr().err
    assert err.startswith("usage: dynamorm")
    assert "error:" in err


def test_up_to_an_unknown_version(project):
    project.noop_migration("0001")
    result = project.cli("migrate", "up", "--to", "0009")
    assert result.code == 2
    assert "no migration has version '0009'" in result.err


def test_a_failing_migration(project):
    project.write_migration(
        "0001_ok.py",
        """\
        from dynamorm_async.migrations import Migration

        async def up(ctx):
            pass

        migration = Migration("0001", up, description="fine")
        """,
    )
    project.write_migration(
        "0002_boom.py",
        """\
        from dynamorm_async.migrations import Migration

        async def up(ctx):
            raise ValueError("the widget exploded")

        migration = Migration("0002", up, description="explodes")
        """,
    )
    result = project.cli("migrate", "up")
    assert result.code == 2
    assert "Traceback" not in result.err
    assert "dynamorm: error: migration '0002' failed in up" in result.err
    assert "ValueError: the widget exploded" in result.err
    status = project.cli("migrate", "status")
    assert applied_states(status.out) == {"0001": "applied", "0002": "failed"}
    assert "locked by" not in status.out  # the lock was released


def test_a_migration_module_that_does_not_import(project):
    project.write_migration("0001_bad.py", "this is not python\n")
    result = project.cli("migrate", "status")
    assert result.code == 2
    assert "cannot import migration module" in result.err
    assert "0001_bad.py" in result.err


def test_an_unreachable_endpoint_is_an_error(project):
    result = project.run(
        "schema", "diff", project.write_models(), "--endpoint-url", "http://127.0.0.1:9"
    )
    assert result.code == 2
    assert result.err.startswith("dynamorm: error: ")
    assert "Could not connect" in result.err


def test_no_region_is_an_error(project, monkeypatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    result = project.run("schema", "diff", project.write_models())  # AWS itself
    assert result.code == 2
    assert result.err.startswith("dynamorm: error: no AWS region")
    assert "AWS_REGION" in result.err


def test_a_generated_setting_change_applies_to_the_prefix_it_runs_with(project):
    models = project.write_models()
    staging = ["--endpoint-url", project.endpoint, "--table-prefix", f"{project.prefix}staging-"]
    prod = ["--endpoint-url", project.endpoint, "--table-prefix", f"{project.prefix}prod-"]
    mapper = importlib.import_module(models).m
    for prefix in ("staging-", "prod-"):
        project.create_table(mapper, project.prefix + prefix)
    project.write_models(models, options='TableOptions(stream="NEW_IMAGE")')
    made = project.run("migrate", "new", "stream", "--from-diff", f"{models}:m", *staging)
    assert made.code == 0, made.err
    assert project.run("schema", "diff", models, *prod).code == 1

    ran = project.run("migrate", "up", *prod)
    assert ran.code == 0, ran.err
    assert project.run("schema", "diff", models, *staging).code == 1  # untouched
    diff = project.run("schema", "diff", models, *prod)
    assert diff.code == 0, diff.out


def test_an_interrupt_exits_130(project, monkeypatch):
    async def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr("dynamorm_async.cli._commands.run", interrupted)
    result = project.cli("migrate", "status")
    assert result.code == 130
    assert result.err == "dynamorm: interrupted\n"


def test_a_migration_named_with_an_emoji_and_quotes(project):
    made = project.cli("migrate", "new", 'launch "rocket" 🚀')
    assert made.out == "wrote migrations/0001_launch_rocket.py\n"
    result = project.cli("migrate", "status")
    assert result.code == 0
    assert 'launch "rocket" 🚀' in result.out


def test_a_blank_skeleton_fails_until_written(project):
    made = project.cli("migrate", "new", "todo")
    assert made.code == 0
    assert made.out == "wrote migrations/0001_todo.py\n"
    result = project.cli("migrate", "up")
    assert result.code == 2
    assert "migration '0001' failed in up: NotImplementedError" in result.err
    assert applied_states(project.cli("migrate", "status").out) == {"0001": "failed"}


# --- the lock -------------------------------------------------------------------------


def test_unlock_with_and_without_a_lock(project):
    project.noop_migration("0001")
    # No history table yet: nothing to break.
    result = project.cli("migrate", "unlock")
    assert (result.code, result.out) == (0, "no lock was held\n")

    async def hold() -> None:
        async with project.database() as db:
            history = History(db)
            await history.ensure()
            await history.acquire("deployer@ci:42")

    asyncio.run(hold())
    status = project.cli("migrate", "status")
    assert status.code == 0
    assert re.search(
        r"^locked by deployer@ci:42 since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", status.out, re.M
    )

    blocked = project.cli("migrate", "up")
    assert blocked.code == 2
    assert "locked by deployer@ci:42" in blocked.err
    assert "dynamorm migrate unlock" in blocked.err
    assert applied_states(project.cli("migrate", "status").out) == {"0001": "pending"}

    result = project.cli("migrate", "unlock")
    assert (result.code, result.out) == (0, "broke the lock of deployer@ci:42\n")
    assert "locked by" not in project.cli("migrate", "status").out
    result = project.cli("migrate", "unlock")
    assert (result.code, result.out) == (0, "no lock was held\n")
    assert project.cli("migrate", "up").code == 0


def test_the_history_table_option(project):
    project.noop_migration("0001")
    assert project.cli("migrate", "up", "--history-table", "schema_versions").code == 0
    assert project.tables() == [f"{project.prefix}schema_versions"]
    states = applied_states(
        project.cli("migrate", "status", "--history-table", "schema_versions").out
    )
    assert states == {"0001": "applied"}
    # Another history table knows nothing of it.
    assert applied_states(project.cli("migrate", "status").out) == {"0001": "pending"}


# --- help -----------------------------------------------------------------------------


HELP = [
    (
        [],
        [
            "migrate",
            "schema",
            "generate",
            "demo",
            "--version",
            "DYNAMORM_ENDPOINT_URL",
            "DYNAMORM_TABLE_PREFIX",
            "DYNAMORM_MIGRATIONS",
        ],
    ),
    (["migrate"], ["up", "down", "status", "unlock", "new", "a first migration, step by step"]),
    (
        ["migrate", "up"],
        [
            "--to",
            "--dry-run",
            "--allow-changed",
            "--endpoint-url",
            "--region",
            "--profile",
            "--table-prefix",
            "--local",
            "--migrations",
            "--history-table",
        ],
    ),
    (["migrate", "down"], ["--to", "--all", "--dry-run", "--endpoint-url", "--migrations"]),
    (
        ["migrate", "status"],
        ["--endpoint-url", "--migrations", "--history-table", "pending", "applied"],
    ),
    (["migrate", "unlock"], ["--endpoint-url", "--migrations", "lock"]),
    (["migrate", "new"], ["name", "--from-diff", "MODULE:MAPPER", "--migrations"]),
    (["schema"], ["dump", "diff"]),
    (["schema", "dump"], ["--table", "MODULE", "--format", "yaml", "--table-prefix"]),
    (["schema", "diff"], ["MODULE", "--format", "exits 1", "safe", "data", "breaking"]),
    (["generate"], ["model"]),
    (["generate", "model"], ["--table", "--class-name", "--sample", "--output", "--endpoint-url"]),
    (["demo"], ["--endpoint-url"]),
]


@pytest.mark.parametrize(
    ("argv", "mentions"), HELP, ids=[" ".join(a) or "dynamorm" for a, _ in HELP]
)
def test_help(project, monkeypatch, argv, mentions):
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code in (0, None)
    out = project.capsys.readouterr().out
    assert out.startswith("usage: dynamorm")
    words = " ".join(out.split()).lower()  # argparse wraps the descriptions
    for mention in mentions:
        assert mention.lower() in words, mention


def test_migrate_help_is_enough_for_a_first_migration(project, monkeypatch):
    """The epilog's commands, typed as shown, apply a first migration."""
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit):
        main(["migrate", "--help"])
    out = project.capsys.readouterr().out
    steps = [
        shlex.split(line.split("#")[0])
        for line in out.split("a first migration, step by step:")[1].splitlines()
        if line.strip().startswith("dynamorm ")
    ]
    assert [s[:3] for s in steps] == [
        ["dynamorm", "migrate", "new"],
        ["dynamorm", "migrate", "up"],
        ["dynamorm", "migrate", "up"],
        ["dynamorm", "migrate", "status"],
    ]
    assert steps[0][3:] == ["create products", "--from-diff", "myapp.models:products"]
    assert steps[1][3:] == ["--dry-run"]
    # Typed as shown, with this project's mapper and server (from the environment).
    models = project.write_models()
    monkeypatch.setenv("DYNAMORM_ENDPOINT_URL", project.endpoint)
    monkeypatch.setenv("DYNAMORM_TABLE_PREFIX", project.prefix)
    for step in steps:
        argv = [f"{models}:m" if arg == "myapp.models:products" else arg for arg in step[1:]]
        result = project.run(*argv)
        assert result.code == 0, (step, result.err)
    assert applied_states(result.out) == {"0001": "applied"}
    assert "create products" in result.out


def test_version(project):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code in (0, None)
    assert project.capsys.readouterr().out == f"dynamorm_async {__version__}\n"


# --- environment variables --------------------------------------------------------------


def test_environment_variables_are_honoured(project, monkeypatch):
    models = project.write_models()
    monkeypatch.setenv("DYNAMORM_ENDPOINT_URL", project.endpoint)
    monkeypatch.setenv("DYNAMORM_TABLE_PREFIX", project.prefix)
    monkeypatch.setenv("DYNAMORM_MIGRATIONS", "db/versions")
    made = project.run("migrate", "new", "create", "--from-diff", f"{models}:m")
    assert made.code == 0, made.err
    assert made.out.strip() == "wrote db/versions/0001_create.py"
    assert (project.path / "db" / "versions" / "0001_create.py").exists()

    ran = project.run("migrate", "up")
    assert ran.code == 0, ran.err
    assert project.tables() == sorted(
        [f"{project.prefix}widgets", f"{project.prefix}dynamorm_migrations"]
    )
    assert project.run("schema", "diff", models).code == 0
    assert applied_states(project.run("migrate", "status").out) == {"0001": "applied"}
    # Options win over the environment.
    other = project.run("schema", "diff", models, "--table-prefix", "elsewhere-")
    assert other.code == 1
    assert "elsewhere-widgets: 1 change(s)" in other.out


def test_history_table_and_region_from_the_environment(project, monkeypatch):
    project.noop_migration("0001")
    monkeypatch.setenv("DYNAMORM_HISTORY_TABLE", "versions_env")
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("DYNAMORM_REGION", LOCAL_CREDENTIALS["region_name"])
    assert project.cli("migrate", "up").code == 0
    assert project.tables() == [f"{project.prefix}versions_env"]


def test_dynamorm_local_needs_one_of_the_true_words(monkeypatch):
    from dynamorm_async.cli._main import _parser

    for value, expected in [("1", True), ("yes", True), ("TRUE", True), ("0", False), ("", False)]:
        monkeypatch.setenv("DYNAMORM_LOCAL", value)
        assert _parser().parse_args(["migrate", "status"]).local is expected


# --- --local --------------------------------------------------------------------------


def test_local_runs_against_a_fresh_embedded_server(project):
    models = project.write_models()
    project.write_migration(
        "0001_create.py",
        f"""\
        from dynamorm_async.migrations import Migration

        from {models} import m


        async def up(ctx):
            await ctx.schema.create(m)
            assert await ctx.schema.exists(m)


        migration = Migration("0001", up, description="create widgets")
        """,
    )
    result = project.run("migrate", "up", "--local", "--table-prefix", project.prefix)
    assert result.code == 0, result.err
    assert re.match(r"ran up 0001 \(\d+ ms\)$", result.out)
    assert re.search(r"using a fresh embedded DynamoDB at http://127\.0\.0\.1:\d+", result.err)
    assert project.endpoint not in result.err


@pytest.mark.xfail(
    strict=True,
    reason="the embedded server is moto's ThreadedMotoServer, whose state is moto's "
    "process-global backends: a 'fresh' --local server (or local_dynamodb()) started in a "
    "process that has used another one already holds its tables and history",
)
@pytest.mark.moto_only
def test_local_is_fresh_even_in_a_process_that_used_another_server(project):
    project.write_migration(
        "0001_nothing.py",
        """\
        from dynamorm_async.migrations import Migration

        async def up(ctx):
            pass

        migration = Migration("0001", up)
        """,
    )
    assert project.cli("migrate", "up").code == 0  # on the test session's server
    result = project.run("migrate", "up", "--local", "--table-prefix", project.prefix)
    assert result.code == 0, result.err
    assert result.out.startswith("ran up 0001 (")  # not "nothing to do"


# --- colours --------------------------------------------------------------------------


def test_colours_only_on_a_terminal_and_never_with_no_color(project, monkeypatch):
    models = project.write_models()
    assert project.cli("migrate", "new", "create", "--from-diff", f"{models}:m").code == 0
    assert project.cli("migrate", "up").code == 0
    project.noop_migration("0002", "later")
    project.write_models(models, indexed=True)
    commands = [["migrate", "status"], ["schema", "diff", models], ["migrate", "up", "--dry-run"]]

    # Captured output is not a terminal: plain text.
    for argv in commands:
        result = project.cli(*argv)
        assert "\x1b" not in result.out + result.err, argv

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    status = project.cli("migrate", "status")
    assert "\x1b[32mapplied\x1b[0m" in status.out
    assert "\x1b[33mpending\x1b[0m" in status.out
    assert applied_states(ANSI.sub("", status.out)) == {"0001": "applied", "0002": "pending"}
    diff = project.cli("schema", "diff", models)
    assert "[\x1b[32msafe\x1b[0m]" in diff.out

    monkeypatch.setenv("NO_COLOR", "1")
    for argv in commands:
        result = project.cli(*argv)
        assert "\x1b" not in result.out + result.err, argv
    assert applied_states(project.cli("migrate", "status").out) == {
        "0001": "applied",
        "0002": "pending",
    }


# --- the installed command --------------------------------------------------------------


def test_the_console_script(project):
    """The installed ``dynamorm`` command: its version, an error, a real command."""
    scripts = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    command = shutil.which("dynamorm", path=scripts)
    assert command is not None, "the dynamorm console script is not installed"

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [command, *argv],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=project.path,
        )

    version = run("--version")
    assert (version.returncode, version.stdout) == (0, f"dynamorm_async {__version__}\n")
    as_module = subprocess.run(
        [sys.executable, "-m", "dynamorm_async", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (as_module.returncode, as_module.stdout) == (0, version.stdout)

    # An error: its message, exit code 2, no traceback.
    failed = run("schema", "diff", "no_such_module_anywhere", *project.connection)
    assert failed.returncode == 2
    assert failed.stderr.startswith("dynamorm: error: cannot import")
    assert "Traceback" not in failed.stderr

    # A real command against the server; the current directory is importable.
    models = project.write_models()
    diffed = run("schema", "diff", models, *project.connection)
    assert diffed.returncode == 1, diffed.stderr
    assert diffed.stdout == (
        f"{project.prefix}widgets: 1 change(s)\n"
        f'  [safe] table: create table: (none) -> "{project.prefix}widgets"\n'
    )
