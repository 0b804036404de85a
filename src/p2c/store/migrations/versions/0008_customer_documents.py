"""The customers of CRM documents, kept incrementally ("is active customer" proportional to change).

``customer_documents`` holds the customer of each CRM quote, order and invoice, kept from their
change feeds; ``customers_touched`` the contacts whose flag may have changed, until each contact
task has completed a run after the change (:mod:`p2c.store.customers`).

Revision ID: 0008
Revises: 0006 (0007 when merged after it)
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customer_documents",
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("document_id", sa.Text, nullable=False),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("entity", "document_id", name="pk_customer_documents"),
    )
    op.create_index("ix_customer_documents_customer_id", "customer_documents", ["customer_id"])
    op.create_table(
        "customers_touched",
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("touched_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name="pk_customers_touched"),
    )


def downgrade() -> None:
    op.drop_table("customers_touched")
    op.drop_index("ix_customer_documents_customer_id", "customer_documents")
    op.drop_table("customer_documents")
