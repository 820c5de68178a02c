"""What a table should be, how the live one differs, and the calls that close the gap.

Pure functions over a mapper and DynamoDB's descriptions, with no I/O, so that a diff
and a dry run show exactly what `Schema.update` would send.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from dynamorm_async.errors import DynamoDBError
from dynamorm_async.mapping import Mapper
from dynamorm_async.specs import GlobalIndex, LocalIndex, Projection, TableOptions

__all__ = [
    "Call",
    "Change",
    "LiveTable",
    "SchemaDiff",
    "Severity",
    "compare",
    "create_table_request",
    "gsi_create_request",
    "gsi_delete_request",
]

Severity = Literal["safe", "data", "breaking"]
_SEVERITY_ORDER = {"breaking": 0, "data": 1, "safe": 2}


@attrs.frozen
class Call:
    """One DynamoDB control-plane call: the operation and its request.

    Attributes:
        operation: ``"CreateTable"``, ``"UpdateTable"``, ``"UpdateTimeToLive"``...
        request: the request, exactly as it is sent.
        wait: whether the table must be ACTIVE again before the next call.
    """

    operation: str
    request: Mapping[str, Any]
    wait: bool = True

    def __str__(self) -> str:
        return f"{self.operation} {json.dumps(self.request, sort_keys=True, default=str)}"


@attrs.frozen
class Change:
    """One difference between a model and its live table.

    Attributes:
        kind: what differs: ``"create_table"``, ``"key_schema"``, ``"local_index"``,
            ``"add_index"``, ``"drop_index"``, ``"replace_index"``, ``"billing"``,
            ``"throughput"``, ``"stream"``, ``"ttl"``, ``"sse"``, ``"tags"``,
            ``"deletion_protection"`` or ``"table_class"``.
        severity: ``"safe"`` (applied online by `Schema.update`), ``"data"`` (needs a
            data migration: a new index, its backfill, then the old one dropped) or
            ``"breaking"`` (needs a new table and a copy; never applied implicitly).
        subject: ``"table"`` or ``"index NAME"``.
        live: the live value (``None`` when absent).
        wanted: the model's value (``None`` when absent).
        calls: for a safe change, the calls that apply it.
        undo: the calls that would put the live value back, where that is known
            (``None`` otherwise); a generated migration's ``down`` uses them.
    """

    kind: str
    severity: Severity
    subject: str
    live: Any
    wanted: Any
    calls: tuple[Call, ...] = ()
    undo: tuple[Call, ...] | None = None

    @property
    def description(self) -> str:
        """A one-line, human-readable account of the change."""
        return f"{self.subject}: {self.kind.replace('_', ' ')}: {_show(self.live)} -> {_show(self.wanted)}"

    def to_dict(self) -> dict[str, Any]:
        """The change as plain data (for JSON output)."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "subject": self.subject,
            "live": self.live,
            "wanted": self.wanted,
            "calls": [{"operation": c.operation, "request": dict(c.request)} for c in self.calls],
        }

    @property
    def reversible(self) -> bool:
        """Whether `undo` says how to put the live value back."""
        return self.undo is not None

    def __str__(self) -> str:
        return f"[{self.severity}] {self.description}"


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dict) and value.keys() == {"keys", "projection"}:  # an index
        keys = ", ".join(f"{kind} {name}:{type_}" for name, kind, type_ in value["keys"])
        projection = value["projection"]
        included = projection.get("NonKeyAttributes")
        shown = projection["ProjectionType"] + (f" {included}" if included else "")
        return f"({keys}; projection {shown})"
    if isinstance(value, list) and all(isinstance(k, list) and len(k) == 3 for k in value):
        return "(" + ", ".join(f"{kind} {name}:{type_}" for name, kind, type_ in value) + ")"
    return json.dumps(value, sort_keys=True, default=str)


