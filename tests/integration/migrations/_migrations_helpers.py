"""Shared by the migration tests: unique names, and dropping a test's tables."""

from __future__ import annotations

import itertools
import os
from collections.abc import Container
from typing import Any

import attrs

from dynamorm_async import Database, Mapper


@attrs.define
class _Probe:
    id: str


_probe = Mapper(_Probe, table="probe", partition_key="id")
_names = itertools.count(1)


def unique(stem: str) -> str:
    """A table or history name no other test of this process uses."""
    return f"{stem}-{os.getpid()}-{next(_names)}"


async def drop_test_tables(db: Database, keep: Container[str] = ()) -> None:
    """Delete every table with the test database's prefix, except those in `keep`."""
    prefix = db.table_name(_probe).removesuffix("probe")
    request: dict[str, Any] = {}
    names: list[str] = []
    while True:
        page = await db.client.list_tables(**request)
        names += page["TableNames"]
        if "LastEvaluatedTableName" not in page:
            break
        request = {"ExclusiveStartTableName": page["LastEvaluatedTableName"]}
    for name in names:
        if name.startswith(prefix) and name not in keep:
            await db.client.delete_table(TableName=name)
