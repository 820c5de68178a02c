"""``dynamorm migrate new``'s scaffolding: slug, next_version, literal, migration_source.

The generated modules are compiled, executed against a recording context (so that
``up`` and ``down`` are checked to make exactly the calls of the diff and of its
undo), and given to ``ruff check --select I,F`` and ``ruff format --check``.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import os
import re
import subprocess
import sys
import types
import unicodedata
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynamorm_async import GlobalIndex, Mapper, Projection, TableOptions, Throughput
from dynamorm_async.cli._scaffold import literal, migration_source, next_version, slug
from dynamorm_async.db import Call
from dynamorm_async.db._schema_plan import Change, LiveTable, compare
from dynamorm_async.migrations import Migration


def portable(calls):
    """The calls as a generated migration writes them: without the table's name or ARN,
    which `Schema.apply` fills in for the environment the migration runs in."""
    return [
        attrs.evolve(
            c,
            request={k: v for k, v in c.request.items() if k not in ("TableName", "ResourceArn")},
        )
        for c in calls
    ]


# --- models and hand-written descriptions of live tables --------------------------


@attrs.define
class Item:
    id: str
    category: str = ""
    color: str = ""
    expires: int = 0


ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/items"


def described(**extra: Any) -> dict[str, Any]:
    """DescribeTable's ``Table`` for an on-demand ``items`` table keyed by ``id``."""
    table: dict[str, Any] = {
        "TableName": "items",
        "TableArn": ARN,
        "TableStatus": "ACTIVE",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "ProvisionedThroughput": {
            "NumberOfDecreasesToday": 0,
            "ReadCapacityUnits": 0,
            "WriteCapacityUnits": 0,
        },
        "ItemCount": 0,
    }
    table.update(extra)
    return table


BY_COLOR_LIVE = {
    "IndexName": "by-color",
    "IndexStatus": "ACTIVE",
    "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"}],
    "Projection": {"ProjectionType": "KEYS_ONLY"},
    "ProvisionedThroughput": {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": 0,
        "WriteCapacityUnits": 0,
    },
}
WITH_COLOR_DEFINITIONS = [
    {"AttributeName": "id", "AttributeType": "S"},
    {"AttributeName": "color", "AttributeType": "S"},
]

plain = Mapper(Item, table="items", partition_key="id")
by_category = Mapper(
    Item, table="items", partition_key="id", indexes=[GlobalIndex("by-category", "category")]
)
by_color_all = Mapper(
    Item, table="items", partition_key="id", indexes=[GlobalIndex("by-color", "color")]
)
configured = Mapper(
    Item,
    table="items",
    partition_key="id",
    ttl_attribute="expires",
    options=TableOptions(
        billing_mode="PROVISIONED",
        throughput=Throughput(5, 5),
        stream="NEW_IMAGE",
        tags={"team": "search", "cost-centre": "42"},
        deletion_protection=True,
    ),
)
two_indexes = Mapper(
    Item,
    table="items",
    partition_key="id",
    indexes=[
        GlobalIndex("by-color", "color"),
        GlobalIndex("by-category", "category", projection=Projection.keys_only()),
    ],
)
provisioned = Mapper(
    Item,
    table="items",
    partition_key="id",
    options=TableOptions(billing_mode="PROVISIONED", throughput=Throughput(10, 4)),
)

_modules = itertools.count(1)


# --- running a generated migration --------------------------------------------------


