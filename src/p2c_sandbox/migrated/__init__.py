"""The ``migrated`` seed: both emulators as an environment that ran Microsoft's Prospect-to-cash
templates for a while (p2c issue 12) — the ``demo`` data, Microsoft's P2C solution in the CRM, and
everything the templates synchronised (:mod:`~p2c_sandbox.migrated.world`), plus a few changes
since their last run (:mod:`~p2c_sandbox.migrated.since`).

Each emulator is seeded on its own (``POST /sandbox/reset {"seed": "migrated"}`` goes to one
server), so each replays the migration on its data and a scratch, in-memory copy of the other;
the migration is deterministic, so the two agree.

Example::

    migrate_crm(crm_service)   # after seeding it demo+microsoft
    migrate_erp(erp_service)   # after seeding it demo
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from p2c_sandbox.migrated.world import Migration

if TYPE_CHECKING:
    from p2c_sandbox.dataverse.service import DataverseService
    from p2c_sandbox.fno import FnoService

__all__ = ["SEED", "Migration", "migrate_crm", "migrate_erp"]

SEED = "migrated"


def migrate_crm(crm: DataverseService) -> None:
    """The CRM of the migrated world; ``crm`` holds ``demo+microsoft``."""
    from p2c_sandbox.fno import FnoService

    erp = FnoService(replace(crm.config, seed="demo"), None)
    Migration(crm, erp).run()


def migrate_erp(erp: FnoService) -> None:
    """The ERP of the migrated world; ``erp`` holds ``demo``."""
    from p2c_sandbox.dataverse.service import DataverseService

    crm = DataverseService(replace(erp.config, seed="demo+microsoft"), None)
    Migration(crm, erp).run()
