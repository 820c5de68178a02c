"""``dynamorm generate model`` against a table made by another tool."""

from __future__ import annotations

import asyncio
import importlib
import os

import pytest

from dynamorm_async import Database
from dynamorm_async.cli import main
from dynamorm_async.testing import LOCAL_CREDENTIALS

ITEMS = [
    {"pk": {"S": "a"}, "n": {"N": "1"}, "tags": {"SS": ["x", "y"]}, "my-attr": {"S": "v"}},
    {"pk": {"S": "b"}, "n": {"N": "2.5"}, "doc": {"M": {"k": {"L": [{"N": "1"}]}}}},
    {"pk": {"S": "c"}, "exp": {"N": "4102444800"}},  # 2100: not expired (TTL is on)
]


@pytest.fixture
def dynamorm_mappers():
    return []


@pytest.fixture
def table(dynamorm_endpoint, monkeypatch, tmp_path):
    """A table created and filled with the raw client, as another tool would."""
    name = f"legacy-{os.getpid()}-orders"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LOCAL_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LOCAL_CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_REGION", LOCAL_CREDENTIALS["region_name"])
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))

    async def run(create: bool) -> None:
        async with Database.connect(dynamorm_endpoint, **LOCAL_CREDENTIALS) as db:
            client = db.client
            if not create:
                await client.delete_table(TableName=name)
                return
            await client.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            await client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"},
            )
            for item in ITEMS:
                await client.put_item(TableName=name, Item=item)

    asyncio.run(run(True))
    yield name
    asyncio.run(run(False))


def test_generate_model_writes_a_module_that_reads_every_item(
    table, dynamorm_endpoint, tmp_path, monkeypatch, capsys
):
    output = tmp_path / "legacy_orders_model.py"
    code = main(
        [
            "generate",
            "model",
            "--table",
            table,
            "--class-name",
            "Order",
            "--output",
            str(output),
            "--endpoint-url",
            dynamorm_endpoint,
        ]
    )
    assert code == 0
    assert "3 sample item(s)" in capsys.readouterr().err
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("legacy_orders_model")
    mapper = next(v for v in vars(module).values() if type(v).__name__ == "Mapper")
    assert mapper.cls.__name__ == "Order"
    assert mapper.ttl_attribute is not None
    decoded = {mapper.decode(dict(item)).pk: mapper.decode(dict(item)) for item in ITEMS}
    assert decoded["b"].n is not None
    encoded = mapper.encode(decoded["a"])
    encoded["tags"]["SS"].sort()  # a set's elements come back in any order
    assert encoded == ITEMS[0]


def test_generate_model_to_standard_output_and_sample_limits(table, dynamorm_endpoint, capsys):
    assert (
        main(
            [
                "generate",
                "model",
                "--table",
                table,
                "--sample",
                "1",
                "--endpoint-url",
                dynamorm_endpoint,
            ]
        )
        == 0
    )
    source = capsys.readouterr().out
    assert "@attrs.define" in source
    assert "Mapper(" in source
    compile(source, "<generated>", "exec")
    assert (
        main(
            [
                "generate",
                "model",
                "--table",
                table,
                "--sample",
                "-1",
                "--endpoint-url",
                dynamorm_endpoint,
            ]
        )
        == 2
    )
    assert "--sample must be 0 or more" in capsys.readouterr().err


def test_generate_model_of_a_missing_table_is_an_error(dynamorm_endpoint, capsys, table):
    code = main(
        ["generate", "model", "--table", "no-such-table-x", "--endpoint-url", dynamorm_endpoint]
    )
    assert code == 2
    assert "does not exist" in capsys.readouterr().err
