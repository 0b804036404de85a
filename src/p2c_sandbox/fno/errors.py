"""F&O error answers (FNO.md §1.8): the ASP.NET OData envelope with an Infolog text, and the Web API 404.

Everything the emulator refuses is raised as :class:`FnoError` and turned into a response in one
place, so every client error has the same shape::

    {"error": {"code": "", "message": "An error has occurred.",
               "innererror": {"message": "<text>", "type": "<.NET exception type>", "stacktrace": ""}}}

Business validation uses :func:`write_failed`, whose text the connector splits on ``Infolog:``::

    >>> e = write_failed("CustCustomerV3Entity", ["The value '99' in field 'Customer group' is not found "
    ...                  "in the relating table 'Customer groups'"], table="Customers (CustTable)")
    >>> e.status, e.message.split("Infolog: ")[1][:28]
    (400, "Warning: The value '99' in f")

Exception tree::

    Exception
    └── FnoError            .status, .message, .type; .response()
"""

from __future__ import annotations

from p2c_sandbox.http import Response, json_response

__all__ = [
    "ODATA_EXCEPTION",
    "WRITE_EXCEPTION",
    "FnoError",
    "bad_request",
    "error_response",
    "no_resource",
    "not_found",
    "write_failed",
]

WRITE_EXCEPTION = "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException"
ODATA_EXCEPTION = "Microsoft.OData.ODataException"
KEY_NOT_FOUND = "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataObjectNotFoundException"


class FnoError(Exception):
    """A refused request: ``status`` plus the innererror ``message`` and exception ``type``.

    ``web_api`` errors use the plain Web API body ``{"Message": ...}`` (unknown routes, FNO.md §1.8).
    """

    def __init__(
        self, status: int, message: str, type_: str = ODATA_EXCEPTION, *, web_api: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.web_api = web_api

    def response(self) -> Response:
        if self.web_api:
            return json_response(self.status, {"Message": self.message})
        return error_response(self.status, self.message, self.type)


def error_response(status: int, message: str, type_: str = ODATA_EXCEPTION, code: str = "") -> Response:
    body = {
        "error": {
            "code": code,
            "message": "An error has occurred.",
            "innererror": {"message": message, "type": type_, "stacktrace": ""},
        }
    }
    return json_response(status, body)


def bad_request(message: str, type_: str = ODATA_EXCEPTION) -> FnoError:
    return FnoError(400, message, type_)


def no_resource(url: str) -> FnoError:
    """An unknown entity set or route: the Web API 404 (S15)."""
    return FnoError(404, f"No HTTP resource was found that matches the request URI '{url}'.", web_api=True)


def not_found(type_name: str, key_text: str) -> FnoError:
    return FnoError(404, f"No {type_name} entity matches the key ({key_text}).", KEY_NOT_FOUND)


def write_failed(
    aot: str,
    messages: list[str],
    *,
    table: str | None = None,
    level: str = "Warning",
    status: int = 400,
) -> FnoError:
    """The AxODataWriteException text: ``Write failed for table row of type '<AOT>'. Infolog: ...``.

    ``table`` adds the closing "validateWrite failed on data source" line real validation errors carry.
    """
    # the framework appends "." to every Infolog line, hence "The record already exists.." (S13)
    parts = [f"{level}: {m}." for m in messages]
    if table is not None:
        parts.append(f"Warning: validateWrite failed on data source '{table}'.")
    text = f"Write failed for table row of type '{aot}'. Infolog: " + "; ".join(parts)
    return FnoError(status, text, WRITE_EXCEPTION)
