"""OData machinery shared by the Dataverse and F&O emulators, independent of p2c's own.

``$filter`` (:mod:`~p2c_sandbox.odata.filter`), ``$select``/``$orderby``/``$expand``
(:mod:`~p2c_sandbox.odata.options`), ``$batch`` bodies (:mod:`~p2c_sandbox.odata.multipart`)
and their execution (:mod:`~p2c_sandbox.odata.batch`).

Example::

    >>> from p2c_sandbox.odata import BatchDialect
    >>> BatchDialect("fno") is BatchDialect.FNO
    True
"""

from p2c_sandbox.odata import batch, filter, multipart, options
from p2c_sandbox.odata.batch import *  # noqa: F403
from p2c_sandbox.odata.filter import *  # noqa: F403
from p2c_sandbox.odata.multipart import *  # noqa: F403
from p2c_sandbox.odata.options import *  # noqa: F403

__all__ = sorted({*batch.__all__, *filter.__all__, *multipart.__all__, *options.__all__})