class RecordingSchema:
    """Stands for ``ctx.schema``: records each call as ``(method, *args)``."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __getattr__(self, method: str) -> Any:
        async def record(*args: Any, **kwargs: Any) -> None:
            assert not kwargs, (method, kwargs)
            self.calls.append((method, *(list(a) if isinstance(a, list) else a for a in args)))

        return record


@attrs.define
class Generated:
    source: str
    migration: Migration
    namespace: dict[str, Any]

    async def run(self, direction: str) -> list[tuple[Any, ...]]:
        schema = RecordingSchema()
        step = self.migration.up if direction == "up" else self.migration.down
        assert step is not None
        await step(types.SimpleNamespace(schema=schema))
        return schema.calls


@pytest.fixture
def generate(monkeypatch):
    """``generate(version, name, changes, mapper)``: the source, compiled and executed.

    The mapper is put in a fresh importable module that the migration imports.
    """

    def run(version: str, name: str, changes: Any, mapper: Mapper[Any]) -> Generated:
        module_name = f"scaffold_models_{os.getpid()}_{next(_modules)}"
        module = types.ModuleType(module_name)
        module.products = mapper  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, module_name, module)
        source = migration_source(version, name, changes, mapper=(module_name, "products"))
        namespace: dict[str, Any] = {"__name__": f"migration_{module_name}"}
        exec(compile(source, f"{version}.py", "exec"), namespace)
        [migration] = [v for v in namespace.values() if isinstance(v, Migration)]
        assert namespace["migration"] is migration
        assert migration.version == version
        assert migration.description == name
        return Generated(source, migration, namespace)

    return run


# --- ruff over generated files ------------------------------------------------------


@pytest.fixture(scope="module")
def ruff():
    """``ruff(folder, *args)``: runs ``python -m ruff`` there with default settings."""
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed in this environment (pip install ruff)")

    def run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--isolated", "--no-cache", "."],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


def assert_ruff_accepts(ruff, folder: Path) -> None:
    """`folder`'s modules pass ``ruff check --select I,F`` and ``ruff format --check``."""
    checked = ruff(folder, "check", "--select", "I,F")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = ruff(folder, "format", "--check")
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    diff = ruff(folder, "format", "--diff")  # say how, when it does not
    assert diff.returncode == 0, diff.stdout + diff.stderr


