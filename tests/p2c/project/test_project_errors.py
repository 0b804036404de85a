"""Every load-time problem is one ConfigError naming the file, the line, the key path and the reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from p2c_project_files import MINI_TEMPLATE, SECRET, assert_error, line_of

from p2c.errors import ConfigError
from p2c.project import load_project, load_template

PROJECT = """\
name: t
connections: connections.yaml
templates: [accounts, products]
"""


def template_error(write: Callable[..., Path], text: str) -> tuple[ConfigError, Path, str]:
    path = write(text, "mine.yaml")
    with pytest.raises(ConfigError) as info:
        load_template(path)
    return info.value, path, text


def project_error(write: Callable[..., Path], text: str) -> tuple[ConfigError, Path, str]:
    path = write(text)
    with pytest.raises(ConfigError) as info:
        load_project(path)
    return info.value, path, text


# -- template files ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "path", "needle", "reason"),
    [
        pytest.param(
            "OrganizationName: name",
            "CustomerGroup: name",
            "tasks.Accounts.fields.CustomerGroup",
            "CustomerGroup:",
            "unknown field 'CustomerGroup' on CustomersV3 (erp) (did you mean 'CustomerGroupId'?)",
            id="unknown-target",
        ),
        pytest.param(
            "OrganizationName: name",
            "OrganizationName: nmae",
            "tasks.Accounts.fields.OrganizationName",
            "nmae",
            "unknown source field 'nmae' on accounts (crm) (did you mean 'name'?)",
            id="unknown-source",
        ),
        pytest.param(
            "OrganizationName: name",
            "OrganizationName: new_region",
            "tasks.Accounts.fields.OrganizationName",
            "new_region",
            "unknown source field 'new_region' on accounts (crm)",
            id="undeclared-custom-column",
        ),
        pytest.param(
            "OrganizationName: name",
            'CreditLimit: {expr: "creditlimit * (1 + "}',
            "tasks.Accounts.fields.CreditLimit.expr",
            "CreditLimit:",
            "expected a number, a field or '(' but found the end at position 19 in 'creditlimit * (1 + '",
            id="bad-arithmetic",
        ),
        pytest.param(
            "OrganizationName: name",
            'CreditLimit: {expr: "name * 2"}',
            "tasks.Accounts.fields.CreditLimit.expr",
            "CreditLimit:",
            "'name' in expr is string, not a number",
            id="arithmetic-on-text",
        ),
        pytest.param(
            "OrganizationName: name",
            "OrganizationName: {sorce: name}",
            "tasks.Accounts.fields.OrganizationName.sorce",
            "sorce",
            "unknown key 'sorce'",
            id="unknown-expression-key",
        ),
        pytest.param(
            "OrganizationName: name",
            "CreditLimit: 5",
            "tasks.Accounts.fields.CreditLimit",
            "CreditLimit:",
            "a bare value must be a source field name; write {const: 5} for a constant",
            id="bare-number",
        ),
        pytest.param(
            "OrganizationName: name",
            "OrganizationName: {source: name, const: x}",
            "tasks.Accounts.fields.OrganizationName",
            "const: x",
            "one producer, not source and const",
            id="two-producers",
        ),
        pytest.param(
            "OrganizationName: name",
            "AddressCountryRegionISOCode: {source: address1_country, value_map: contry}",
            "tasks.Accounts.fields.AddressCountryRegionISOCode.value_map",
            "contry",
            "unknown value map 'contry' (did you mean 'country'?); defined: country",
            id="unknown-value-map",
        ),
        pytest.param(
            "OrganizationName: name",
            "CreditLimit: {const: abc}",
            "tasks.Accounts.fields.CreditLimit.const",
            "const: abc",
            "constant 'abc' does not fit CreditLimit (decimal): 'abc' is not a number",
            id="const-decimal",
        ),
        pytest.param(
            "OrganizationName: name",
            "IsExternallyMaintained: {const: Maybe}",
            "tasks.Accounts.fields.IsExternallyMaintained.const",
            "Maybe",
            "'Maybe' is not a member of enum NoYes (No, Yes)",
            id="enum-member",
        ),
        pytest.param(
            "OrganizationName: name",
            "SiteId: {source: address1_country, default: true}",
            "tasks.Accounts.fields.SiteId.default",
            "default: true",
            "default True does not fit SiteId (string): True is not text",
            id="default-fits",
        ),
        pytest.param(
            "OrganizationName: name",
            "FullPrimaryAddress: address1_line1",
            "tasks.Accounts.fields.FullPrimaryAddress",
            "FullPrimaryAddress",
            "FullPrimaryAddress is read-only on CustomersV3",
            id="read-only",
        ),
        pytest.param(
            "      OrganizationName: name",
            "      OrganizationName: name\n    rules: [generate_acount_number]",
            "tasks.Accounts.rules[0]",
            "generate_acount_number",
            "unknown rule 'generate_acount_number' (did you mean 'generate_account_number'?)",
            id="unknown-rule",
        ),
        pytest.param(
            "    key: {source: [accountnumber], target: [dataAreaId, CustomerAccount]}",
            "    key: {source: [accountnumber], target: [dataAreaId, CustomerAccount, SiteId]}",
            "tasks.Accounts.key.target[2]",
            "    key:",
            "key field 'SiteId' is not mapped",
            id="unmapped-key",
        ),
        pytest.param(
            "target: {system: erp, entity: CustomersV3}",
            "target: {system: erp, entity: CustomersV9}",
            "tasks.Accounts.target.entity",
            "CustomersV9",
            "unknown erp entity 'CustomersV9' (did you mean 'CustomersV3'?)",
            id="unknown-entity",
        ),
        pytest.param(
            "target: {system: erp, entity: CustomersV3}",
            "target: {system: crm, entity: contacts}",
            "tasks.Accounts.target.system",
            "target:",
            "source and target must be different systems",
            id="same-system",
        ),
        pytest.param(
            "      OrganizationName: name",
            "      OrganizationName: name\n    filter: \"name in ('a', 'b') and statecode eq 0 or\"",
            "tasks.Accounts.filter",
            "filter:",
            "invalid filter: Syntax error at position",
            id="filter-syntax",
        ),
        pytest.param(
            "      OrganizationName: name",
            "      OrganizationName: name\n    filter: \"nme eq 'x'\"",
            "tasks.Accounts.filter",
            "filter:",
            "Could not find a property named 'nme'",
            id="filter-property",
        ),
        pytest.param(
            "      OrganizationName: name",
            "      OrganizationName: name\n      SalesCurrencyCode:\n"
            "        lookup: {source: _transactioncurrencyid_value, entity: currencies, field: isocurrencycode}",
            "tasks.Accounts.fields.SalesCurrencyCode.lookup.entity",
            "lookup:",
            "unknown entity 'currencies' in lookup",
            id="lookup-entity",
        ),
        pytest.param(
            "      OrganizationName: name",
            "      OrganizationName: {source: $price_list}",
            "tasks.Accounts.fields.OrganizationName.source",
            "$price_list",
            "'$price_list' is provided by rule choose_price_list: add it to the task's rules",
            id="pseudo-field",
        ),
        pytest.param(
            '  country: {"": US, Canada: CA}',
            '  country: {"": US, Canada: CA, CANADA : CA}',
            "value_maps.country",
            "country:",
            "keys 'Canada' and 'CANADA' are the same key",
            id="value-map-keys",
        ),
        pytest.param(
            "    fields:",
            "    flds: {}\n    fields:",
            "tasks.Accounts.flds",
            "flds",
            "unknown key 'flds' (did you mean 'fields'?)",
            id="unknown-task-key",
        ),
    ],
)
def test_template_errors(
    write: Callable[..., Path], old: str, new: str, path: str, needle: str, reason: str
) -> None:
    assert old in MINI_TEMPLATE
    text = MINI_TEMPLATE.replace(old, new, 1)
    e, file, text = template_error(write, text)
    assert_error(e, file, path, line_of(text, needle), reason)


def test_constants_are_converted_to_the_target_type_when_they_fit(write: Callable[..., Path]) -> None:
    text = MINI_TEMPLATE.replace(
        "OrganizationName: name",
        "SiteId: {source: address1_country, default: 42}\n      CreditLimit: {const: 10}\n"
        "      IsExternallyMaintained: {const: true}\n    defaults: {OnHoldStatus: never}",
    )
    task = load_template(write(text, "mine.yaml")).task("Accounts")
    assert task.fields["SiteId"].default == 42  # type: ignore[union-attr]
    assert dict(task.defaults) == {"OnHoldStatus": "Never"}  # the enum member's exact spelling


def test_wrong_lookup_targets(write: Callable[..., Path]) -> None:
    base = """\
