"""`Migration` validation, version order, `ordered` and `discover` (folders, packages)."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import sys
import textwrap
import types
from pathlib import Path

import pytest

from dynamorm_async.errors import MigrationError
from dynamorm_async.migrations import Migration, discover, version_order
from dynamorm_async.migrations._migration import ordered


async def _step(ctx) -> None:  # pragma: no cover - never run here
    pass


_packages = itertools.count(1)


@pytest.fixture(autouse=True)
def _no_bytecode(monkeypatch):
    # Files are rewritten within one second: a cached .pyc could shadow the edit.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)


@pytest.fixture
def package_name(monkeypatch, tmp_path):
    """A unique importable package name under tmp_path; its modules are unloaded after."""
    name = f"migpkg_{os.getpid()}_{next(_packages)}"
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def migration_module(*versions: str, extra: str = "") -> str:
    """Source of a module defining one `Migration` per version."""
    lines = [
        "from dynamorm_async.migrations import Migration",
        "",
        "async def up(ctx):",
        "    pass",
        "",
        "async def down(ctx):",
        "    pass",
        "",
    ]
    for number, version in enumerate(versions):
        lines.append(
            f"m{number} = Migration({version!r}, up, down, description='migration {version}')"
        )
    return "\n".join(lines) + "\n" + textwrap.dedent(extra)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- Migration validation -----------------------------------------------------------


@pytest.mark.parametrize(
    "version",
    ["1", "0001", "2026_11_26_add-index", "v1.2.3", "A", "x" * 100, "9-beta_2.x"],
)
def test_valid_versions(version):
    migration = Migration(version, _step)
    assert migration.version == version
    assert migration.down is None
    assert migration.description == ""
    assert migration.checksum is None
    assert migration.source is None


@pytest.mark.parametrize(
    "version",
    [
        "",
        "#lock",
        "#checkpoint#x",
        "-1",
        "_1",
        ".1",
        "a b",
        "1/2",
        "é1",
        "x" * 101,
        "1\n",
        12,
        None,
        b"0001",
    ],
)
def test_invalid_versions_raise(version):
    with pytest.raises(MigrationError, match="version"):
        Migration(version, _step)


@pytest.mark.parametrize("up", [None, "up", 3, object()])
def test_non_callable_up_raises(up):
    with pytest.raises(MigrationError, match="up must be") as info:
        Migration("0001", up)
    assert info.value.version == "0001"


@pytest.mark.parametrize("down", ["down", 3, object()])
def test_non_callable_down_raises(down):
    with pytest.raises(MigrationError, match="down must be") as info:
        Migration("0001", _step, down)
    assert info.value.version == "0001"


def test_down_may_be_none_and_migration_is_frozen():
    migration = Migration("0001", _step, None, description="d")
    assert migration.down is None
    with pytest.raises(AttributeError):
        migration.version = "0002"  # type: ignore[misc]


# --- version order ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("2", "10"),
        ("0002", "0010"),
        ("0009", "10"),
        ("9", "0010"),
        ("1.9", "1.10"),
        ("v2", "v10"),
        ("2026_01_02_a", "2026_01_10_a"),
        ("2026_11_26_a", "2026_11_26_b"),
        ("1", "1_a"),  # a prefix sorts first
        ("1", "a"),  # digit runs before text at the same position
        ("10", "a"),
        ("a2", "b1"),
        ("release2", "release10"),
    ],
)
def test_version_order(low, high):
    assert version_order(low) < version_order(high)
    assert version_order(high) > version_order(low)


def test_version_order_leading_zeros_compare_as_numbers():
    assert version_order("0002") == version_order("2")
    assert version_order("0010") == version_order("10")


def test_version_order_sorts_a_list():
    versions = ["10", "0002", "1", "a", "1.10", "1.9", "v10", "v2", "0011"]
    assert sorted(versions, key=version_order) == [
        "1",
        "1.9",
        "1.10",
        "0002",
        "10",
        "0011",
        "a",
        "v2",
        "v10",
    ]


# --- ordered ------------------------------------------------------------------------


def test_ordered_sorts_by_version_order():
    migrations = [Migration(v, _step) for v in ("10", "2", "0003", "1")]
    assert [m.version for m in ordered(migrations)] == ["1", "2", "0003", "10"]


def test_ordered_rejects_duplicate_versions():
    migrations = [
        Migration("0002", _step, description="first"),
        Migration("0001", _step),
        Migration("0002", _step, description="second"),
    ]
    with pytest.raises(MigrationError, match="'0002'") as info:
        ordered(migrations)
    assert info.value.version == "0002"
    assert "first" in str(info.value)
    assert "second" in str(info.value)


def test_ordered_rejects_non_migrations():
    with pytest.raises(MigrationError, match="expected a Migration"):
        ordered([Migration("1", _step), "0002"])  # type: ignore[list-item]


def test_ordered_empty():
    assert ordered([]) == []


# --- discover: folders --------------------------------------------------------------


def test_discover_folder(tmp_path):
    (tmp_path / "0002_second.py").write_text(migration_module("0002"))
    (tmp_path / "0010_tenth.py").write_text(migration_module("0010"))
    (tmp_path / "0001_first.py").write_text(migration_module("0001"))
    (tmp_path / "_private.py").write_text(migration_module("0005"))
    (tmp_path / "_helpers.py").write_text("raise RuntimeError('never imported')\n")
    (tmp_path / "notes.txt").write_text("not a module")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "0003_nested.py").write_text(migration_module("0003"))

    found = discover(tmp_path)

    assert [m.version for m in found] == ["0001", "0002", "0010"]
    for migration in found:
        path = next(tmp_path.glob(f"{migration.version}_*.py"))
        assert migration.source == str(path)
        assert migration.checksum == sha256(path.read_bytes())
        assert migration.description == f"migration {migration.version}"
        assert callable(migration.up)
        assert callable(migration.down)


def test_discover_folder_as_string(tmp_path):
    (tmp_path / "0001_first.py").write_text(migration_module("0001"))
    assert [m.version for m in discover(str(tmp_path))] == ["0001"]
    assert [m.version for m in discover(str(tmp_path) + "/")] == ["0001"]


def test_discover_relative_folder_string(tmp_path, monkeypatch):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_first.py").write_text(migration_module("0001"))
    monkeypatch.chdir(tmp_path)
    assert [m.version for m in discover("migrations")] == ["0001"]


def test_discover_module_with_several_migrations(tmp_path):
    path = tmp_path / "many.py"
    path.write_text(migration_module("3", "1", "20"))
    found = discover(tmp_path)
    assert [m.version for m in found] == ["1", "3", "20"]
    assert {m.checksum for m in found} == {sha256(path.read_bytes())}
    assert {m.source for m in found} == {str(path)}


def test_discover_module_without_migrations(tmp_path):
    (tmp_path / "helpers.py").write_text("VALUE = 1\n")
    (tmp_path / "0001_first.py").write_text(migration_module("0001"))
    assert [m.version for m in discover(tmp_path)] == ["0001"]


def test_discover_empty_folder(tmp_path):
    assert discover(tmp_path) == []


def test_discover_duplicate_versions_across_files(tmp_path):
    (tmp_path / "a.py").write_text(migration_module("0001"))
    (tmp_path / "b.py").write_text(migration_module("0001"))
    with pytest.raises(MigrationError, match="two migrations have version '0001'") as info:
        discover(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "a.py") in message
    assert str(tmp_path / "b.py") in message


def test_checksum_normalises_crlf(tmp_path):
    source = migration_module("0001", extra="# a comment\n")
    lf, crlf = tmp_path / "lf", tmp_path / "crlf"
    lf.mkdir()
    crlf.mkdir()
    (lf / "0001_m.py").write_bytes(source.encode())
    (crlf / "0001_m.py").write_bytes(source.replace("\n", "\r\n").encode())
    assert b"\r\n" in (crlf / "0001_m.py").read_bytes()

    [from_lf] = discover(lf)
    [from_crlf] = discover(crlf)

    assert from_lf.checksum == from_crlf.checksum == sha256(source.encode())


def test_checksum_changes_when_the_file_changes(tmp_path):
    path = tmp_path / "0001_m.py"
    path.write_text(migration_module("0001"))
    [before] = discover(tmp_path)
    path.write_text(migration_module("0001", extra="# edited\n"))
    [after] = discover(tmp_path)
    assert before.checksum != after.checksum
    assert after.checksum == sha256(path.read_bytes())
    # The same bytes again: the same checksum.
    path.write_text(migration_module("0001"))
    [again] = discover(tmp_path)
    assert again.checksum == before.checksum


def test_rediscovery_reloads_the_edited_module(tmp_path):
    path = tmp_path / "0001_m.py"
    path.write_text(migration_module("0001"))
    [before] = discover(tmp_path)
    path.write_text(migration_module("0001").replace("migration 0001", "edited 0001"))
    [after] = discover(tmp_path)
    assert before.description == "migration 0001"
    assert after.description == "edited 0001"


def test_discover_folder_import_error_names_the_module(tmp_path):
    (tmp_path / "0001_ok.py").write_text(migration_module("0001"))
    bad = tmp_path / "0002_broken.py"
    bad.write_text("import no_such_module_for_dynamorm_tests\n")
    with pytest.raises(MigrationError, match=re.escape("0002_broken.py")) as info:
        discover(tmp_path)
    assert "no_such_module_for_dynamorm_tests" in str(info.value)
    assert isinstance(info.value.__cause__, ImportError)


def test_discover_folder_error_in_module_body(tmp_path):
    (tmp_path / "0001_raises.py").write_text("raise ValueError('boom at import')\n")
    with pytest.raises(MigrationError, match=re.escape("0001_raises.py")) as info:
        discover(tmp_path)
    assert "boom at import" in str(info.value)
    assert isinstance(info.value.__cause__, ValueError)


def test_discover_folder_syntax_error(tmp_path):
    (tmp_path / "0001_syntax.py").write_text("def up(:\n")
    with pytest.raises(MigrationError, match=re.escape("0001_syntax.py")) as info:
        discover(tmp_path)
    assert isinstance(info.value.__cause__, SyntaxError)


def test_discover_folder_invalid_migration_at_import(tmp_path):
    (tmp_path / "0001_bad.py").write_text(
        "from dynamorm_async.migrations import Migration\nm = Migration('#bad', print)\n"
    )
    with pytest.raises(MigrationError, match=re.escape("0001_bad.py")):
        discover(tmp_path)


def test_discover_missing_folder(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(MigrationError, match="does not exist") as info:
        discover(missing)
    assert str(missing) in str(info.value)
    with pytest.raises(MigrationError, match="does not exist"):
        discover(str(missing))


def test_discover_file_path_is_not_a_folder(tmp_path):
    path = tmp_path / "0001_m.py"
    path.write_text(migration_module("0001"))
    with pytest.raises(MigrationError, match="does not exist"):
        discover(path)


# --- discover: packages and modules -------------------------------------------------


def make_package(root: Path, name: str, modules: dict[str, str]) -> Path:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text(modules.pop("__init__", ""))
    for module, source in modules.items():
        (package / f"{module}.py").write_text(source)
    return package


def test_discover_package(tmp_path, package_name):
    package = make_package(
        tmp_path,
        package_name,
        {
            "m0010_tenth": migration_module("0010"),
            "m0002_second": migration_module("0002", "0003"),
            "_private": migration_module("0001"),
            "_broken": "raise RuntimeError('private modules are not imported')\n",
        },
    )

    found = discover(package_name)

    assert [m.version for m in found] == ["0002", "0003", "0010"]
    second = package / "m0002_second.py"
    tenth = package / "m0010_tenth.py"
    assert [m.source for m in found] == [str(second), str(second), str(tenth)]
    assert [m.checksum for m in found] == [
        sha256(second.read_bytes()),
        sha256(second.read_bytes()),
        sha256(tenth.read_bytes()),
    ]
    assert f"{package_name}.m0002_second" in sys.modules
    assert f"{package_name}._private" not in sys.modules


def test_discover_package_module_object(tmp_path, package_name):
    make_package(tmp_path, package_name, {"m1": migration_module("1")})
    import importlib

    package = importlib.import_module(package_name)
    assert [m.version for m in discover(package)] == ["1"]
    module = importlib.import_module(f"{package_name}.m1")
    [one] = discover(module)
    assert one.version == "1"
    assert one.checksum == sha256(Path(module.__file__).read_bytes())


def test_discover_plain_module_by_name(tmp_path, package_name):
    (tmp_path / f"{package_name}.py").write_text(migration_module("7", "3"))
    assert [m.version for m in discover(package_name)] == ["3", "7"]


def test_discover_module_object_without_file():
    module = types.ModuleType("in_memory_migrations")
    module.first = Migration("1", _step)  # type: ignore[attr-defined]
    module.other = 3  # type: ignore[attr-defined]
    [found] = discover(module)
    assert found.version == "1"
    assert found.checksum is None
    assert found.source is None


def test_discover_package_import_error_names_the_module(tmp_path, package_name):
    make_package(
        tmp_path,
        package_name,
        {
            "m0001_ok": migration_module("0001"),
            "m0002_broken": "import no_such_module_for_dynamorm_tests\n",
        },
    )
    with pytest.raises(MigrationError, match=f"{package_name}.m0002_broken") as info:
        discover(package_name)
    assert "no_such_module_for_dynamorm_tests" in str(info.value)
    assert isinstance(info.value.__cause__, ImportError)


def test_discover_package_body_error(tmp_path, package_name):
    make_package(tmp_path, package_name, {"m1": "raise KeyError('boom')\n"})
    with pytest.raises(MigrationError, match=f"{package_name}.m1") as info:
        discover(package_name)
    assert isinstance(info.value.__cause__, KeyError)


def test_discover_missing_package(package_name):
    with pytest.raises(MigrationError, match=package_name) as info:
        discover(package_name)
    assert isinstance(info.value.__cause__, ImportError)


def test_discover_package_duplicate_versions(tmp_path, package_name):
    make_package(
        tmp_path,
        package_name,
        {"a": migration_module("0001"), "b": migration_module("0001")},
    )
    with pytest.raises(MigrationError, match="two migrations have version '0001'"):
        discover(package_name)
