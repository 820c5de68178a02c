"""The versioned classes and mappers shared by the versioning tests."""

import attrs

from dynamorm_async import Mapper


@attrs.define
class Account:
    id: str
    balance: int
    owner: str = ""
    version: int = 0


accounts = Mapper(Account, table="accounts", partition_key="id", version_attribute="version")


@attrs.define
class Doc:
    tenant: str
    slug: str
    body: str
    rev: int = 0


docs = Mapper(
    Doc,
    table="docs",
    partition_key="tenant",
    sort_key="slug",
    version_attribute="rev",
    field_names={"rev": "_rev"},
)