def write_project(folder: Path, sources: dict[str, str], mapper_module: str = "models") -> None:
    """The migrations in a project folder, with the application module they import."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{mapper_module}.py").write_text("products = object()\n")
    for name, source in sources.items():
        (folder / name).write_text(source)


# --- slug ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Add index!", "add_index"),
        ("index products by category", "index_products_by_category"),
        ("  --create  THE   table--  ", "create_the_table"),
        ("v2: orders/customers (take 3)", "v2_orders_customers_take_3"),
        ("CamelCase", "camelcase"),
        ("café crème", "caf_cr_me"),
        ("", "migration"),
        ("!!!", "migration"),
        ("ÉÉÉ", "migration"),
    ],
)
def test_slug(name, expected):
    assert slug(name) == expected


def test_slug_is_at_most_60_characters():
    assert slug("x" * 200) == "x" * 60
    assert slug("word " * 40).startswith("word_word_")
    assert len(slug("word " * 40)) <= 60


@given(st.text())
def test_slug_is_always_a_safe_file_name(name):
    assert re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", slug(name))
    assert len(slug(name)) <= 60


def test_slug_cut_does_not_end_with_an_underscore():
    assert slug("a" * 59 + " more words") == "a" * 59


# --- next_version -------------------------------------------------------------------


def test_next_version_of_a_missing_folder(tmp_path):
    assert next_version(tmp_path / "nope") == "0001"
    assert not (tmp_path / "nope").exists()  # not created by asking


def test_next_version_of_an_empty_folder(tmp_path):
    assert next_version(tmp_path) == "0001"


def test_next_version_of_a_path_that_is_a_file(tmp_path):
    path = tmp_path / "migrations"
    path.write_text("")
    assert next_version(path) == "0001"


def test_next_version_follows_the_highest_despite_gaps(tmp_path):
    for name in ("0001_create.py", "0003_index.py", "0002_backfill.py", "0007_last.py"):
        (tmp_path / name).write_text("")
    assert next_version(tmp_path) == "0008"


def test_next_version_ignores_files_that_are_not_numbered_modules(tmp_path):
    (tmp_path / "0002_create.py").write_text("")
    for name in (
        "__init__.py",
        "_helpers.py",
        "helpers.py",
        "v9_old.py",
        "0099x_typo.py",
        "0050_notes.txt",
        "0070_data.py.bak",
        "0060.py",  # no "_": the whole "0060.py" is not a number
    ):
        (tmp_path / name).write_text("")
    (tmp_path / "0080_package").mkdir()
    assert next_version(tmp_path) == "0003"


def test_next_version_compares_numbers_not_strings(tmp_path):
    for name in ("9_a.py", "10_b.py", "0002_c.py"):
        (tmp_path / name).write_text("")
    assert next_version(tmp_path) == "0011"


def test_next_version_grows_past_four_digits(tmp_path):
    (tmp_path / "9999_a.py").write_text("")
    assert next_version(tmp_path) == "10000"
    (tmp_path / "123456_b.py").write_text("")
    assert next_version(tmp_path) == "123457"


# --- literal ------------------------------------------------------------------------

# JSON-like data, as DynamoDB requests are: any text (no lone surrogates: they cannot
# be written to a file), numbers, booleans, None, lists, dicts.
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


def _narrow(char: str) -> bool:
    return unicodedata.east_asian_width(char) not in ("W", "F")


# ruff measures lines in display columns: a wide character takes two (see the xfail).
_narrow_text = st.text(
    st.characters(exclude_categories=("Cs",)).filter(_narrow),
    max_size=30,
)


def json_like(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | text
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=6) | st.dictionaries(text, children, max_size=6)
        ),
        max_leaves=40,
    )


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -12,
        1.5,
        "",
        "it's",
        [],
        {},
        [1, "a", None],
        {"TableName": "items", "BillingMode": "PAY_PER_REQUEST"},
        {"a": [{"b": [1, 2]}, {}], "c": False},
    ],
)
def test_literal_of_small_values_is_one_line(value):
    source = literal(value)
    assert "\n" not in source
    assert ast.literal_eval(source) == value


def test_literal_writes_double_quoted_strings():
    assert literal({"k": "v"}) == '{"k": "v"}'
    assert literal(["it's"]) == '["it\'s"]'


def test_literal_explodes_what_does_not_fit():
    request = {
        "TableName": "items",
        "GlobalSecondaryIndexUpdates": [
            {"Create": {"IndexName": "by-category", "Projection": {"ProjectionType": "ALL"}}}
        ],
        "Small": {"a": 1},
    }
    source = literal(request)
    lines = source.splitlines()
    assert lines[0] == "{"
    assert lines[-1] == "}"
    assert '    "TableName": "items",' in lines
    assert '    "Small": {"a": 1},' in lines  # a small nested value stays on one line
    assert all(len(line) <= 88 for line in lines)
    assert all(line.endswith((",", "{", "[")) for line in lines[:-1])  # trailing commas
    assert ast.literal_eval(source) == request


def test_literal_respects_indent_start_and_width():
    value = {"alpha": "a" * 10, "beta": ["b" * 10, "c" * 10]}
    flat = literal(value)
    assert "\n" not in flat
    assert literal(value, width=len(flat) + 1) == flat
    exploded = literal(value, width=len(flat))  # the trailing comma no longer fits
    assert exploded.startswith("{\n")
    assert literal(value, indent=8, width=60).splitlines()[-1] == " " * 8 + "}"
    nested = literal(value, indent=8, width=60).splitlines()
    assert nested[1].startswith(" " * 12 + '"alpha"')
    # `start` is where the value begins on its line; `indent` where its lines start.
    assert "\n" not in literal(value, indent=0, width=len(flat) + 11, start=10)
    assert "\n" in literal(value, indent=0, width=len(flat) + 10, start=10)


def test_a_scalar_that_is_too_long_is_left_on_its_line():
    assert literal("x" * 200, width=20) == '"' + "x" * 200 + '"'
    assert literal(["x" * 200], width=20) == '[\n    "' + "x" * 200 + '",\n]'


@settings(max_examples=300, deadline=None)
@given(
    json_like(_text),
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=20, max_value=120),
)
def test_literal_evaluates_back_to_the_value(value, indent, extra, width):
    source = literal(value, indent, width, start=indent + extra)
    assert ast.literal_eval(source) == value
    if "\n" in source:
        assert isinstance(value, (dict, list))
        assert source.splitlines()[-1] == " " * indent + ("}" if isinstance(value, dict) else "]")


def test_literal_keeps_characters_outside_the_bmp():
    assert ast.literal_eval(literal({"Value": "launch 🚀"})) == {"Value": "launch 🚀"}


def test_a_migration_description_keeps_characters_outside_the_bmp():
    namespace: dict[str, Any] = {}
    exec(compile(migration_source("0001", "launch 🚀"), "0001.py", "exec"), namespace)
    assert namespace["migration"].description == "launch 🚀"


def test_literal_output_is_what_ruff_format_writes(tmp_path, ruff):
    """Many generated values, one ruff run: each module is left as it is."""
    sources: list[str] = []

    @settings(
        max_examples=120,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(json_like(_narrow_text), st.integers(min_value=0, max_value=3))
    def collect(value, depth):
        # The value as a call's argument `depth` levels deep, as in a migration.
        pad = " " * 4 * depth
        lines = [f"{' ' * 4 * level}def f{level}():" for level in range(depth)]
        head = f"{pad}x = " if depth else "x = "
        lines.append(head + literal(value, len(pad), 88, start=len(head)))
        sources.append("\n".join(lines) + "\n")

    collect()
    for number, source in enumerate(sources):
        (tmp_path / f"value_{number:03d}.py").write_text(source)
    formatted = ruff(tmp_path, "format", "--check")
    assert formatted.returncode == 0, ruff(tmp_path, "format", "--diff").stdout


@pytest.mark.parametrize(
    "text",
    ['say "hi"', "it's", """it's "quoted\"""", '\\"', "'\\'", "a \"b\" 'c'"],
)
def test_literal_quotes_strings_as_ruff_format_does(text):
    # Double quotes, unless the text has more of them than single quotes.
    source = literal(text)
    assert ast.literal_eval(source) == text
    single = text.count('"') > text.count("'")
    assert source[0] == ("'" if single else '"')


