"""`Migration`, and finding migrations in a package or a folder of modules."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import pkgutil
import re
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import attrs

from dynamorm_async.errors import MigrationError

if TYPE_CHECKING:
    from dynamorm_async.migrations._context import MigrationContext

__all__ = ["Migration", "Step", "discover", "ordered", "version_order"]

#: What `up` and `down` are: an async function of the migration's context.
Step = Callable[["MigrationContext"], Awaitable[None]]

_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")
_RUN = re.compile(r"(\d+)")


def version_order(version: str) -> tuple[tuple[int, int | str], ...]:
    """The sort key of a version: digit runs compare as numbers (``"2" < "10"``)."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in _RUN.split(version) if part
    )


def _check_version(instance: Migration, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not _VERSION.fullmatch(value):
        raise MigrationError(
            f"a migration's version must be 1-100 letters, digits, '_', '.', '-' "
            f"(starting with a letter or digit), not {value!r}"
        )


def _check_step(instance: Migration, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None and attribute.name == "down":
        return
    if not callable(value):
        raise MigrationError(
            f"migration {instance.version!r}: {attribute.name} must be an async function "
            f"of the context, not {value!r}",
            version=instance.version,
        )


@attrs.frozen
class Migration:
    """One versioned change to tables or data.

    Attributes:
        version: orders migrations (digit runs compare as numbers: ``"0002"``,
            ``"2026_11_26_add_index"``) and names the migration in the history table.
        up: ``async def up(ctx: MigrationContext) -> None``: applies the change.
        down: reverts it, or ``None`` when it cannot be reverted.
        description: one line for ``status``.
        checksum: the SHA-256 of the module's source, set by `discover`; recorded
            when applied, so that an edit afterwards is reported.
        source: where the migration was found (a file path), set by `discover`.

    Example:
        ```python
        async def up(ctx: MigrationContext) -> None:
            await ctx.schema.add_index(products, "by-category")

        async def down(ctx: MigrationContext) -> None:
            await ctx.schema.drop_index(products, "by-category")

        migration = Migration("0002", up, down, description="index products by category")
        ```
    """

    version: str = attrs.field(validator=_check_version)
    up: Step = attrs.field(validator=_check_step)
    down: Step | None = attrs.field(default=None, validator=_check_step)
    description: str = ""
    checksum: str | None = None
    source: str | None = None


def _checksum(path: Path) -> str:
    # Line endings are normalised: a checkout on another OS is not an edit.
    text = path.read_bytes().replace(b"\r\n", b"\n")
    return hashlib.sha256(text).hexdigest()


def _from_module(module: ModuleType) -> list[Migration]:
    # One object under two names (``latest = migration``) is one migration.
    found = list({id(v): v for v in vars(module).values() if isinstance(v, Migration)}.values())
    path = getattr(module, "__file__", None)
    if path is None:
        return found
    checksum = _checksum(Path(path))
    return [attrs.evolve(m, checksum=checksum, source=str(path)) for m in found]


def _load_file(path: Path) -> ModuleType:
    name = f"_dynamorm_migrations_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
        raise MigrationError(f"cannot load migration module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and attrs look their module up
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise MigrationError(f"cannot import migration module {path}: {exc!r}") from exc
    return module


def _modules(source: str | Path | ModuleType) -> Iterable[ModuleType]:
    if isinstance(source, ModuleType):
        package = source
    elif (
        isinstance(source, Path) or "/" in source or source.endswith(".py") or Path(source).is_dir()
    ):
        folder = Path(source)
        if not folder.is_dir():
            raise MigrationError(f"migrations folder {str(folder)!r} does not exist")
        return [_load_file(p) for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")]
    else:
        try:
            package = importlib.import_module(source)
        except ImportError as exc:
            raise MigrationError(f"cannot import migrations package {source!r}: {exc}") from exc
    if not hasattr(package, "__path__"):
        return [package]
    modules = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            try:
                modules.append(importlib.import_module(f"{package.__name__}.{info.name}"))
            except Exception as exc:
                raise MigrationError(
                    f"cannot import migration module {package.__name__}.{info.name}: {exc!r}"
                ) from exc
    return modules


def discover(source: str | Path | ModuleType) -> list[Migration]:
    """The migrations defined in a package, a folder of modules, or one module.

    `source` is a folder path, an importable package name (``"myapp.migrations"``)
    or a module. Every module-level `Migration` of every module not starting with
    ``_`` is collected, with the checksum of its module's source; the result is
    ordered by version. Two migrations with one version are an error.
    """
    migrations = [m for module in _modules(source) for m in _from_module(module)]
    return ordered(migrations)


def ordered(migrations: Iterable[Migration]) -> list[Migration]:
    """Migrations sorted by version; raises `MigrationError` on a repeated version, or
    two versions that sort as one (``"1"`` and ``"01"``)."""
    seen: dict[tuple[tuple[int, int | str], ...], Migration] = {}
    for migration in migrations:
        if not isinstance(migration, Migration):
            raise MigrationError(f"expected a Migration, got {migration!r}")
        # "1" and "01" sort as one: their order would be arbitrary, so both are refused.
        key = version_order(migration.version)
        other = seen.get(key)
        if other is not None:
            first = other.source or other.description
            second = migration.source or migration.description
            if other.version == migration.version:
                message = (
                    f"two migrations have version {migration.version!r} ({first!r} and {second!r})"
                )
            else:
                message = (
                    f"two migrations sort as one version: {other.version!r} ({first!r}) and "
                    f"{migration.version!r} ({second!r})"
                )
            raise MigrationError(message, version=migration.version)
        seen[key] = migration
    return sorted(seen.values(), key=lambda m: version_order(m.version))
