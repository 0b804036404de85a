"""OData machinery shared by the Dataverse and F&O emulators.

Example::

    >>> from p2c_sandbox.odata import BatchDialect
    >>> BatchDialect("fno") is BatchDialect.FNO
    True
"""

from p2c_sandbox.odata.batch import BatchDialect, ErrorFactory, execute_batch

__all__ = ["BatchDialect", "ErrorFactory", "execute_batch"]