def test_literal_strings_with_quotes_are_ruff_formatted(tmp_path, ruff):
    texts = ['say "hi"', "it's", "a \"b\" 'c'", '\\"x"', 'tab\t"q"']
    (tmp_path / "quotes.py").write_text(
        "".join(f"x{n} = {literal({'Value': t})}\n" for n, t in enumerate(texts))
    )
    assert ruff(tmp_path, "format", "--check").returncode == 0, ruff(
        tmp_path, "format", "--diff"
    ).stdout


def test_wide_characters_count_twice_as_ruff_counts_them(tmp_path, ruff):
    value = {"Key": "表" * 20, "Value": "値" * 20, "Other": "x"}
    source = "x = " + literal(value, 0, 88, start=4) + "\n"
    assert len(source.splitlines()[0]) <= 88  # fits by len()
    (tmp_path / "wide.py").write_text(source)
    assert ruff(tmp_path, "format", "--check").returncode == 0


def test_an_empty_container_that_does_not_fit_stays_empty():
    source = literal({"k" * 90: {}})
    assert source == "{\n    " + '"' + "k" * 90 + '": {},\n}'


def test_floats_are_written_as_ruff_writes_them(tmp_path, ruff):
    (tmp_path / "floats.py").write_text("x = " + literal([1e16, 2.5e-10]) + "\n")
    assert ruff(tmp_path, "format", "--check").returncode == 0


def test_the_blank_skeleton_passes_ruff(tmp_path, ruff):
    write_project(tmp_path, {"0001_blank.py": migration_source("0001", "a blank one")})
    assert_ruff_accepts(ruff, tmp_path)


# --- migration_source: blank ---------------------------------------------------------


def test_blank_skeleton_defines_a_reversible_migration():
    source = migration_source("0001", "create products")
    namespace: dict[str, Any] = {}
    exec(compile(source, "0001_create_products.py", "exec"), namespace)
    migration = namespace["migration"]
    assert isinstance(migration, Migration)
    assert migration.version == "0001"
    assert migration.description == "create products"
    assert migration.down is not None
    assert source.startswith('"""create products."""\n')
    assert "async def up(ctx: MigrationContext) -> None:" in source
    assert "async def down(ctx: MigrationContext) -> None:" in source
    assert "import Call" not in source


async def test_blank_skeleton_steps_raise_until_written():
    """Applied as it is, a skeleton fails rather than being recorded as applied."""
    namespace: dict[str, Any] = {}
    exec(compile(migration_source("0001", "x"), "0001.py", "exec"), namespace)
    context = types.SimpleNamespace(schema=RecordingSchema())
    with pytest.raises(NotImplementedError):
        await namespace["up"](context)
    with pytest.raises(NotImplementedError):
        await namespace["down"](context)
    assert context.schema.calls == []