@attrs.frozen
class SchemaDiff:
    """How a live table differs from its model; empty (falsy) when they agree.

    Attributes:
        table: the table's full name.
        changes: the differences, breaking first, then data, then safe.
    """

    table: str
    changes: tuple[Change, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.changes)

    def of(self, severity: Severity) -> tuple[Change, ...]:
        """The changes of one severity."""
        return tuple(c for c in self.changes if c.severity == severity)

    @property
    def safe(self) -> tuple[Change, ...]:
        """Changes `Schema.update` applies online."""
        return self.of("safe")

    @property
    def data(self) -> tuple[Change, ...]:
        """Changes that need a data migration."""
        return self.of("data")

    @property
    def breaking(self) -> tuple[Change, ...]:
        """Changes that need a new table."""
        return self.of("breaking")

    def to_dict(self) -> dict[str, Any]:
        """The diff as plain data (for JSON output)."""
        return {"table": self.table, "changes": [c.to_dict() for c in self.changes]}

    def __str__(self) -> str:
        if not self.changes:
            return f"{self.table}: up to date"
        lines = [f"{self.table}: {len(self.changes)} change(s)"]
        lines += [f"  {change}" for change in self.changes]
        return "\n".join(lines)


# --- the wanted table -------------------------------------------------------------


def _projection(mapper: Mapper[Any], projection: Projection) -> dict[str, Any]:
    spec: dict[str, Any] = {"ProjectionType": projection.type}
    if projection.type == "INCLUDE":
        spec["NonKeyAttributes"] = sorted(mapper.stored_name(a) for a in projection.attributes)
    return spec


def _key_schema(mapper: Mapper[Any], partition: str, sort: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": mapper.stored_name(partition), "KeyType": "HASH"}]
    if sort is not None:
        schema.append({"AttributeName": mapper.stored_name(sort), "KeyType": "RANGE"})
    return schema


def _definitions(mapper: Mapper[Any], names: Iterable[str]) -> list[dict[str, str]]:
    types = mapper.key_attributes
    return [{"AttributeName": n, "AttributeType": types[n]} for n in dict.fromkeys(names)]


def _key_names(schema: Iterable[Mapping[str, str]]) -> list[str]:
    return [k["AttributeName"] for k in schema]


def _gsi(mapper: Mapper[Any], index: GlobalIndex, options: TableOptions) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "IndexName": index.name,
        "KeySchema": _key_schema(mapper, index.partition_key, index.sort_key),
        "Projection": _projection(mapper, index.projection),
    }
    capacity = options.index_capacity(index.name)
    if options.billing_mode == "PROVISIONED" and capacity is not None:
        spec["ProvisionedThroughput"] = capacity.request()
    return spec


def _stream(options: TableOptions) -> dict[str, Any]:
    if options.stream is None:
        return {"StreamEnabled": False}
    return {"StreamEnabled": True, "StreamViewType": options.stream}


def _sse(options: TableOptions) -> dict[str, Any]:
    return _sse_spec(options.sse_kms_key)


def create_table_request(
    mapper: Mapper[Any], table_name: str, options: TableOptions | None = None
) -> dict[str, Any]:
    """The CreateTable request for a mapper: keys, indexes and its `TableOptions`."""
    options = options or mapper.options
    key_schema = _key_schema(mapper, mapper.partition_key, mapper.sort_key)
    gsis = [_gsi(mapper, i, options) for i in mapper.indexes.values() if isinstance(i, GlobalIndex)]
    lsis = [
        {
            "IndexName": index.name,
            "KeySchema": _key_schema(mapper, mapper.partition_key, index.sort_key),
            "Projection": _projection(mapper, index.projection),
        }
        for index in mapper.indexes.values()
        if isinstance(index, LocalIndex)
    ]
    names = _key_names(key_schema)
    for index in (*gsis, *lsis):
        names += _key_names(index["KeySchema"])
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": key_schema,
        "AttributeDefinitions": _definitions(mapper, names),
        "BillingMode": options.billing_mode,
    }
    if options.throughput is not None:
        request["ProvisionedThroughput"] = options.throughput.request()
    if gsis:
        request["GlobalSecondaryIndexes"] = gsis
    if lsis:
        request["LocalSecondaryIndexes"] = lsis
    if options.stream is not None:
        request["StreamSpecification"] = _stream(options)
    if options.sse_kms_key is not None:
        request["SSESpecification"] = _sse(options)
    if options.tags:
        request["Tags"] = [{"Key": k, "Value": v} for k, v in options.tags]
    if options.deletion_protection:
        request["DeletionProtectionEnabled"] = True
    if options.table_class != "STANDARD":
        request["TableClass"] = options.table_class
    return request


