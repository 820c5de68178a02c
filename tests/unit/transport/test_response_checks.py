"""The transport's own checks of a response: a damaged body, and the debug log's redaction."""

from __future__ import annotations

import zlib

import pytest
from botocore.exceptions import ChecksumError
from botocore.parsers import ResponseParserError

from dynamorm_async import DynamoDBError, ValidationError
from dynamorm_async.transport import malformed, reading
from dynamorm_async.transport._client import _check_body, describe_request

BODY = b'{"Item": {"id": {"S": "a"}}}'


def response(body: bytes, status: int = 200, crc: str | None = "auto") -> dict:
    headers = {}
    if crc == "auto":
        headers["x-amz-crc32"] = str(zlib.crc32(body) & 0xFFFFFFFF)
    elif crc is not None:
        headers["x-amz-crc32"] = crc
    return {"status_code": status, "body": body, "headers": headers}


def test_a_body_with_its_checksum_passes():
    _check_body(response(BODY))


@pytest.mark.parametrize("crc", ["12345", "not-a-number", ""])
def test_a_wrong_checksum_is_refused(crc):
    with pytest.raises(ChecksumError):
        _check_body(response(BODY, crc=crc))


def test_a_damaged_body_fails_its_checksum():
    good = response(BODY)
    good["body"] = BODY[:-3]
    with pytest.raises(ChecksumError):
        _check_body(good)


@pytest.mark.parametrize("body", [b'{"Item": {"id"', b"[1, 2]", b"null", b"\xff\xfe", b'"x"'])
def test_without_a_checksum_a_body_must_be_a_json_object(body):
    with pytest.raises(ResponseParserError):
        _check_body(response(body, crc=None))


def test_without_a_checksum_a_json_object_passes():
    _check_body(response(BODY, crc=None))
    _check_body(response(b"", crc=None))  # nothing to read: botocore's own handling


def test_error_responses_are_left_to_botocore():
    _check_body(response(b"<html>oops", status=500, crc="1"))


def test_reading_turns_shape_errors_into_a_malformed_response_error():
    with pytest.raises(DynamoDBError) as caught, reading("BatchGetItem", "t"):
        {}["Responses"]
    assert caught.value.code == "MalformedResponse"
    assert caught.value.operation == "BatchGetItem"
    assert caught.value.table == "t"
    assert "KeyError" in str(caught.value)


def test_reading_lets_the_librarys_own_errors_through():
    with pytest.raises(ValidationError), reading("GetItem"):
        raise ValidationError("ours")


def test_malformed_takes_a_description_or_an_exception():
    assert "Count is 'x'" in str(malformed("Query", "t", "Count is 'x'"))
    assert "ValueError: bad" in str(malformed("Query", "t", ValueError("bad")))


def test_the_request_log_shows_types_not_values():
    request = {
        "TableName": "t",
        "Key": {"id": {"S": "secret"}, "n": {"N": "5"}},
        "ConditionExpression": "#n0 = :v0",
        "ExpressionAttributeNames": {"#n0": "note"},
        "ExpressionAttributeValues": {":v0": {"M": {"deep": {"S": "secret"}}}},
    }
    line = describe_request("UpdateItem", request, show_values=False)
    assert "secret" not in line
    assert "Key={'id': <S>, 'n': <N>}" in line
    assert "':v0': <M>" in line
    assert "ConditionExpression='#n0 = :v0'" in line
    assert "'#n0': 'note'" in line
    assert "secret" in describe_request("UpdateItem", request, show_values=True)


def test_a_batch_is_logged_as_its_first_entry_and_a_count():
    entries = [{"PutRequest": {"Item": {"id": {"S": str(i)}}}} for i in range(25)]
    line = describe_request("BatchWriteItem", {"RequestItems": {"t": entries}}, False)
    assert line.count("PutRequest") == 1
    assert "25 in all" in line