def test_blank_skeleton_imports_as_a_module_file(tmp_path, monkeypatch):
    """Written to a file, it imports as `discover` would import it."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    path = tmp_path / "0001_first.py"
    path.write_text(migration_source("0001", "first"))
    spec = importlib.util.spec_from_file_location(f"scaffold_blank_{os.getpid()}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.migration.version == "0001"


def test_changes_without_a_mapper_give_the_blank_skeleton():
    changes = compare(plain, "items", None).changes
    assert migration_source("0003", "x", changes) == migration_source("0003", "x")
    assert migration_source("0003", "x", (), mapper=("m", "p")) == migration_source("0003", "x")


@pytest.mark.parametrize(
    "name",
    [
        'say "hello"',
        'three """ quotes',
        "back\\slash\\",
        "ends with a dot.",
        "multi\nline\tname",
        "  ",
        "",
        "it's",
    ],
)
def test_awkward_names_still_compile(name):
    source = migration_source("0002", name)
    namespace: dict[str, Any] = {}
    exec(compile(source, "0002.py", "exec"), namespace)
    assert namespace["migration"].description == name
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring
    assert "\n" not in docstring
    assert docstring.endswith(".")


@settings(max_examples=150, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0")))
def test_any_name_gives_a_module_that_compiles(name):
    # (A NUL cannot come from a command line.)
    namespace: dict[str, Any] = {}
    exec(compile(migration_source("0001", name), "0001.py", "exec"), namespace)
    assert namespace["migration"].description == name


# --- migration_source: from a diff ---------------------------------------------------


async def test_create_table(generate):
    diff = compare(configured, "items", None)
    assert [c.kind for c in diff.changes] == ["create_table"]
    made = generate("0001", "create items", diff.changes, configured)
    assert "await ctx.schema.create(products)" in made.source
    assert "import Call" not in made.source
    assert await made.run("up") == [("create", configured)]
    assert await made.run("down") == [("delete", configured)]


async def test_add_index(generate):
    diff = compare(by_category, "items", LiveTable(described()))
    assert [(c.kind, c.severity) for c in diff.changes] == [("add_index", "safe")]
    made = generate("0002", "index items by category", diff.changes, by_category)
    assert 'await ctx.schema.add_index(products, "by-category")' in made.source
    assert await made.run("up") == [("add_index", by_category, "by-category")]
    assert await made.run("down") == [("drop_index", by_category, "by-category")]


async def test_drop_index_is_undone_by_recreating_it_as_it_was(generate):
    live = LiveTable(
        described(
            GlobalSecondaryIndexes=[BY_COLOR_LIVE], AttributeDefinitions=WITH_COLOR_DEFINITIONS
        )
    )
    diff = compare(plain, "items", live)
    [change] = diff.changes
    assert (change.kind, change.severity) == ("drop_index", "safe")
    made = generate("0003", "drop by-color", diff.changes, plain)
    assert "from dynamorm_async.db import Call" in made.source
    assert made.namespace["Call"] is Call
    assert await made.run("up") == [("drop_index", plain, "by-color")]
    [(method, mapper, calls)] = await made.run("down")
    assert (method, mapper) == ("apply", plain)
    assert calls == portable(change.undo)
    [call] = calls
    assert call.operation == "UpdateTable"
    create = call.request["GlobalSecondaryIndexUpdates"][0]["Create"]
    assert create["IndexName"] == "by-color"
    assert create["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert call.request["AttributeDefinitions"] == [
        {"AttributeName": "color", "AttributeType": "S"}
    ]


async def test_table_settings_are_applied_and_undone_by_exact_calls(generate):
    live = LiveTable(described(), ttl={"TimeToLiveStatus": "DISABLED"}, tags={"team": "web"})
    diff = compare(configured, "items", live)
    kinds = [c.kind for c in diff.changes]
    assert sorted(kinds) == ["billing", "deletion_protection", "stream", "tags", "ttl"]
    assert all(c.severity == "safe" and c.undo for c in diff.changes)
    made = generate("0004", "configure items", diff.changes, configured)
    for change in diff.changes:
        assert f"# {change.description}" in made.source
    assert await made.run("up") == [("apply", configured, portable(c.calls)) for c in diff.changes]
    # Undone newest first.
    assert await made.run("down") == [
        ("apply", configured, portable(c.undo)) for c in reversed(diff.changes)
    ]
    undo = {c.kind: c.undo for c in diff.changes}
    assert undo["billing"] == (
        Call("UpdateTable", {"TableName": "items", "BillingMode": "PAY_PER_REQUEST"}),
    )
    assert undo["stream"] == (
        Call(
            "UpdateTable", {"TableName": "items", "StreamSpecification": {"StreamEnabled": False}}
        ),
    )
    assert undo["deletion_protection"] == (
        Call("UpdateTable", {"TableName": "items", "DeletionProtectionEnabled": False}),
    )
    assert undo["ttl"] == (
        Call(
            "UpdateTimeToLive",
            {
                "TableName": "items",
                "TimeToLiveSpecification": {"Enabled": False, "AttributeName": "expires"},
            },
            wait=False,
        ),
    )
    # The new tag is removed, the changed one put back.
    assert undo["tags"] == (
        Call("UntagResource", {"ResourceArn": ARN, "TagKeys": ["cost-centre"]}, wait=False),
        Call(
            "TagResource",
            {"ResourceArn": ARN, "Tags": [{"Key": "team", "Value": "web"}]},
            wait=False,
        ),
    )
    assert "wait=False" in made.source


async def test_throughput_change_is_undone_to_the_live_units(generate):
    live = LiveTable(
        described(
            BillingModeSummary={"BillingMode": "PROVISIONED"},
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 2},
        )
    )
    diff = compare(provisioned, "items", live)
    [change] = diff.changes
    assert change.kind == "throughput"
    made = generate("0005", "more capacity", diff.changes, provisioned)
    [(_, _, up_calls)] = await made.run("up")
    [(_, _, down_calls)] = await made.run("down")
    assert up_calls == [
        Call(
            "UpdateTable",
            {
                "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 4},
            },
        )
    ]
    assert down_calls == [
        Call(
            "UpdateTable",
            {
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 2},
            },
        )
    ]