def gsi_create_request(
    mapper: Mapper[Any], table_name: str, index: GlobalIndex, options: TableOptions | None = None
) -> dict[str, Any]:
    """The UpdateTable request that adds one global index of the mapper."""
    spec = _gsi(mapper, index, options or mapper.options)
    table_keys = _key_names(_key_schema(mapper, mapper.partition_key, mapper.sort_key))
    return {
        "TableName": table_name,
        # The table's keys too: DynamoDB merges them, and some servers replace the list.
        "AttributeDefinitions": _definitions(mapper, table_keys + _key_names(spec["KeySchema"])),
        "GlobalSecondaryIndexUpdates": [{"Create": spec}],
    }


# --- comparing with the live table ------------------------------------------------


@attrs.frozen
class LiveTable:
    """What DynamoDB says of a table: DescribeTable, DescribeTimeToLive, its tags.

    Attributes:
        description: DescribeTable's ``Table``.
        ttl: DescribeTimeToLive's ``TimeToLiveDescription``.
        tags: the table's tags.
    """

    description: Mapping[str, Any]
    ttl: Mapping[str, Any] = attrs.field(factory=dict)
    tags: Mapping[str, str] = attrs.field(factory=dict)


def _signature(spec: Mapping[str, Any], types: Mapping[str, str]) -> list[list[str | None]]:
    return [
        [k["AttributeName"], k["KeyType"], types.get(k["AttributeName"])] for k in spec["KeySchema"]
    ]


def _projection_of(spec: Mapping[str, Any]) -> dict[str, Any]:
    projection = dict(spec.get("Projection") or {"ProjectionType": "ALL"})
    if "NonKeyAttributes" in projection:
        projection["NonKeyAttributes"] = sorted(projection["NonKeyAttributes"])
    return projection


def _index_shape(spec: Mapping[str, Any], types: Mapping[str, str]) -> dict[str, Any]:
    return {"keys": _signature(spec, types), "projection": _projection_of(spec)}


def _types(spec: Mapping[str, Any]) -> dict[str, str]:
    return {d["AttributeName"]: d["AttributeType"] for d in spec.get("AttributeDefinitions", ())}


def _live_types(desc: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, str]:
    # Some local servers (moto) forget the definitions of earlier keys when an index is
    # added; an attribute with no reported type is taken as the model's, not as a change.
    return {**_types(wanted), **_types(desc)}


def _throughput(spec: Mapping[str, Any]) -> dict[str, int] | None:
    units = spec.get("ProvisionedThroughput")
    if not units:
        return None
    return {
        "ReadCapacityUnits": units["ReadCapacityUnits"],
        "WriteCapacityUnits": units["WriteCapacityUnits"],
    }


def _capacity(options: TableOptions, index: str) -> dict[str, int]:
    units = options.index_capacity(index)
    assert units is not None  # provisioned options always have the table's throughput
    return units.request()


def _billing(live: Mapping[str, Any]) -> str:
    # Tables created before on-demand existed have no summary: they are provisioned.
    summary = live.get("BillingModeSummary") or {}
    return str(summary.get("BillingMode", "PROVISIONED"))


