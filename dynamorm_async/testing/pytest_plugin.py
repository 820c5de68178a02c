"""pytest fixtures for testing code that uses dynamorm_async.

Registered automatically through the ``pytest11`` entry point when the package
is installed. Fixtures:

* ``dynamorm_endpoint`` (session): the URL of a DynamoDB endpoint. The embedded
  local DynamoDB is started once per session, unless ``DYNAMORM_TEST_ENDPOINT``
  names another endpoint (DynamoDB Local, say); with ``AWS_ACCESS_KEY_ID`` set too,
  the usual AWS credential chain is used for it instead of dummy credentials.
* ``dynamorm_mappers``: the mappers ``dynamorm_db`` creates tables for; override it
  in your ``conftest.py``. Empty by default.
* ``dynamorm_db`` (async, needs pytest-asyncio): an open `Database` on that endpoint
  whose tables are fresh for each test (a unique table-name prefix per test), with
  a table created for each of ``dynamorm_mappers`` and deleted afterwards.

Example:
    ```python
    @pytest.fixture
    def dynamorm_mappers():
        return [products]

    async def test_put_get(dynamorm_db):
        repo = dynamorm_db.repository(products)
        ...
    ```
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiobotocore.session import AioSession, get_session

from dynamorm_async.db import Database
from dynamorm_async.errors import TableNotFound
from dynamorm_async.mapping import Mapper
from dynamorm_async.testing._server import LOCAL_CREDENTIALS, running_local_dynamodb

__all__ = ["dynamorm_endpoint", "dynamorm_mappers", "open_test_database"]

_test_numbers = itertools.count(1)
_session: AioSession | None = None


@pytest.fixture(scope="session")
def dynamorm_endpoint() -> Iterator[str]:
    """The endpoint URL tests talk to (the embedded server unless configured)."""
    configured = os.environ.get("DYNAMORM_TEST_ENDPOINT")
    if configured:
        yield configured
        return
    with running_local_dynamodb() as url:
        yield url


@pytest.fixture
def dynamorm_mappers() -> list[Mapper[Any]]:
    """The mappers whose tables `dynamorm_db` creates; override it in a conftest."""
    return []


async def open_test_database(endpoint: str, mappers: list[Mapper[Any]]) -> Database:
    """An open `Database` with fresh, created tables for `mappers` (unique prefix)."""
    global _session
    if _session is None:  # loading botocore's models costs ~0.1 s: do it once
        _session = get_session()
    prefix = f"t{os.getpid()}-{next(_test_numbers)}"
    # A configured endpoint with credentials in the environment uses the usual AWS
    # chain (a real account, say); otherwise the local server's dummy credentials.
    configured = endpoint == os.environ.get("DYNAMORM_TEST_ENDPOINT")
    if configured and os.environ.get("AWS_ACCESS_KEY_ID"):
        db = Database.connect(
            endpoint,
            mappers=mappers,
            table_name_template=prefix + "-{table}",
            session=_session,
        )
    else:
        db = Database.connect(
            endpoint,
            mappers=mappers,
            table_name_template=prefix + "-{table}",
            session=_session,
            **LOCAL_CREDENTIALS,
        )
    await db.open()
    try:
        for mapper in mappers:
            await db.schema.create(mapper)
    except BaseException:
        await db.close()
        raise
    return db


async def _drop_tables(db: Database) -> None:
    for mapper in db.mappers:
        with contextlib.suppress(TableNotFound):
            await db.schema.delete(mapper, wait=False)


try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - the async fixture needs pytest-asyncio
    pass
else:

    @pytest_asyncio.fixture
    async def dynamorm_db(
        dynamorm_endpoint: str, dynamorm_mappers: list[Mapper[Any]]
    ) -> AsyncIterator[Database]:
        """An open `Database` with fresh tables for `dynamorm_mappers`."""
        db = await open_test_database(dynamorm_endpoint, list(dynamorm_mappers))
        try:
            yield db
        finally:
            try:
                await _drop_tables(db)
            finally:
                await db.close()

    __all__ += ["dynamorm_db"]
