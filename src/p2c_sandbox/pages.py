"""Read-only HTML pages for people: a record's fields, or a message saying why there is no record.

The web console links each record to the record's page "in the CRM" and "in the ERP"; the
emulators answer those URLs (:mod:`p2c_sandbox.dataverse.views`, :mod:`p2c_sandbox.fno.views`)
with pages built here. Every text that reaches the page goes through :func:`html.escape`, the CSS
is inline and a ``Content-Security-Policy`` forbids anything else, so a page works offline and a
value such as ``<script>`` shows as text.

Example::

    >>> page = RecordPage("Dynamics 365 Sales", "Account", "Contoso <Ltd>", ["accountid: 1"])
    >>> page.fields.append(Field("Account Name", "name", "Contoso <Ltd>"))
    >>> resp = page.response()
    >>> resp.status, b"Contoso &lt;Ltd&gt;" in resp.body
    (200, True)
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from p2c_sandbox.http import Response

__all__ = [
    "PAGE_METHODS",
    "Field",
    "Link",
    "PageError",
    "RecordPage",
    "error_response",
    "message_page",
    "not_allowed_page",
]

#: Methods a page answers; anything else is a 405 (the pages are read only).
PAGE_METHODS = ("GET", "HEAD")

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1b1b;background:#f4f4f6}
header{background:#243a5e;color:#fff;padding:.6em 1.2em;font-size:13px}
header b{font-weight:600}
main{max-width:60em;margin:1.2em auto;padding:0 1.2em}
h1{font-size:1.5em;margin:.2em 0}
.sub{color:#555;margin:0 0 1em}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px #0002}
th,td{text-align:left;vertical-align:top;padding:.35em .7em;border-bottom:1px solid #e4e4e8}
th{width:34%;font-weight:500}
th small,.muted{color:#777;font-weight:400}
td{word-break:break-word;white-space:pre-wrap}
h2{font-size:1.1em;margin:1.4em 0 .4em}
ul{margin:.3em 0;padding-left:1.4em}
details{margin-top:1em;color:#555}
.msg{background:#fff;padding:1em 1.2em;box-shadow:0 1px 2px #0002}
footer{color:#777;font-size:12px;margin:2em 0}
a{color:#0f5cb4}
""".strip()

_HEADERS = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    # nothing but the inline style: no scripts, images or fonts from anywhere
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


@dataclass(frozen=True)
class Link:
    """A link to another page (``href`` is a URL relative to the server, built with urlencode)."""

    text: str
    href: str

    def render(self) -> str:
        return f'<a href="{_e(self.href)}">{_e(self.text)}</a>'


@dataclass(frozen=True)
class Field:
    """One row of the field table: the column's label, its name, the value shown, an optional link."""

    label: str
    name: str
    value: str
    link: str | None = None
    note: str = ""

    def render(self) -> str:
        head = _e(self.label)
        if self.name and self.name != self.label:
            head += f" <small>{_e(self.name)}</small>"
        value = Link(self.value, self.link).render() if self.link else _e(self.value)
        if self.note:
            value += f' <span class="muted">{_e(self.note)}</span>'
        return f"<tr><th>{head}</th><td>{value}</td></tr>"


@dataclass
class RecordPage:
    """The page of one record: the product, the table's name, the record's name, its fields."""

    product: str
    kind: str
    name: str
    facts: list[str]
    fields: list[Field] = field(default_factory=list)
    #: names of the columns without a value (listed, folded, under the table)
    empty: list[str] = field(default_factory=list)
    #: related records by relationship: (heading, links)
    related: list[tuple[str, list[Link]]] = field(default_factory=list)

    def response(self) -> Response:
        parts = [
            f"<h1>{_e(self.name)}</h1>",
            f'<p class="sub">{_e(self.kind)}' + "".join(f" · {_e(f)}" for f in self.facts) + "</p>",
            "<table>",
            *(f.render() for f in self.fields),
            "</table>",
        ]
        if self.empty:
            parts.append(
                f"<details><summary>{len(self.empty)} columns without a value</summary>"
                f"<p>{_e(', '.join(self.empty))}</p></details>"
            )
        for heading, links in self.related:
            parts.append(f"<h2>{_e(heading)}</h2>")
            parts.append("<ul>" + "".join(f"<li>{link.render()}</li>" for link in links) + "</ul>")
        return _page(200, self.product, f"{self.kind}: {self.name}", "\n".join(parts))


class PageError(Exception):
    """A request a page cannot answer with a record: 400 (bad URL) or 404 (no such table or record).

    ``items`` are listed under the message (the known table names, menu items, matching records).
    """

    def __init__(self, status: int, message: str, items: Sequence[str | Link] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.items = list(items or [])


def message_page(
    status: int, product: str, message: str, items: Sequence[str | Link] | None = None
) -> Response:
    """A page that says why there is no record to show."""
    title = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}.get(status, "Error")
    body = f'<h1>{_e(title)}</h1><div class="msg"><p>{_e(message)}</p>'
    if items:
        lis = "".join(f"<li>{i.render() if isinstance(i, Link) else _e(i)}</li>" for i in items)
        body += f"<ul>{lis}</ul>"
    return _page(status, product, title, body + "</div>")


def error_response(product: str, exc: PageError) -> Response:
    return message_page(exc.status, product, exc.message, exc.items)


def not_allowed_page(product: str, method: str) -> Response:
    resp = message_page(405, product, f"{method} is not allowed: this page is read only (GET or HEAD).")
    resp.headers["allow"] = ", ".join(PAGE_METHODS)
    return resp


def _page(status: int, product: str, title: str, body: str) -> Response:
    text = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} - {_e(product)}</title><style>{_CSS}</style></head>\n<body>"
        f"<header><b>{_e(product)}</b> · p2c sandbox · read-only record view</header>\n"
        f"<main>\n{body}\n<footer>Served by the p2c sandbox. Read only: change records through the "
        "API.</footer></main></body></html>\n"
    )
    return Response(status, dict(_HEADERS), text.encode("utf-8"))