def compare(
    mapper: Mapper[Any],
    table_name: str,
    live: LiveTable | None,
    options: TableOptions | None = None,
) -> SchemaDiff:
    """The differences between the mapper's table and the live one (``None``: missing)."""
    options = options or mapper.options
    wanted = create_table_request(mapper, table_name, options)
    if live is None:
        calls = [Call("CreateTable", wanted)]
        calls += _ttl_calls(mapper, table_name)
        undo = (Call("DeleteTable", {"TableName": table_name}),)
        create = Change("create_table", "safe", "table", None, table_name, tuple(calls), undo)
        return SchemaDiff(table_name, (create,))
    desc = live.description
    if "KeySchema" not in desc:
        raise DynamoDBError(
            "DescribeTable's answer lacks KeySchema",
            code="MalformedResponse",
            table=table_name,
            operation="DescribeTable",
        )
    changes: list[Change] = []
    wanted_types, live_types = _types(wanted), _live_types(desc, wanted)

    wanted_keys, live_keys = _signature(wanted, wanted_types), _signature(desc, live_types)
    if wanted_keys != live_keys:
        changes.append(Change("key_schema", "breaking", "table", live_keys, wanted_keys))

    wanted_lsis = {
        i["IndexName"]: _index_shape(i, wanted_types)
        for i in wanted.get("LocalSecondaryIndexes", ())
    }
    live_lsis = {
        i["IndexName"]: _index_shape(i, live_types) for i in desc.get("LocalSecondaryIndexes") or ()
    }
    for name in sorted(wanted_lsis.keys() | live_lsis.keys()):
        if wanted_lsis.get(name) != live_lsis.get(name):
            changes.append(
                Change(
                    "local_index",
                    "breaking",
                    f"index {name}",
                    live_lsis.get(name),
                    wanted_lsis.get(name),
                )
            )

    # Billing before indexes: a new index of a table turning provisioned has throughput.
    changes += _table_setting_changes(wanted, desc, options)
    changes += _gsi_changes(mapper, table_name, wanted, desc, options)
    changes += _ttl_changes(mapper, table_name, live.ttl)
    missing_tags = {k: v for k, v in options.tags if live.tags.get(k) != v}
    if missing_tags:
        changes.append(
            Change(
                "tags",
                "safe",
                "table",
                {k: live.tags[k] for k in missing_tags if k in live.tags} or None,
                missing_tags,
                (
                    Call(
                        "TagResource",
                        {
                            "ResourceArn": desc.get("TableArn"),
                            "Tags": [{"Key": k, "Value": v} for k, v in missing_tags.items()],
                        },
                        wait=False,
                    ),
                ),
                _tags_undo(desc.get("TableArn"), missing_tags, live.tags),
            )
        )
    changes.sort(key=lambda c: _SEVERITY_ORDER[c.severity])
    return SchemaDiff(table_name, tuple(changes))


def _gsi_changes(
    mapper: Mapper[Any],
    table_name: str,
    wanted: Mapping[str, Any],
    desc: Mapping[str, Any],
    options: TableOptions,
) -> list[Change]:
    wanted_types, live_types = _types(wanted), _live_types(desc, wanted)
    wanted_gsis = {i["IndexName"]: i for i in wanted.get("GlobalSecondaryIndexes", ())}
    live_gsis = {i["IndexName"]: i for i in desc.get("GlobalSecondaryIndexes") or ()}
    changes: list[Change] = []
    provisioned = options.billing_mode == "PROVISIONED" and _billing(desc) == "PROVISIONED"
    for name in sorted(wanted_gsis.keys() | live_gsis.keys()):
        want, have = wanted_gsis.get(name), live_gsis.get(name)
        subject = f"index {name}"
        if have is None:
            index = mapper.indexes[name]
            assert isinstance(index, GlobalIndex)
            request = gsi_create_request(mapper, table_name, index, options)
            changes.append(
                Change(
                    "add_index",
                    "safe",
                    subject,
                    None,
                    _index_shape(want or {}, wanted_types),
                    (Call("UpdateTable", request),),
                    (Call("UpdateTable", gsi_delete_request(table_name, name)),),
                )
            )
        elif want is None:
            changes.append(
                Change(
                    "drop_index",
                    "safe",
                    subject,
                    _index_shape(have, live_types),
                    None,
                    (Call("UpdateTable", gsi_delete_request(table_name, name)),),
                    (Call("UpdateTable", _recreate_index(table_name, have, live_types, options)),),
                )
            )
        elif _index_shape(want, wanted_types) != _index_shape(have, live_types):
            changes.append(
                Change(
                    "replace_index",
                    "data",
                    subject,
                    _index_shape(have, live_types),
                    _index_shape(want, wanted_types),
                )
            )
        elif provisioned and _throughput(want) != _throughput(have):
            live_units = _throughput(have)
            changes.append(
                Change(
                    "throughput",
                    "safe",
                    subject,
                    live_units,
                    _throughput(want),
                    (Call("UpdateTable", _index_units(table_name, name, _throughput(want))),),
                    None
                    if live_units is None
                    else (Call("UpdateTable", _index_units(table_name, name, live_units)),),
                )
            )
    return changes


