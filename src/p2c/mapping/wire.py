"""A mapped payload as the Dataverse Web API takes it: lookups as ``nav@odata.bind`` references.

The mapper gives a lookup field its related record's id (or, for a polymorphic lookup such as
``customerid``, ``(entity set, id)``); what the Web API wants is a reference bound through the
lookup's navigation property (DATAVERSE.md §2.4): ``pricelevelid: "<id>"`` is sent as
``"pricelevelid@odata.bind": "/pricelevels(<id>)"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from p2c.catalog import EntitySpec
from p2c.odata import quote_string

__all__ = ["to_wire"]


def to_wire(payload: Mapping[str, Any], entity: EntitySpec) -> dict[str, Any]:
    """A Dataverse payload: lookup fields become ``nav@odata.bind`` references.

    A lookup value is a record id (``/set(id)``) or a mapping of alternate-key values
    (``/set(k='v')``); polymorphic lookups (``customerid``) take ``(entity set, id)``.
    """
    lookups = entity.lookups
    if lookups.keys().isdisjoint(payload):
        return dict(payload)
    out: dict[str, Any] = {}
    for name, value in payload.items():
        spec = lookups.get(name)
        if spec is None:
            out[name] = value
            continue
        targets = spec.targets
        if isinstance(value, tuple):
            set_name, value = value
            nav = targets[set_name]
        elif len(targets) == 1:
            ((set_name, nav),) = targets.items()
        else:
            raise ValueError(f"{name} is polymorphic ({', '.join(targets)}): give (entity set, id)")
        if type(value) is str:  # a record id: most lookups
            out[f"{nav}@odata.bind"] = f"/{set_name}({value})"
        elif value is None:
            out[f"{nav}@odata.bind"] = None
        elif isinstance(value, Mapping):
            keys = ",".join(f"{k}={quote_string(v) if isinstance(v, str) else v}" for k, v in value.items())
            out[f"{nav}@odata.bind"] = f"/{set_name}({keys})"
        else:
            out[f"{nav}@odata.bind"] = f"/{set_name}({value})"
    return out