async def test_billing_from_provisioned_is_undone_with_its_units(generate):
    live = LiveTable(
        described(
            BillingModeSummary={"BillingMode": "PROVISIONED"},
            ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 3},
        )
    )
    diff = compare(plain, "items", live)
    [change] = diff.changes
    assert change.kind == "billing"
    made = generate("0006", "on demand", diff.changes, plain)
    [(_, _, down_calls)] = await made.run("down")
    assert down_calls == portable(change.undo)
    assert down_calls[0].request["BillingMode"] == "PROVISIONED"


async def test_a_setting_that_cannot_be_undone_leaves_no_down(generate):
    # A table provisioned before on-demand existed, with no units reported: no undo.
    live = LiveTable(described(BillingModeSummary=None, ProvisionedThroughput=None))
    diff = compare(plain, "items", live)
    [change] = diff.changes
    assert change.kind == "billing"
    assert change.undo is None
    made = generate("0007", "on demand", diff.changes, plain)
    assert made.migration.down is None
    assert "async def down" not in made.source
    assert await made.run("up") == [("apply", plain, portable(change.calls))]


async def test_replace_index_is_a_commented_data_change_without_down(generate):
    live = LiveTable(
        described(
            GlobalSecondaryIndexes=[BY_COLOR_LIVE], AttributeDefinitions=WITH_COLOR_DEFINITIONS
        )
    )
    diff = compare(by_color_all, "items", live)
    [change] = diff.changes
    assert (change.kind, change.severity) == ("replace_index", "data")
    made = generate("0008", "project everything", diff.changes, by_color_all)
    assert f"# DATA: {change.description}" in made.source
    assert 'await ctx.schema.replace_index(products, "by-color")' in made.source
    assert made.migration.down is None
    assert "async def down" not in made.source
    assert ", up, None, description=" in made.source
    assert await made.run("up") == [("replace_index", by_color_all, "by-color")]


