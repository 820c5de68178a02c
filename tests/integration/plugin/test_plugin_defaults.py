"""The plugin's defaults, in a module that overrides nothing."""

from __future__ import annotations


def test_dynamorm_mappers_defaults_to_empty(dynamorm_mappers):
    assert dynamorm_mappers == []


async def test_dynamorm_db_without_mappers_is_open(dynamorm_db):
    assert dynamorm_db.mappers == []
    assert dynamorm_db.transport.is_open
    listed = await dynamorm_db.client.list_tables()
    assert "TableNames" in listed