name: p
tasks:
  Products:
    source: {system: erp, entity: SellableReleasedProducts}
    target: {system: crm, entity: products}
    key: {source: [ProductNumber], target: [productnumber]}
    fields:
      productnumber: ProductNumber
"""
    e, file, text = template_error(write, base + "      createdon: {const: 2024-01-01}\n")
    assert_error(
        e, file, "tasks.Products.fields.createdon", line_of(text, "createdon"), "createdon is read-only"
    )
    e, file, text = template_error(write, base + "      quantitydecimal: {const: 7}\n")
    assert_error(
        e, file, "tasks.Products.fields.quantitydecimal.const", line_of(text, "const: 7"), "7 is outside 0..5"
    )
    wrong = "      defaultuomid:\n        lookup: {source: SalesUnitSymbol, entity: uomschedules, by: name, field: uomscheduleid}\n"
    e, file, text = template_error(write, base + wrong)
    assert_error(e, file, "tasks.Products.fields.defaultuomid.lookup.entity", line_of(text, "lookup:"),
                 "defaultuomid refers to uoms, not uomschedules")  # fmt: skip
    not_id = "      defaultuomid:\n        lookup: {source: SalesUnitSymbol, entity: uoms, by: name, field: name}\n"
    e, file, text = template_error(write, base + not_id)
    assert_error(e, file, "tasks.Products.fields.defaultuomid.lookup.field", line_of(text, "lookup:"),
                 "the lookup must give the id of a uoms record")  # fmt: skip
    bad_by = "      defaultuomid:\n        lookup: {source: SalesUnitSymbol, entity: uoms, by: nmae, field: uomid}\n"
    e, file, text = template_error(write, base + bad_by)
    assert_error(e, file, "tasks.Products.fields.defaultuomid.lookup.by", line_of(text, "lookup:"),
                 "unknown field 'nmae' on uoms (crm)")  # fmt: skip


def test_unknown_template_by_name() -> None:
    with pytest.raises(ConfigError, match="unknown template 'acounts'; shipped: accounts, contacts, "):
        load_template("acounts")


# -- project files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "path", "needle", "reason"),
    [
        pytest.param(
            "settings: {batch_sise: 100}\n",
            "settings.batch_sise",
            "batch_sise",
            "unknown key 'batch_sise' (did you mean 'batch_size'?)",
            id="unknown-setting",
        ),
        pytest.param(
            "settings: {concurrency: 60}\n",
            "settings.concurrency",
            "concurrency",
            "less than or equal to 52",
            id="concurrency",
        ),
        pytest.param(
            "tasks:\n  Acounts: {disabled: true}\n",
            "tasks.Acounts",
            "Acounts",
            "unknown task 'Acounts' (did you mean 'Accounts'?)",
            id="unknown-task",
        ),
        pytest.param(
            "tasks:\n  Accounts:\n    fields:\n      CustomerGroupId: {const: 10}\n      Bogus: name\n",
            "tasks.Accounts.fields.Bogus",
            "Bogus",
            "unknown field 'Bogus' on CustomersV3 (erp)",
            id="override-field",
        ),
        pytest.param(
            "tasks:\n  Accounts:\n    defaults: {CreditLimit: lots}\n",
            "tasks.Accounts.defaults.CreditLimit",
            "CreditLimit",
            "default 'lots' does not fit CreditLimit (decimal)",
            id="override-default",
        ),
        pytest.param(
            "tasks:\n  Products:\n    filter: \"ProductNumber in ('A', 'B')\"\n",
            "tasks.Products.filter",
            "ProductNumber in",
            "The 'in' operator is not supported by Finance and Operations",
            id="fno-filter",
        ),
        pytest.param(
            "tasks:\n  Accounts:\n    filter: \"statecode eq 'x'\"\n",
            "tasks.Accounts.filter",
            "statecode",
            "Cannot compare property 'statecode'",
            id="filter-type",
        ),
        pytest.param(
            'schedule: "every 5 minutes"\n',
            "schedule",
            "schedule",
            "invalid cron expression",
            id="schedule",
        ),
        pytest.param(
            "schedule: {every: 5m, tasks: [Nope]}\n",
            "schedule.tasks",
            "schedule",
            "unknown task 'Nope'",
            id="schedule-task",
        ),
        pytest.param(
            "value_maps:\n  country: {Canada: CA, canada: CA}\n",
            "value_maps.country",
            "country",
            "keys 'Canada' and 'canada' are the same key",
            id="value-map",
        ),
        pytest.param(
            "legal_entities: {fra: fr}\n",
            "legal_entities.fra",
            "legal_entities",
            "company 'fra' is not among the erp companies (demf, usmf)",
            id="legal-entity",
        ),
        pytest.param(
            "legal_entities:\n  usmf: {business_unit: Contoso US, owner: US Sales}\n",
            "legal_entities.usmf.owner",
            "owner",
            "unknown key 'owner'",
            id="legal-entity-key",
        ),
        pytest.param(
            "legal_entities:\n  demf: {owning_team: DE Sales}\n",
            "legal_entities.demf",
            "demf",
            "required key 'business_unit' is missing",
            id="legal-entity-unit",
        ),
        pytest.param(
            "legal_entities:\n  usmf: Contoso US\n  demf: {business_unit: contoso us}\n",
            "legal_entities.demf",
            "demf",
            "business unit 'contoso us' is mapped by usmf and demf",
            id="legal-entity-shared-unit",
        ),
        pytest.param(
            "legal_entities:\n  usmf: [Contoso US]\n",
            "legal_entities.usmf",
            "usmf",
            "valid dictionary",
            id="legal-entity-shape",
        ),
        pytest.param(
            "custom_fields:\n  accounts: {region: string}\n",
            "custom_fields.accounts.region",
            "region",
            "a custom CRM column is named <publisher prefix>_<name>",
            id="custom-name",
        ),
        pytest.param(
            "custom_fields:\n  accounts: {new_region: text}\n",
            "custom_fields.accounts.new_region",
            "new_region",
            "type must be one of string",
            id="custom-type",
        ),
        pytest.param(
            "custom_fields:\n  acounts: {new_region: string}\n",
            "custom_fields.acounts",
            "acounts",
            "unknown entity 'acounts' (did you mean 'accounts'?)",
            id="custom-entity",
        ),
    ],
)
def test_project_errors(write: Callable[..., Path], extra: str, path: str, needle: str, reason: str) -> None:
    e, file, text = project_error(write, PROJECT + extra)
    assert_error(e, file, path, line_of(text, needle), reason)


def test_unknown_template_in_project(write: Callable[..., Path]) -> None:
    e, file, text = project_error(write, PROJECT.replace("[accounts, products]", "[accounts, prodcts]"))
    assert_error(
        e,
        file,
        "templates[1]",
        line_of(text, "templates"),
        "unknown template 'prodcts' (did you mean 'products'?)",
    )


def test_missing_key_in_project(write: Callable[..., Path]) -> None:
    e, file, _ = project_error(write, "name: t\nconnections: connections.yaml\n")
    assert_error(e, file, "", 1, "required key 'templates' is missing")


def test_dependency_errors(write: Callable[..., Path]) -> None:
    extra = """\
  Groups:
    source: {system: crm, entity: accounts}
    target: {system: erp, entity: CustomerGroups}
    key: {source: [accountnumber], target: [dataAreaId, CustomerGroupId]}
    depends_on: [Accounts]
    fields: {dataAreaId: {context: company}, CustomerGroupId: accountnumber}
