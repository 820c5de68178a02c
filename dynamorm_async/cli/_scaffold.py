"""``dynamorm migrate new``: the source of a new migration, blank or from a diff."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from dynamorm_async.db import Call, Change

__all__ = ["literal", "migration_source", "next_version", "slug"]


def slug(name: str) -> str:
    """A file-name-safe form of a migration's name: ``"Add index!"`` -> ``"add_index"``."""
    text = re.sub(r"[^a-z0-9]+", "_", name.lower())
    return text.strip("_")[:60].strip("_") or "migration"


def next_version(folder: Path) -> str:
    """The number after the highest numbered migration file in `folder`, four digits.

    Files are named ``VERSION_name.py``; ``"0001"`` for a folder with none.
    """
    numbers = [
        int(prefix)
        for path in (folder.glob("*.py") if folder.is_dir() else ())
        if (prefix := path.name.split("_", 1)[0]).isdigit()
    ]
    return f"{max(numbers, default=0) + 1:04d}"


def _width(text: str) -> int:
    """Display columns, as ruff format counts them: wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _string(text: str) -> str:
    double = json.dumps(text, ensure_ascii=False)
    if text.count('"') <= text.count("'"):
        return double
    # Fewer escapes in single quotes: ruff format would choose them.
    inner = double[1:-1].replace('\\"', '"').replace("'", "\\'")
    return "'" + inner + "'"


def _flat(value: object) -> str:
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, float):
        return repr(value).replace("e+", "e")  # 1e16, as ruff format writes it
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flat(k)}: {_flat(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flat(v) for v in value) + "]"
    return repr(value)


def literal(value: object, indent: int = 0, width: int = 88, start: int | None = None) -> str:
    """Python source for plain data (dicts, lists, strings, numbers, booleans), laid
    out as ``ruff format`` would: on one line if it fits, else one element a line.

    `indent` is the indentation of the line the value is on, `start` the column it
    starts at (default: `indent`); a trailing comma is allowed for.
    """
    flat = _flat(value)
    column = indent if start is None else start
    fits = column + _width(flat) + 1 <= width
    if fits or not isinstance(value, (dict, list, tuple)) or not value:
        return flat
    pad = " " * (indent + 4)
    if isinstance(value, dict):
        inner = []
        for key, item in value.items():
            head = f"{pad}{_flat(key)}: "
            inner.append(f"{head}{literal(item, indent + 4, width, _width(head))},")
        return "{\n" + "\n".join(inner) + "\n" + " " * indent + "}"
    inner = [f"{pad}{literal(v, indent + 4, width)}," for v in value]
    return "[\n" + "\n".join(inner) + "\n" + " " * indent + "]"


def _apply_lines(mapper: str, calls: Sequence[Call]) -> list[str]:
    lines = ["await ctx.schema.apply(", f"    {mapper},", "    ["]
    for call in calls:
        # The table is the mapper's, in whatever environment the migration runs.
        request = {k: v for k, v in call.request.items() if k not in ("TableName", "ResourceArn")}
        args = [_flat(call.operation), _flat(request)]
        args += [] if call.wait else ["wait=False"]
        one_line = f"        Call({', '.join(args)}),"
        if _width(one_line) <= 88 - 4:  # the body is indented once more in the function
            lines.append(one_line)
            continue
        shown = literal(request, 12, 88 - 4)
        lines += ["        Call(", f"            {args[0]},", f"            {shown},"]
        lines += [] if call.wait else ["            wait=False,"]
        lines.append("        ),")
    return "\n".join([*lines, "    ],", ")"]).splitlines()


def _steps(mapper: str, changes: Sequence[Change]) -> tuple[list[str], list[str] | None, bool]:
    """The lines of up and of down (``None``: not reversible), and whether `Call` is used."""
    up: list[str] = []
    down: list[str] | None = []
    uses_call = False
    for change in changes:
        index = _flat(change.subject.removeprefix("index "))
        undo: list[str] | None = None
        if change.kind == "create_table":
            up.append(f"await ctx.schema.create({mapper})")
            undo = [f"await ctx.schema.delete({mapper})"]
        elif change.kind == "add_index":
            up.append(f"await ctx.schema.add_index({mapper}, {index})")
            undo = [f"await ctx.schema.drop_index({mapper}, {index})"]
        elif change.kind == "drop_index":
            up.append(f"await ctx.schema.drop_index({mapper}, {index})")
            if change.undo is not None:  # the index as it was, from its description
                undo = _apply_lines(mapper, change.undo)
                uses_call = True
        elif change.severity == "safe":
            up += [f"# {change.description}", *_apply_lines(mapper, change.calls)]
            uses_call = True
            if change.undo is not None:
                undo = _apply_lines(mapper, change.undo)
        elif change.kind == "replace_index":
            up += [
                f"# DATA: {change.description}",
                "# The index changed keys or projection. Replace it in place (queries on it",
                "# fail until the new one is backfilled), or add it under a new name, move",
                "# the queries to it, then drop the old one.",
                f"await ctx.schema.replace_index({mapper}, {index})",
            ]
        else:
            up += [
                f"# BREAKING: {change.description}",
                "# A table's keys and local indexes cannot change: create a new table, copy:",
                "#     await ctx.schema.create(new_mapper)",
                f"#     await ctx.copy_table({mapper}, new_mapper, transform)",
                f'raise NotImplementedError(f"a breaking change to {{{mapper}.table}}: see above")',
            ]
        if down is not None and undo is not None:
            down[:0] = undo  # undone newest first
        else:
            down = None
    return up, down, uses_call


def _indent(lines: Sequence[str]) -> str:
    return "\n".join(f"    {line}" if line else "" for line in lines)


def migration_source(
    version: str,
    name: str,
    changes: Sequence[Change] = (),
    *,
    mapper: tuple[str, str] | None = None,
) -> str:
    """The source of a migration module: blank, or applying `changes` to `mapper`.

    `mapper` is ``(module, attribute)`` of the mapper the changes are for; it is
    imported by the migration. A change that cannot be undone (a breaking one, say)
    leaves the migration without a ``down``.
    """
    imports = ["from dynamorm_async.migrations import Migration, MigrationContext"]
    if mapper is None or not changes:
        up: list[str] = [
            '"""The change: ctx.schema, ctx.backfill, ctx.copy_table, ctx.db."""',
            'raise NotImplementedError("write this migration\'s up")',
        ]
        down: list[str] | None = [
            '"""Undo it, or pass None as down to the Migration below."""',
            'raise NotImplementedError("write this migration\'s down")',
        ]
    else:
        module, attribute = mapper
        up, down, uses_call = _steps(attribute, changes)
        if uses_call:
            imports.insert(0, "from dynamorm_async.db import Call")
        imports += ["", f"from {module} import {attribute}"]  # the application's own
    title = " ".join(name.replace('"', "'").replace("\\", "/").split()).rstrip(".")
    lines = [
        f'"""{title or "A migration"}."""',
        "",
        "from __future__ import annotations",
        "",
        *imports,
        "",
        "",
        "async def up(ctx: MigrationContext) -> None:",
        _indent(up),
    ]
    if down is not None:
        lines += ["", "", "async def down(ctx: MigrationContext) -> None:", _indent(down)]
    down_ref = "down" if down is not None else "None"
    lines += [
        "",
        "",
        f"migration = Migration({_flat(version)}, up, {down_ref}, description={_flat(name)})",
        "",
    ]
    return "\n".join(lines)
