"""A transport that reads for real and records writes instead of sending them: dry runs.

So that a dry run reads what its own earlier steps would have made, the tables it
creates or changes are simulated: DescribeTable, DescribeTimeToLive and
ListTagsOfResource of those tables are answered from the recorded calls, and a table
the dry run created reads as empty.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from dynamorm_async.errors import TableNotFound, TransportError
from dynamorm_async.transport._client import Transport
from dynamorm_async.transport._fast import ItemDecoder

__all__ = ["RecordingTransport", "is_read"]

_READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "TransactGet", "Query", "Scan")
_CONTROL = frozenset({"UpdateTable", "UpdateTimeToLive", "DeleteTable"})
_TAGGING = frozenset({"TagResource", "UntagResource"})


def is_read(operation: str) -> bool:
    """Whether a DynamoDB operation only reads (Describe*, List*, Get*, Query, Scan...)."""
    return operation.startswith(_READ_PREFIXES)


# Responses that say "done, nothing left over", so callers carry on as after a write.
_EMPTY_RESPONSES: dict[str, dict[str, Any]] = {
    "BatchWriteItem": {"UnprocessedItems": {}},
}


def _described(create: dict[str, Any]) -> dict[str, Any]:
    """The DescribeTable ``Table`` of a table made by a CreateTable request."""
    name = create["TableName"]
    table: dict[str, Any] = {
        "TableName": name,
        "TableArn": f"arn:aws:dynamodb:dry-run:000000000000:table/{name}",
        "TableStatus": "ACTIVE",
        "ItemCount": 0,
        "KeySchema": copy.deepcopy(create["KeySchema"]),
        "AttributeDefinitions": copy.deepcopy(create["AttributeDefinitions"]),
        "BillingModeSummary": {"BillingMode": create.get("BillingMode", "PROVISIONED")},
        "ProvisionedThroughput": dict(
            create.get("ProvisionedThroughput", {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0})
        ),
        "DeletionProtectionEnabled": bool(create.get("DeletionProtectionEnabled", False)),
    }
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if create.get(key):
            table[key] = [{**copy.deepcopy(i), "IndexStatus": "ACTIVE"} for i in create[key]]
    _apply_settings(table, create)
    return table


def _apply_settings(table: dict[str, Any], request: dict[str, Any]) -> None:
    if "StreamSpecification" in request:
        table["StreamSpecification"] = dict(request["StreamSpecification"])
    if "SSESpecification" in request:
        sse = request["SSESpecification"]
        if sse.get("Enabled"):
            key = sse.get("KMSMasterKeyId", "alias/aws/dynamodb")
            table["SSEDescription"] = {
                "Status": "ENABLED",
                "SSEType": "KMS",
                "KMSMasterKeyArn": key,
            }
        else:
            table.pop("SSEDescription", None)
    if "TableClass" in request:
        table["TableClassSummary"] = {"TableClass": request["TableClass"]}
    if "DeletionProtectionEnabled" in request:
        table["DeletionProtectionEnabled"] = bool(request["DeletionProtectionEnabled"])


def _update(table: dict[str, Any], request: dict[str, Any]) -> None:
    """Apply an UpdateTable request to a simulated description."""
    if "BillingMode" in request:
        table["BillingModeSummary"] = {"BillingMode": request["BillingMode"]}
    if "ProvisionedThroughput" in request:
        table["ProvisionedThroughput"] = dict(request["ProvisionedThroughput"])
    known = {d["AttributeName"] for d in table["AttributeDefinitions"]}
    for definition in request.get("AttributeDefinitions", ()):
        if definition["AttributeName"] not in known:
            table["AttributeDefinitions"].append(dict(definition))
    indexes = table.setdefault("GlobalSecondaryIndexes", [])
    for change in request.get("GlobalSecondaryIndexUpdates", ()):
        if "Create" in change:
            indexes.append({**copy.deepcopy(change["Create"]), "IndexStatus": "ACTIVE"})
        elif "Delete" in change:
            name = change["Delete"]["IndexName"]
            indexes[:] = [i for i in indexes if i["IndexName"] != name]
        elif "Update" in change:
            for index in indexes:
                if index["IndexName"] == change["Update"]["IndexName"]:
                    index["ProvisionedThroughput"] = dict(change["Update"]["ProvisionedThroughput"])
    if not indexes:
        del table["GlobalSecondaryIndexes"]
    _apply_settings(table, request)


class RecordingTransport(Transport):
    """Shares another transport's client; sends reads, records every other call.

    Tables the recorded calls create or change read as those calls would leave
    them; a created table reads as empty.

    Attributes:
        calls: ``(operation, request)`` of each call that was recorded, in order.
    """

    dry_run = True

    def __init__(self, inner: Transport) -> None:
        # The same client, pool, retry policy and breaker: nothing new is opened.
        self.__dict__.update(inner.__dict__)
        self._inner = inner
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._tables: dict[str, dict[str, Any] | None] = {}  # None: deleted
        self._created: set[str] = set()
        self._ttl: dict[str, dict[str, Any]] = {}
        self._tags: dict[str, dict[str, str]] = {}

    @property
    def is_open(self) -> bool:
        """Whether the shared client is open."""
        return self._inner.is_open

    @property
    def client(self) -> Any:
        """Refused: a raw client call would bypass the recording and really write."""
        raise TransportError(
            "a dry run cannot use the raw client (db.client): it would send writes; "
            "use db.transport.call(operation, request), which a dry run records"
        )

    async def open(self) -> None:
        """Open the shared transport (a no-op when it is open)."""
        await self._inner.open()

    async def close(self) -> None:
        """Nothing to close: the client belongs to the transport this one records for."""

    async def call(
        self,
        operation: str,
        request: dict[str, Any],
        *,
        key: dict[str, Any] | None = None,
        retry_if: Callable[[BaseException], bool] | None = None,
        wire_items: bool | ItemDecoder = False,
    ) -> dict[str, Any]:
        """Send a read through the shared client, or answer it for a simulated table;
        record anything else and return an empty success."""
        if operation == "BatchGetItem":
            return await self._batch_get(request, retry_if)
        if is_read(operation):
            answer = self._answer(operation, request)
            if answer is not None:
                return answer
            return await self._inner.call(
                operation, request, key=key, retry_if=retry_if, wire_items=wire_items
            )
        await self._simulate(operation, request)
        self.calls.append((operation, request))
        return dict(_EMPTY_RESPONSES.get(operation, {}))

    async def _batch_get(
        self, request: dict[str, Any], retry_if: Callable[[BaseException], bool] | None
    ) -> dict[str, Any]:
        # Keys of tables this dry run created are not found; the others are read.
        wanted = request["RequestItems"]
        real = {t: spec for t, spec in wanted.items() if t not in self._created}
        response: dict[str, Any] = {"Responses": {}, "UnprocessedKeys": {}}
        if real:
            sent = {**request, "RequestItems": real}
            response = await self._inner.call("BatchGetItem", sent, retry_if=retry_if)
        responses = response.setdefault("Responses", {})
        for table in wanted.keys() - real.keys():
            responses[table] = []
        return response

    def _answer(self, operation: str, request: dict[str, Any]) -> dict[str, Any] | None:
        name = request.get("TableName")
        if operation == "ListTagsOfResource" and request.get("ResourceArn") in self._tags:
            tags = self._tags[request["ResourceArn"]]
            return {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        if name not in self._tables:
            return None
        table = self._tables[name]
        if table is None:
            raise TableNotFound(
                "the table is deleted earlier in this dry run", table=name, operation=operation
            )
        if operation == "DescribeTable":
            return {"Table": copy.deepcopy(table)}
        if operation == "DescribeTimeToLive":
            ttl = self._ttl.get(name, {"TimeToLiveStatus": "DISABLED"})
            return {"TimeToLiveDescription": dict(ttl)}
        if name in self._created and operation in ("Query", "Scan"):
            return {"Items": [], "Count": 0, "ScannedCount": 0}
        if name in self._created:
            return {}  # GetItem: no item
        return None  # the data of an existing table is read for real

    async def _simulate(self, operation: str, request: dict[str, Any]) -> None:
        name = request.get("TableName")
        if operation == "CreateTable":
            created = self._tables[request["TableName"]] = _described(request)
            self._created.add(request["TableName"])
            self._tags[created["TableArn"]] = {
                t["Key"]: t["Value"] for t in request.get("Tags", ())
            }
            return
        if operation in _TAGGING:
            await self._simulate_tags(operation, request)
            return
        if operation not in _CONTROL or name is None:
            return
        if name not in self._tables:  # an existing table: start from what it is now
            try:
                live = await self._inner.call("DescribeTable", {"TableName": name})
                ttl = await self._inner.call("DescribeTimeToLive", {"TableName": name})
            except TableNotFound:
                return  # the real call would fail the same way: nothing to simulate
            self._tables[name] = live["Table"]
            self._ttl[name] = ttl.get("TimeToLiveDescription", {})
        table = self._tables[name]
        if table is None:
            return
        if operation == "DeleteTable":
            self._tables[name] = None
        elif operation == "UpdateTable":
            _update(table, request)
        else:
            spec = request["TimeToLiveSpecification"]
            status = "ENABLED" if spec["Enabled"] else "DISABLED"
            self._ttl[name] = {"TimeToLiveStatus": status, "AttributeName": spec["AttributeName"]}

    async def _simulate_tags(self, operation: str, request: dict[str, Any]) -> None:
        arn = request.get("ResourceArn")
        if not isinstance(arn, str):
            return
        if arn not in self._tags:  # an existing table's (a created one's are known)
            response = await self._inner.call("ListTagsOfResource", {"ResourceArn": arn})
            self._tags[arn] = {t["Key"]: t["Value"] for t in response.get("Tags", ())}
        tags = self._tags[arn]
        if operation == "TagResource":
            tags.update({t["Key"]: t["Value"] for t in request.get("Tags", ())})
        else:
            for tag in request.get("TagKeys", ()):
                tags.pop(tag, None)
