"""Which ``$filter`` syntax each service accepts, and the message when it does not.

Dataverse documents ``contains``/``startswith``/``endswith`` and its own query functions
(``Microsoft.Dynamics.CRM.In`` ...) but no arithmetic; F&O has arithmetic and enum literals but
no functions, ``in`` or lambdas (FNO.md §1.4 — the wildcard ``eq '*x*'`` replaces ``contains``).

    >>> violation(Dialect.FNO, "in", "in")
    "The 'in' operator is not supported by Finance and Operations."
    >>> violation(Dialect.DATAVERSE, "in", "in") is None
    True
"""

from __future__ import annotations

from collections.abc import Mapping

from p2c_sandbox.odata.filter_ast import Dialect

__all__ = ["CRM_PARAMETERS", "CRM_PREFIX", "KNOWN_FUNCTIONS", "STRING_FUNCTIONS", "violation"]

CRM_PREFIX = "Microsoft.Dynamics.CRM."

#: The Dataverse query functions the sandbox evaluates, each with its parameters besides PropertyName.
CRM_PARAMETERS: Mapping[str, frozenset[str]] = {
    **dict.fromkeys(("In", "NotIn", "Between", "NotBetween"), frozenset({"PropertyValues"})),
    **dict.fromkeys(
        ("On", "OnOrAfter", "OnOrBefore", "LastXDays", "NextXDays"), frozenset({"PropertyValue"})
    ),
    **dict.fromkeys(("Today", "Yesterday", "Tomorrow"), frozenset[str]()),
}

#: The only standard functions Dataverse evaluates in ``$filter``.
STRING_FUNCTIONS = frozenset({"contains", "startswith", "endswith"})

#: Standard OData functions: named in messages as "not supported" rather than "unknown".
KNOWN_FUNCTIONS = STRING_FUNCTIONS | frozenset(
    [
        "tolower",
        "toupper",
        "trim",
        "length",
        "indexof",
        "substring",
        "concat",
        "year",
        "month",
        "day",
        "hour",
        "minute",
        "second",
        "date",
        "now",
    ]
)

_FNO = "Finance and Operations"


def violation(dialect: Dialect, feature: str, name: str) -> str | None:
    """Why ``dialect`` refuses ``feature`` (``in``, ``has``, ``arithmetic``, ``function``, ``crm``,
    ``lambda``, ``enum``) used as ``name``, or None when it accepts it."""
    if dialect is Dialect.FNO:
        return _fno(feature, name)
    return _dataverse(feature, name)


def _fno(feature: str, name: str) -> str | None:
    if feature in ("in", "has"):
        return f"The '{name}' operator is not supported by {_FNO}."
    if feature == "lambda":
        return f"The lambda operator '{name}' is not supported by {_FNO}."
    if feature == "crm":
        return f"The function '{CRM_PREFIX}{name}' is a Dataverse query function; {_FNO} has none."
    if feature == "function":
        if name not in KNOWN_FUNCTIONS:
            return f"Unknown function '{name}'."
        return (
            f"The function '{name}' is not supported by {_FNO}; use a wildcard in an 'eq' comparison "
            "instead, e.g. Name eq '*text*'."
        )
    return None


def _dataverse(feature: str, name: str) -> str | None:
    if feature == "has":
        return "The 'has' operator is not supported by Dataverse."
    if feature == "arithmetic":
        return f"The arithmetic operator '{name}' is not supported by Dataverse."
    if feature == "enum":
        return f"Enum literal {name} is not supported by Dataverse; compare choice columns with integers."
    if feature == "function" and name not in STRING_FUNCTIONS:
        if name not in KNOWN_FUNCTIONS:
            return f"Unknown function '{name}'."
        return f"The function '{name}' is not supported by Dataverse; only contains, startswith and endswith are."
    if feature == "crm" and name not in CRM_PARAMETERS:
        return f"The query function '{CRM_PREFIX}{name}' is not supported (supported: {', '.join(CRM_PARAMETERS)})."
    return None
