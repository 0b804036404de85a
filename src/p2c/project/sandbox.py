"""The project ``p2c init`` writes for the local sandbox: every shipped flow, commented defaults.

The file is plain text, not a dump of a :class:`~p2c.project.Project`: it keeps the comments that
show where filters, defaults and value maps go, and it loads with :func:`p2c.project.load_project`
like any project (``docs/templates.md`` explains every key).

Example::

    path = write_sandbox_project("demo", "demo/sandbox/connections.yaml", templates=["accounts"])
    project = load_project(path)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from p2c.project.load import PROJECT_FILE
from p2c.settings import load_connections

__all__ = ["SANDBOX_TEMPLATES", "write_sandbox_project"]

#: what `p2c init` puts in a new project: every shipped flow, in dependency order
SANDBOX_TEMPLATES = (
    "accounts",
    "products",
    "contacts",
    "quotes",
    "orders_to_erp",
    "orders_from_erp",
    "invoices",
)

_SANDBOX_PROJECT = """\
# p2c project for the local sandbox, written by `p2c init`. docs/templates.md explains every key.
name: {name}
connections: {connections}
templates: [{templates}]
state: p2c.db
settings:
  # batch_size: 200    # records per write request; default 1000 into the CRM, 200 into the ERP
  concurrency: 4
  products_created_active: true
  # price_list: CRM Service USA (sample)   # else the first price list of each product's currency
# legal_entities: {{usmf: Contoso US}}     # defaults to the connection set's
value_maps: {{}}                           # merged over the templates' maps, e.g. country: {{Narnia: "NA"}}
tasks: {{}}                                # per task: filter, defaults, fields, disabled
#  Accounts:
#    filter: "statecode eq 0"
#    defaults: {{CustomerGroupId: "20"}}
# schedule: "*/15 * * * *"
"""


def write_sandbox_project(
    directory: Path | str,
    connections_yaml_path: Path | str,
    *,
    name: str = "sandbox",
    overwrite: bool = False,
    templates: Sequence[str] | None = None,
) -> Path:
    """Write ``p2c.yaml`` in ``directory`` for the sandbox's connections; returns its path.

    The connections file is checked first; an existing project is kept unless ``overwrite``.
    ``templates`` defaults to every shipped one (:data:`SANDBOX_TEMPLATES`).
    """
    directory = Path(directory)
    conn = Path(connections_yaml_path)
    load_connections(conn)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / PROJECT_FILE
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; remove it, or replace it with `p2c init --force`")
    try:
        ref = conn.resolve().relative_to(directory.resolve()).as_posix()
    except ValueError:
        ref = str(conn.resolve())
    names = ", ".join(templates or SANDBOX_TEMPLATES)
    text = _SANDBOX_PROJECT.format(name=name, connections=_yaml_str(ref), templates=names)
    target.write_text(text, encoding="utf-8")
    return target


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