def _table_setting_changes(
    wanted: Mapping[str, Any], desc: Mapping[str, Any], options: TableOptions
) -> list[Change]:
    name = wanted["TableName"]
    changes: list[Change] = []
    live_billing = _billing(desc)
    if live_billing != options.billing_mode:
        request: dict[str, Any] = {"TableName": name, "BillingMode": options.billing_mode}
        if options.throughput is not None:
            request["ProvisionedThroughput"] = options.throughput.request()
            # Every live index needs capacity in this call, also one the model drops.
            updates = [
                {
                    "Update": {
                        "IndexName": i["IndexName"],
                        "ProvisionedThroughput": _capacity(options, i["IndexName"]),
                    }
                }
                for i in desc.get("GlobalSecondaryIndexes") or ()
            ]
            if updates:
                request["GlobalSecondaryIndexUpdates"] = updates
        changes.append(
            Change(
                "billing",
                "safe",
                "table",
                live_billing,
                options.billing_mode,
                (Call("UpdateTable", request),),
                _billing_undo(name, desc),
            )
        )
    elif options.throughput is not None and _throughput(desc) != options.throughput.request():
        request = {"TableName": name, "ProvisionedThroughput": options.throughput.request()}
        live_units = _throughput(desc)
        changes.append(
            Change(
                "throughput",
                "safe",
                "table",
                live_units,
                options.throughput.request(),
                (Call("UpdateTable", request),),
                None
                if live_units is None
                else (
                    Call("UpdateTable", {"TableName": name, "ProvisionedThroughput": live_units}),
                ),
            )
        )

    live_stream = desc.get("StreamSpecification") or {"StreamEnabled": False}
    live_view = live_stream.get("StreamViewType") if live_stream.get("StreamEnabled") else None
    if live_view != options.stream:
        changes.append(
            Change(
                "stream",
                "safe",
                "table",
                live_view,
                options.stream,
                _stream_calls(name, live_view, options.stream),
                _stream_calls(name, options.stream, live_view),
            )
        )

    sse = desc.get("SSEDescription") or {}
    live_kms = (
        sse.get("KMSMasterKeyArn")
        if sse.get("Status") in ("ENABLED", "UPDATING") and sse.get("SSEType") == "KMS"
        else None
    )
    wanted_kms = options.sse_kms_key
    # A key given by id or alias matches any KMS key: only DynamoDB knows its ARN.
    differs = (live_kms is None) != (wanted_kms is None) or (
        wanted_kms is not None and wanted_kms.startswith("arn:") and wanted_kms != live_kms
    )
    if differs:
        changes.append(
            Change(
                "sse",
                "safe",
                "table",
                live_kms,
                wanted_kms,
                (Call("UpdateTable", {"TableName": name, "SSESpecification": _sse(options)}),),
                (
                    Call(
                        "UpdateTable", {"TableName": name, "SSESpecification": _sse_spec(live_kms)}
                    ),
                ),
            )
        )

    live_protection = bool(desc.get("DeletionProtectionEnabled", False))
    if live_protection != options.deletion_protection:
        request = {"TableName": name, "DeletionProtectionEnabled": options.deletion_protection}
        changes.append(
            Change(
                "deletion_protection",
                "safe",
                "table",
                live_protection,
                options.deletion_protection,
                (Call("UpdateTable", request),),
                (
                    Call(
                        "UpdateTable",
                        {"TableName": name, "DeletionProtectionEnabled": live_protection},
                    ),
                ),
            )
        )

    live_class = (desc.get("TableClassSummary") or {}).get("TableClass", "STANDARD")
    if live_class != options.table_class:
        request = {"TableName": name, "TableClass": options.table_class}
        changes.append(
            Change(
                "table_class",
                "safe",
                "table",
                live_class,
                options.table_class,
                (Call("UpdateTable", request),),
                (Call("UpdateTable", {"TableName": name, "TableClass": live_class}),),
            )
        )
    return changes


def _ttl_calls(mapper: Mapper[Any], table_name: str) -> list[Call]:
    if mapper.ttl_attribute is None:
        return []
    return list(_ttl_move(table_name, None, mapper.stored_name(mapper.ttl_attribute)))


def _ttl_move(table_name: str, live: str | None, wanted: str | None) -> tuple[Call, ...]:
    """The calls that take TTL from attribute `live` to `wanted` (``None``: off)."""
    calls: list[Call] = []
    for enabled, attribute in ((False, live), (True, wanted)):
        if attribute is not None:  # TTL moves by turning it off first
            spec = {"Enabled": enabled, "AttributeName": attribute}
            request = {"TableName": table_name, "TimeToLiveSpecification": spec}
            calls.append(Call("UpdateTimeToLive", request, wait=False))
    return tuple(calls)


