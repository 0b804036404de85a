"""Error bodies of both services and their classification: pure, with literal bodies (FNO.md §1.8)."""

from __future__ import annotations

import json

import pytest

from p2c.connectors.protocol_errors import Service, classify, infolog_reason, parse_error
from p2c.errors import (
    AuthError,
    NotFoundError,
    RecordError,
    ServiceUnavailableError,
    ThrottledError,
    TransientError,
)

# FNO.md §1.8 / S13: a validation error as F&O writes it
FNO_VALIDATION = {
    "error": {
        "code": "",
        "message": "An error has occurred.",
        "innererror": {
            "message": "Write failed for table row of type 'CustCustomerV3Entity'. Infolog: Warning: The value "
            "'99' in field 'Customer group' is not found in the relating table 'Customer groups'.; "
            "Warning: validateWrite failed on data source 'Customers (CustTable)'.",
            "type": "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException",
            "stacktrace": "   at Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataDelegatingHandler...",
        },
    }
}
# FNO.md §1.6 / S13: a duplicate POST inside $batch, answered 500
FNO_DUPLICATE = (
    "Write failed for table row of type 'CustCustomerGroupEntity'. Infolog: Info: Cannot create a record in "
    "Customer groups (CustGroup). Customer group: Batch2, .... The record already exists.."
)


def body(doc: object) -> bytes:
    return json.dumps(doc).encode()


def test_fno_infolog_reason_strips_levels_and_the_closing_line() -> None:
    err = parse_error(400, body(FNO_VALIDATION))
    assert (
        err.message
        == "The value '99' in field 'Customer group' is not found in the relating table 'Customer groups'"
    )
    assert err.infolog
    assert "validateWrite failed" in err.raw  # the whole text stays available as detail


def test_fno_infolog_with_an_info_line() -> None:
    assert infolog_reason(FNO_DUPLICATE) == (
        "Cannot create a record in Customer groups (CustGroup). Customer group: Batch2, .... The record already exists"
    )


def test_fno_infolog_with_several_lines() -> None:
    text = (
        "Write failed for table row of type 'X'. Infolog: Error: A is blocked.; Warning: B; is odd.; Info: C."
    )
    assert infolog_reason(text) == "A is blocked; B; is odd; C"


def test_a_text_without_infolog_has_no_infolog_reason() -> None:
    assert infolog_reason("An error has occurred.") is None


def test_dataverse_error_code_and_message() -> None:
    err = parse_error(
        400,
        b'{"error":{"code":"0x80044331","message":"A validation error occurred.  The length of the \'name\' '
        b"attribute of the 'account' entity exceeded the maximum allowed length of '160'.\"}}",
    )
    assert err.code == "0x80044331"
    assert err.message.startswith("A validation error occurred.")
    assert not err.infolog


def test_fno_web_api_message_shape() -> None:
    err = parse_error(
        404, b'{"Message":"No HTTP resource was found that matches the request URI \'https://x/data/Nope\'."}'
    )
    assert err.message.startswith("No HTTP resource was found")
    assert isinstance(classify(err, Service.FNO, entity="Nope"), NotFoundError)


def test_fno_inner_message_preferred_over_the_generic_one() -> None:
    doc = {
        "error": {"code": "", "message": "An error has occurred.", "innererror": {"message": "Bad $filter"}}
    }
    assert parse_error(400, body(doc)).message == "Bad $filter"


def test_bodies_that_are_not_json() -> None:
    assert parse_error(502, b"<html>Bad Gateway</html>").message == "HTTP 502"
    assert parse_error(503, b"").message == "HTTP 503"
    assert parse_error(500, b"upstream reset").message == "upstream reset"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, RecordError),
        (409, RecordError),
        (412, RecordError),
        (404, NotFoundError),
        (401, AuthError),
        (403, AuthError),
        (429, ThrottledError),
        (500, ServiceUnavailableError),
        (502, ServiceUnavailableError),
        (503, ServiceUnavailableError),
        (504, ServiceUnavailableError),
    ],
)
def test_classification_by_status(status: int, expected: type) -> None:
    err = classify(parse_error(status, b'{"error":{"code":"","message":"x"}}'), Service.DATAVERSE)
    assert type(err) is expected


def test_fno_500_with_an_infolog_is_a_record_error_not_an_outage() -> None:
    err = classify(parse_error(500, body(FNO_VALIDATION)), Service.FNO, entity="CustomersV3", key="ACC-1")
    assert isinstance(err, RecordError)
    assert not isinstance(err, TransientError)
    assert err.status == 500 and err.entity == "CustomersV3" and err.key == "ACC-1"
    assert str(err).startswith("CustomersV3 'ACC-1': The value '99' in field 'Customer group'")


def test_a_plain_fno_500_is_transient() -> None:
    doc = {"error": {"code": "", "message": "An error has occurred.", "innererror": {"message": "Timeout"}}}
    assert isinstance(classify(parse_error(500, body(doc)), Service.FNO), ServiceUnavailableError)


def test_throttled_error_carries_retry_after() -> None:
    err = classify(parse_error(429, b""), Service.DATAVERSE, retry_after=12.0)
    assert isinstance(err, ThrottledError) and err.retry_after == 12.0


def test_duplicates_are_typed_from_the_dataverse_code_and_the_fno_infolog() -> None:
    from p2c.errors import DuplicateRecordError

    dataverse = parse_error(
        412, b'{"error":{"code":"0x80060892","message":"A record that has the attribute ..."}}'
    )
    assert type(classify(dataverse, Service.DATAVERSE)) is DuplicateRecordError
    other = parse_error(412, b'{"error":{"code":"0x80040237","message":"A record with matching key ..."}}')
    assert type(classify(other, Service.DATAVERSE)) is DuplicateRecordError
    fno = parse_error(
        500,
        b'{"error":{"code":"","message":"An error has occurred.","innererror":{"message":"Write failed for '
        b"table row of type 'CustCustomerV3Entity'. Infolog: Warning: Cannot create a record in Customers "
        b'(CustTable). Customer account: D-1. The record already exists..","type":"AxODataWriteException"}}}',
    )
    assert type(classify(fno, Service.FNO)) is DuplicateRecordError
    refused = parse_error(400, b'{"error":{"code":"0x80044331","message":"A validation error occurred."}}')
    assert type(classify(refused, Service.DATAVERSE)) is RecordError
