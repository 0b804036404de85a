"""A task's watermark is checked when the project loads: the file, the key path and the reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from p2c_project_files import assert_error, line_of

from p2c.errors import ConfigError
from p2c.project import load_project
from p2c.project.watermark import Watermark

PROJECT = """\
name: t
connections: connections.yaml
templates: [accounts, products]
tasks:
  Products:
"""


def _error(write: Callable[..., Path], text: str) -> tuple[ConfigError, Path]:
    path = write(text)
    with pytest.raises(ConfigError) as info:
        load_project(path)
    return info.value, path


@pytest.mark.parametrize(
    ("extra", "path", "needle", "reason"),
    [
        pytest.param(
            "    watermark: ModifiedDateTime\n",
            "tasks.Products.watermark",
            "watermark:",
            "unknown field 'ModifiedDateTime' on SellableReleasedProducts (erp)",
            id="unknown-field",
        ),
        pytest.param(
            "    watermark: ProductName\n",
            "tasks.Products.watermark",
            "watermark:",
            "'ProductName' is a string field; a watermark must be a date or a date-time",
            id="not-a-date",
        ),
        pytest.param(
            "    watermark: ReleaseDate\n    watermark_overlap: two days\n",
            "tasks.Products.watermark_overlap",
            "watermark_overlap",
            "'two days' is not a duration",
            id="bad-overlap",
        ),
    ],
)
def test_watermark_errors(
    write: Callable[..., Path], extra: str, path: str, needle: str, reason: str
) -> None:
    text = PROJECT + extra
    if "ReleaseDate" in extra:  # a custom date field the customer added to the entity
        text += "custom_fields:\n  SellableReleasedProducts:\n    ReleaseDate: {type: date}\n"
    e, file = _error(write, text)
    assert_error(e, file, path, line_of(text, needle), reason)


def test_a_crm_task_takes_no_watermark(write: Callable[..., Path]) -> None:
    text = PROJECT.replace("Products:", "Accounts:") + "    watermark: modifiedon\n"
    e, file = _error(write, text)
    reason = "a watermark narrows ERP reads; accounts is a CRM entity, read through change tracking"
    assert_error(e, file, "tasks.Accounts.watermark", line_of(text, "watermark:"), reason)


def test_a_custom_date_time_field_is_a_watermark(write: Callable[..., Path]) -> None:
    text = (
        PROJECT
        + "    watermark: ModifiedDateTime\n    watermark_overlap: 30m\n"
        + "custom_fields:\n  SellableReleasedProducts:\n    ModifiedDateTime: {type: datetime}\n"
    )
    project = load_project(write(text))
    tasks = {t.name: t for t in project.tasks}
    assert tasks["Products"].watermark == Watermark("ModifiedDateTime", False, timedelta(minutes=30))
    assert tasks["ProductPriceListItems"].watermark is None


def test_invoices_have_their_date_as_watermark_and_a_project_can_turn_it_off(
    write: Callable[..., Path],
) -> None:
    text = "name: t\nconnections: connections.yaml\n" + (
        "templates: [accounts, products, contacts, quotes, orders_to_erp, orders_from_erp, invoices]\n"
    )
    tasks = {t.name: t for t in load_project(write(text)).tasks}
    assert tasks["SalesInvoiceHeader"].watermark == Watermark("InvoiceDate", True, timedelta(days=2))
    assert tasks["SalesInvoiceLine"].watermark == Watermark("InvoiceDate", True, timedelta(days=2))
    off = (
        text
        + "tasks:\n  SalesInvoiceLine:\n    watermark: null\n  SalesInvoiceHeader:\n    watermark_overlap: 7d\n"
    )
    tasks = {t.name: t for t in load_project(write(off)).tasks}
    assert tasks["SalesInvoiceLine"].watermark is None
    assert tasks["SalesInvoiceHeader"].watermark == Watermark("InvoiceDate", True, timedelta(days=7))