async def test_breaking_change_raises_until_written(generate):
    live = LiveTable(
        described(
            KeySchema=[
                {"AttributeName": "id", "KeyType": "HASH"},
                {"AttributeName": "color", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=WITH_COLOR_DEFINITIONS,
        )
    )
    diff = compare(plain, "items", live)
    [change] = diff.changes
    assert (change.kind, change.severity) == ("key_schema", "breaking")
    made = generate("0009", "rekey", diff.changes, plain)
    assert f"# BREAKING: {change.description}" in made.source
    assert "copy_table(products, new_mapper, transform)" in made.source
    assert made.migration.down is None
    with pytest.raises(NotImplementedError, match="breaking change"):
        await made.run("up")


async def test_a_breaking_change_among_safe_ones_leaves_no_down(generate):
    live = LiveTable(
        described(
            KeySchema=[
                {"AttributeName": "id", "KeyType": "HASH"},
                {"AttributeName": "color", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=WITH_COLOR_DEFINITIONS,
        )
    )
    diff = compare(by_category, "items", live)
    assert [c.severity for c in diff.changes] == ["breaking", "safe"]
    made = generate("0010", "mixed", diff.changes, by_category)
    assert made.migration.down is None
    # The breaking change comes first and raises before anything is sent.
    schema = RecordingSchema()
    with pytest.raises(NotImplementedError):
        await made.migration.up(types.SimpleNamespace(schema=schema))
    assert schema.calls == []


def test_long_calls_are_laid_out_within_88_columns():
    live = LiveTable(
        described(
            GlobalSecondaryIndexes=[BY_COLOR_LIVE], AttributeDefinitions=WITH_COLOR_DEFINITIONS
        )
    )
    source = migration_source(
        "0003", "drop", compare(plain, "items", live).changes, mapper=("m", "p")
    )
    assert max(len(line) for line in source.splitlines()) <= 88


# --- the generated modules pass ruff ------------------------------------------------


def _diff_sources() -> dict[str, tuple[Mapper[Any], tuple[Change, ...]]]:
    color_live = described(
        GlobalSecondaryIndexes=[BY_COLOR_LIVE], AttributeDefinitions=WITH_COLOR_DEFINITIONS
    )
    rekeyed = described(
        KeySchema=[
            {"AttributeName": "id", "KeyType": "HASH"},
            {"AttributeName": "color", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=WITH_COLOR_DEFINITIONS,
    )
    long_name = "items-" + "x" * 60
    return {
        "create": (configured, compare(configured, "items", None).changes),
        "add_index": (by_category, compare(by_category, "items", LiveTable(described())).changes),
        "drop_index": (plain, compare(plain, "items", LiveTable(color_live)).changes),
        "settings": (
            configured,
            compare(
                configured,
                "items",
                LiveTable(described(), ttl={"TimeToLiveStatus": "DISABLED"}, tags={"team": "a"}),
            ).changes,
        ),
        "throughput": (
            provisioned,
            compare(
                provisioned,
                "items",
                LiveTable(
                    described(
                        BillingModeSummary={"BillingMode": "PROVISIONED"},
                        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                    )
                ),
            ).changes,
        ),
        "long_names": (
            configured,
            compare(
                configured,
                long_name,
                LiveTable(described(TableName=long_name, TableArn=ARN + "x" * 60)),
            ).changes,
        ),
        "replace_index": (
            by_color_all,
            compare(by_color_all, "items", LiveTable(color_live)).changes,
        ),
        "add_and_replace": (
            two_indexes,
            compare(two_indexes, "items", LiveTable(color_live)).changes,
        ),
        "breaking_and_safe": (
            by_category,
            compare(by_category, "items", LiveTable(rekeyed)).changes,
        ),
    }


def test_generated_migrations_pass_ruff(tmp_path, ruff):
    cases = _diff_sources()
    sources = {"0000_blank.py": migration_source("0000", 'a "blank" one, it\'s 🚀')}
    for number, (name, (_, changes)) in enumerate(cases.items(), start=1):
        assert changes, name
        sources[f"{number:04d}_{name}.py"] = migration_source(
            f"{number:04d}", f'{name}: "quoted" 🚀', changes, mapper=("models", "products")
        )
    write_project(tmp_path, sources)
    assert_ruff_accepts(ruff, tmp_path)


def test_a_breaking_only_migration_passes_ruff_check(tmp_path, ruff):
    rekeyed = described(
        KeySchema=[
            {"AttributeName": "id", "KeyType": "HASH"},
            {"AttributeName": "color", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=WITH_COLOR_DEFINITIONS,
    )
    changes = compare(plain, "items", LiveTable(rekeyed)).changes
    source = migration_source("0001", "rekey", changes, mapper=("models", "products"))
    write_project(tmp_path, {"0001_rekey.py": source})
    checked = ruff(tmp_path, "check", "--select", "I,F")
    assert checked.returncode == 0, checked.stdout
