"""Flow 1, Accounts → Customers (CRM → ERP): the account number is the customer account.

- ``generate_account_number``: an account without a number gets ``ACC-01000-BVRCPS``
  (prefix ``account_number_prefix``), written back to the CRM before the customer is written.
- ``report_duplicate_numbers``: accounts sharing a number fail, naming each other.

Everything else — customer group, site, warehouse, language defaults, country value map — is the
template's mapping (``templates/accounts.yaml``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from p2c.flows.base import Flow, FlowContext, Prepared
from p2c.flows.numbers import SeenNumbers, duplicate_numbers, generate_numbers
from p2c.rules import FlowName, RuleName
from p2c.settings import System

__all__ = ["AccountsFlow"]

NUMBER = "accountnumber"


class AccountsFlow(Flow):
    name: ClassVar[FlowName] = FlowName.ACCOUNTS

    def __init__(self, ctx: FlowContext) -> None:
        super().__init__(ctx)
        self.numbers = SeenNumbers(ctx.unsettled)  # across the pages of a read

    def side_targets(self) -> set[tuple[System, str]]:
        if self.ctx.has(RuleName.GENERATE_ACCOUNT_NUMBER):
            return {(System.CRM, self.task.source.entity)}
        return set()

    def prepare_read(
        self, rows: list[dict[str, Any]], key_of: Callable[[Mapping[str, Any]], str]
    ) -> Prepared:
        out = Prepared()
        if self.ctx.has(RuleName.GENERATE_ACCOUNT_NUMBER):
            prefix = self.ctx.project.settings.account_number_prefix
            out.merge(generate_numbers(self.ctx, rows, key_of, NUMBER, prefix, self.numbers))
        if self.ctx.has(RuleName.REPORT_DUPLICATE_NUMBERS) and self.task.key_source:
            out.merge(duplicate_numbers(self.ctx, rows, key_of, self.task.key_source[0], self.numbers))
        return out
