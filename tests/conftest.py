"""The backends the integration tests run on, and the markers that tell them apart.

By default the tests use the embedded moto server. `.ci/with-dynamodb-local` runs them
against AWS's DynamoDB Local too, with ``DYNAMORM_TEST_BACKEND=dynamodb-local``.
Each marker says why a test cannot run on a backend, and the skip reason says it too:

* ``moto_only``: the test pins down a quirk of moto's (documented in the guides).
* ``not_on_dynamodb_local(reason)``: DynamoDB Local lacks the feature (tagging, say).
* ``dynamodb_local_only``: the test checks DynamoDB's semantics that moto lacks
  (idempotent ClientRequestToken, isolated concurrent writes, TTL expiry).

With the fast path on (the default), botocore does not validate requests: the
library's own checks must cover everything its API sends. So every request of the
suite is also checked by botocore's validator (`_botocore_validates`), and a test
fails if one did not pass; a test that sends an invalid request on purpose (through
`Transport.call` or `db.client`) says so with the marker ``invalid_requests``.
``DYNAMORM_FAST_PATH=0`` runs the suite with the fast path off.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from botocore.validate import ParamValidator

from dynamorm_async.transport import Transport

BACKEND = os.environ.get("DYNAMORM_TEST_BACKEND", "moto")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "moto_only: the test checks a quirk of moto's")
    config.addinivalue_line(
        "markers", "not_on_dynamodb_local(reason): DynamoDB Local lacks what the test needs"
    )
    config.addinivalue_line("markers", "dynamodb_local_only: DynamoDB's semantics that moto lacks")
    config.addinivalue_line(
        "markers", "invalid_requests: the test sends requests botocore's validator refuses"
    )
    _validate_every_request()


#: Requests botocore's validator refused since the test began: (operation, report).
_refused: list[tuple[str, str]] = []


def _botocore_validates(params: dict[str, Any], model: Any, **_: Any) -> None:
    report = ParamValidator().validate(params, model.input_shape)
    if report.has_errors():
        _refused.append((model.name, report.generate_report()))


def _validate_every_request() -> None:
    """Have every client a `Transport` opens check its requests with botocore's
    validator (`_botocore_validates`), whether or not botocore itself does."""
    opening = Transport._open

    async def open_and_watch(self: Transport) -> None:
        await opening(self)
        self.client.meta.events.register("before-parameter-build.dynamodb", _botocore_validates)

    Transport._open = open_and_watch  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _requests_botocore_accepts(request: pytest.FixtureRequest) -> Any:
    _refused.clear()
    yield
    if _refused and not request.node.get_closest_marker("invalid_requests"):
        refused = "\n".join(f"{operation}: {report}" for operation, report in _refused[:3])
        pytest.fail(f"requests botocore's validator refuses were sent:\n{refused}")


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
