"""The emulated Dataverse Web API (Dynamics 365 Sales) of the p2c sandbox.

:class:`DataverseService` serves ``/api/data/v9.2/`` (DATAVERSE.md §2, §3, §5): the Sales tables
with their columns, lookups and rules, the upsert and conditional-write matrix, query options,
server paging, change tracking, ``$batch``, the bulk messages, errors, metadata (custom columns,
alternate keys, change tracking switch) and the Sales lifecycle actions. Where the sandbox
knowingly differs from the real service, ``DEVIATIONS.md`` beside this file says so.

Example::

    >>> from p2c_sandbox.config import SandboxConfig
    >>> from p2c_sandbox.http import Request
    >>> svc = DataverseService(SandboxConfig(data_dir=None, seed="empty"), None)
    >>> svc.handle(Request("GET", "accounts", base_url="https://h")).status
    200
"""

from p2c_sandbox.dataverse.service import DataverseService

__all__ = ["DataverseService"]
