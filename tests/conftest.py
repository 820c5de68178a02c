"""The backends the integration tests run on, and the markers that tell them apart.

By default the tests use the embedded moto server. `.ci/with-dynamodb-local` runs them
against AWS's DynamoDB Local too, with ``DYNAMORM_TEST_BACKEND=dynamodb-local``.
Each marker says why a test cannot run on a backend, and the skip reason says it too:

* ``moto_only``: the test pins down a quirk of moto's (documented in the guides).
* ``not_on_dynamodb_local(reason)``: DynamoDB Local lacks the feature (tagging, say).
* ``dynamodb_local_only``: the test checks DynamoDB's semantics that moto lacks
  (idempotent ClientRequestToken, isolated concurrent writes, TTL expiry).
"""

from __future__ import annotations

import os

import pytest

BACKEND = os.environ.get("DYNAMORM_TEST_BACKEND", "moto")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "moto_only: the test checks a quirk of moto's")
    config.addinivalue_line(
        "markers", "not_on_dynamodb_local(reason): DynamoDB Local lacks what the test needs"
    )
    config.addinivalue_line("markers", "dynamodb_local_only: DynamoDB's semantics that moto lacks")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if BACKEND != "moto" and item.get_closest_marker("moto_only"):
        pytest.skip(f"checks a quirk of moto's; this run uses {BACKEND}")
    if BACKEND == "moto" and item.get_closest_marker("dynamodb_local_only"):
        pytest.skip(
            "moto lacks this semantics (see docs/backends.md); "
            "it runs on DynamoDB Local: python -m nox -s dynamodb-local"
        )
    marker = item.get_closest_marker("not_on_dynamodb_local")
    if BACKEND == "dynamodb-local" and marker is not None:
        pytest.skip(f"DynamoDB Local: {marker.args[0]}")