"""
    unknown = MINI_TEMPLATE + extra.replace("[Accounts]", "[Acounts]")
    write(unknown, "mine.yaml")
    e, file, _ = project_error(write, PROJECT.replace("[accounts, products]", "[mine.yaml]"))
    tpl = file.parent / "mine.yaml"
    assert_error(e, tpl, "tasks.Groups.depends_on[0]", line_of(unknown, "[Acounts]"),
                 "unknown task 'Acounts' in depends_on (did you mean 'Accounts'?)")  # fmt: skip

    cyclic = MINI_TEMPLATE.replace("    fields:\n", "    depends_on: [Groups]\n    fields:\n", 1) + extra
    write(cyclic, "mine.yaml")
    e, _, _ = project_error(write, PROJECT.replace("[accounts, products]", "[mine.yaml]"))
    assert_error(e, tpl, "tasks.Accounts.depends_on", line_of(cyclic, "depends_on: [Groups]"),
                 "dependency cycle: Accounts → Groups → Accounts")  # fmt: skip

    itself = MINI_TEMPLATE.replace("    fields:\n", "    depends_on: [Accounts]\n    fields:\n", 1)
    write(itself, "mine.yaml")
    e, _, _ = project_error(write, PROJECT.replace("[accounts, products]", "[mine.yaml]"))
    assert_error(
        e,
        tpl,
        "tasks.Accounts.depends_on[0]",
        line_of(itself, "depends_on"),
        "task 'Accounts' depends on itself",
    )


def test_a_task_defined_twice_and_value_maps_that_disagree(write: Callable[..., Path]) -> None:
    write(MINI_TEMPLATE, "mine.yaml")
    e, file, _ = project_error(write, PROJECT.replace("[accounts, products]", "[accounts, mine.yaml]"))
    tpl = file.parent / "mine.yaml"
    assert_error(e, tpl, "value_maps.country", line_of(MINI_TEMPLATE, "country"),
                 "value map 'country' differs from the one in p2c/templates/accounts.yaml")  # fmt: skip
    same_maps = MINI_TEMPLATE.replace('  country: {"": US, Canada: CA}\n', "  other: {a: b}\n")
    write(same_maps, "mine.yaml")
    e, _, _ = project_error(write, PROJECT.replace("[accounts, products]", "[accounts, mine.yaml]"))
    assert_error(e, tpl, "tasks.Accounts", line_of(same_maps, "  Accounts:"),
                 "task 'Accounts' is already defined by template 'accounts'")  # fmt: skip


def test_bad_inline_connections_hide_the_secret(write: Callable[..., Path]) -> None:
    text = (
        "name: t\ntemplates: [accounts]\nconnections:\n  crm: {kind: crm, url: https://a, client_secret: "
        + SECRET
        + "}\n  erp: {kind: erp, url: https://b, client_secret: "
        + SECRET
        + ", timeout: -1}\n  legal_entities: {usmf: usmf}\n"
    )
    e, file, text = project_error(write, text)
    assert_error(e, file, "connections.erp.timeout", line_of(text, "timeout"), "greater than 0")
    assert SECRET not in str(e) and SECRET not in repr(e.as_dict())


def test_errors_in_the_connections_file_name_that_file(
    write: Callable[..., Path], connections_file: Path
) -> None:
    connections_file.write_text(
        connections_file.read_text()
        .replace("  concurrency", "  x")
        .replace("  tenant_id: t1\n  client_id", "  tenant_id: t1\n  concurrency: 0\n  client_id", 1)
    )
    e, _, _ = project_error(write, PROJECT)
    assert e.detail["file"] == str(connections_file) and e.detail["path"] == "crm.concurrency"
    assert SECRET not in str(e)


def test_removing_a_key_field_is_refused(write: Callable[..., Path]) -> None:
    e, _, _ = project_error(write, PROJECT + "tasks:\n  Accounts:\n    fields: {CustomerAccount: null}\n")
    assert e.detail["file"] == "p2c/templates/accounts.yaml"
    assert e.detail["path"] == "tasks.Accounts.key.target[1]"
    assert "key field 'CustomerAccount' is not mapped" in e.reason
