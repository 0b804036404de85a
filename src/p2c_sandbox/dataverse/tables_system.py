"""Platform tables: business units and teams (who owns records, and where they belong), users
(record owners), the organization row (org-wide settings such as
``createproductswithoutparentinactivestate`` and the document number counters), and the read-only
``sdkmessage``/``sdkmessagefilter`` tables that tell which messages a table supports
(DATAVERSE.md §2.10).

Example::

    >>> ORGANIZATION.columns["createproductswithoutparentinactivestate"].kind
    <Kind.BOOLEAN: 'Boolean'>
"""

from __future__ import annotations

from p2c_sandbox.dataverse.options import RO, SYS
from p2c_sandbox.dataverse.schema import (
    Ownership,
    boolean,
    integer,
    lookup,
    picklist,
    string,
    table,
)

__all__ = ["ORGANIZATION", "OWNER_TABLES", "SYSTEM_TABLES"]

#: the tables an ``ownerid`` may name (a principal: a user or a team)
OWNER_TABLES = ("systemuser", "team")

BUSINESSUNIT = table(
    "businessunit",
    "businessunits",
    "businessunitid",
    "name",
    [
        string("name", 160, required=SYS),
        lookup("parentbusinessunitid", "businessunit"),
        boolean("isdisabled", **RO),
    ],
    ownership=Ownership.BUSINESS,
    label="Business Unit",
    type_code=10,
    multiple=False,
)

TEAM = table(
    "team",
    "teams",
    "teamid",
    "name",
    [
        string("name", 160, required=SYS),
        lookup("businessunitid", "businessunit", required=SYS),
        # the team Dataverse creates with each business unit, named after it
        boolean("isdefault", **RO),
        picklist("teamtype", {0: "Owner", 1: "Access", 2: "Security Group", 3: "Office Group"}, default=0),
    ],
    ownership=Ownership.BUSINESS,
    label="Team",
    type_code=9,
    multiple=False,
)


SYSTEMUSER = table(
    "systemuser",
    "systemusers",
    "systemuserid",
    "fullname",
    [
        string("firstname", 64),
        string("lastname", 64),
        string("fullname", 200, **RO),
        string("domainname", 1024, required=SYS),
        string("internalemailaddress", 100),
        string("title", 128),
        string("applicationid", 100),
        lookup("businessunitid", "businessunit"),
        boolean("isdisabled", **RO),
        picklist(
            "accessmode",
            {
                0: "Read-Write",
                1: "Administrative",
                2: "Read",
                3: "Support User",
                4: "Non-interactive",
                5: "Delegated Admin",
            },
            default=0,
        ),
    ],
    ownership=Ownership.BUSINESS,
    label="User",
    type_code=8,
)

ORGANIZATION = table(
    "organization",
    "organizations",
    "organizationid",
    "name",
    [
        string("name", 160, update=False),
        lookup("basecurrencyid", "transactioncurrency", update=False),
        boolean("createproductswithoutparentinactivestate"),
        boolean("oobpricecalculationenabled"),
        integer("pricingdecimalprecision", 0, 4),
        integer("expirechangetrackingindays", 0, 365),
        string("quoteprefix", 20),
        string("orderprefix", 20),
        string("invoiceprefix", 20),
        integer("currentquotenumber", 0, **RO),
        integer("currentordernumber", 0, **RO),
        integer("currentinvoicenumber", 0, **RO),
    ],
    ownership=Ownership.ORGANIZATION,
    type_code=1019,
    multiple=False,
)

SDKMESSAGE = table(
    "sdkmessage",
    "sdkmessages",
    "sdkmessageid",
    "name",
    [string("name", 256)],
    ownership=Ownership.ORGANIZATION,
    label="Sdk Message",
    type_code=4606,
    multiple=False,
    read_only=True,
)

SDKMESSAGEFILTER = table(
    "sdkmessagefilter",
    "sdkmessagefilters",
    "sdkmessagefilterid",
    "name",
    [
        string("name", 256),
        lookup("sdkmessageid", "sdkmessage"),
        string("primaryobjecttypecode", 64),
        boolean("isvisible"),
    ],
    ownership=Ownership.ORGANIZATION,
    label="Sdk Message Filter",
    type_code=4607,
    multiple=False,
    read_only=True,
)

SYSTEM_TABLES = (BUSINESSUNIT, TEAM, SYSTEMUSER, ORGANIZATION, SDKMESSAGE, SDKMESSAGEFILTER)