def _ttl_changes(mapper: Mapper[Any], table_name: str, ttl: Mapping[str, Any]) -> list[Change]:
    enabled = ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    live = ttl.get("AttributeName") if enabled else None
    wanted = None if mapper.ttl_attribute is None else mapper.stored_name(mapper.ttl_attribute)
    if live == wanted:
        return []
    if live is not None and wanted is not None:
        # Off, then on for the other attribute: DynamoDB refuses the second change for
        # about an hour after the first, so this cannot be done in one go.
        return [Change("ttl", "data", "table", live, wanted)]
    calls, undo = _ttl_move(table_name, live, wanted), _ttl_move(table_name, wanted, live)
    return [Change("ttl", "safe", "table", live, wanted, calls, undo)]


# --- the calls of each change, both ways --------------------------------------------


def _stream_calls(table_name: str, live: str | None, wanted: str | None) -> tuple[Call, ...]:
    calls = []
    if live is not None:  # a stream's view type cannot change: off, then on
        spec: dict[str, Any] = {"StreamEnabled": False}
        calls.append(Call("UpdateTable", {"TableName": table_name, "StreamSpecification": spec}))
    if wanted is not None:
        spec = {"StreamEnabled": True, "StreamViewType": wanted}
        calls.append(Call("UpdateTable", {"TableName": table_name, "StreamSpecification": spec}))
    return tuple(calls)


def _sse_spec(kms_key: str | None) -> dict[str, Any]:
    if kms_key is None:
        return {"Enabled": False}
    return {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms_key}


def gsi_delete_request(table_name: str, index: str) -> dict[str, Any]:
    """The UpdateTable request that deletes the global index `index`."""
    return {
        "TableName": table_name,
        "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": index}}],
    }


def _index_units(table_name: str, index: str, units: Mapping[str, int] | None) -> dict[str, Any]:
    update = {"IndexName": index, "ProvisionedThroughput": dict(units or {})}
    return {"TableName": table_name, "GlobalSecondaryIndexUpdates": [{"Update": update}]}


def _recreate_index(
    table_name: str, live: Mapping[str, Any], types: Mapping[str, str], options: TableOptions
) -> dict[str, Any]:
    """The UpdateTable that creates again a live global index, from its description.

    Its capacity is the live one; or, when the model makes the table provisioned
    (and the index was on demand), the model's, since a migration's down runs before
    the billing mode is turned back.
    """
    spec: dict[str, Any] = {
        "IndexName": live["IndexName"],
        "KeySchema": [dict(k) for k in live["KeySchema"]],
        "Projection": _projection_of(live),
    }
    units = _throughput(live)
    if units and units["ReadCapacityUnits"] and units["WriteCapacityUnits"]:
        spec["ProvisionedThroughput"] = units
    elif options.billing_mode == "PROVISIONED":
        spec["ProvisionedThroughput"] = _capacity(options, live["IndexName"])
    names = _key_names(live["KeySchema"])
    return {
        "TableName": table_name,
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": types[n]} for n in names if n in types
        ],
        "GlobalSecondaryIndexUpdates": [{"Create": spec}],
    }


def _billing_undo(table_name: str, desc: Mapping[str, Any]) -> tuple[Call, ...] | None:
    if _billing(desc) == "PAY_PER_REQUEST":
        return (Call("UpdateTable", {"TableName": table_name, "BillingMode": "PAY_PER_REQUEST"}),)
    units = _throughput(desc)
    if units is None:
        return None
    request: dict[str, Any] = {
        "TableName": table_name,
        "BillingMode": "PROVISIONED",
        "ProvisionedThroughput": units,
    }
    updates = [
        {"Update": {"IndexName": i["IndexName"], "ProvisionedThroughput": _throughput(i)}}
        for i in desc.get("GlobalSecondaryIndexes") or ()
        if _throughput(i)
    ]
    if updates:
        request["GlobalSecondaryIndexUpdates"] = updates
    return (Call("UpdateTable", request),)


def _tags_undo(
    arn: str | None, added: Mapping[str, str], live: Mapping[str, str]
) -> tuple[Call, ...]:
    calls = []
    new_keys = [k for k in added if k not in live]
    if new_keys:
        calls.append(Call("UntagResource", {"ResourceArn": arn, "TagKeys": new_keys}, wait=False))
    old = [{"Key": k, "Value": live[k]} for k in added if k in live]
    if old:
        calls.append(Call("TagResource", {"ResourceArn": arn, "Tags": old}, wait=False))
    return tuple(calls)
