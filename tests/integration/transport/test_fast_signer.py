"""With the fast path, requests are signed by `FastSigV4Auth` (botocore's SigV4 code
with cheaper helpers, proven equal in ``tests/unit/transport/test_signing.py``);
without it, by botocore's own `SigV4Auth`. Neither server checks signatures, so what
is checked here is which signer signs, and that the requests go through."""

from __future__ import annotations

import attrs
import pytest
from botocore.auth import SigV4Auth

from dynamorm_async import Database, Mapper
from dynamorm_async.transport._signing import FastSigV4Auth


@attrs.define
class Note:
    id: str
    text: str = ""


notes = Mapper(Note, table="signed_notes", partition_key="id")


@pytest.fixture
def dynamorm_mappers():
    return [notes]


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "stock"])
async def test_the_signer_follows_the_fast_path(dynamorm_db, monkeypatch, fast_path):
    signed: list[str] = []
    for cls in (SigV4Auth, FastSigV4Auth):

        def spy(self, request, add_auth=cls.add_auth):
            signed.append(type(self).__name__)
            add_auth(self, request)

        monkeypatch.setattr(cls, "add_auth", spy)
    config = attrs.evolve(dynamorm_db.config, fast_path=fast_path)
    async with Database(
        config, mappers=[notes], table_name_template=dynamorm_db.table_name_template
    ) as db:
        repo = db.repository(notes)
        await repo.put(Note("a", "signed"))
        assert await repo.get("a") == Note("a", "signed")
    expected = "FastSigV4Auth" if fast_path else "SigV4Auth"
    assert signed
    assert set(signed) == {expected}
