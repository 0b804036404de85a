"""``$metadata`` (EDMX 4.0) and the service document of the sets a release has (FNO.md §1.1).

One schema ``Microsoft.Dynamics.DataEntities`` with the enum types (``Member Name/Value``), one
entity type per set (``Key/PropertyRef``, ``Nullable="false"`` on keys and non-string scalars,
navigation properties) and the container ``Resources``.

Example::

    >>> from p2c_sandbox.fno.releases import release
    >>> xml = metadata_xml(release("10.0.40"))
    >>> '<EntityContainer Name="Resources">' in xml
    True
"""

from __future__ import annotations

from functools import cache
from xml.sax.saxutils import quoteattr

from p2c_sandbox.fno.entities import ENTITY_SETS, Kind
from p2c_sandbox.fno.enums import ENUMS, NAMESPACE
from p2c_sandbox.fno.releases import RELEASES, Release

__all__ = ["metadata_xml", "service_document"]


def metadata_xml(rel: Release) -> str:
    return _metadata(rel.name)


@cache
def _metadata(release_name: str) -> str:
    rel = RELEASES[release_name]
    sets = [es for es in ENTITY_SETS.values() if rel.has_set(es.name)]
    used_enums = sorted({p.enum for es in sets for p in es.props if p.enum})
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
        "  <edmx:DataServices>",
        f'    <Schema Namespace="{NAMESPACE}" xmlns="http://docs.oasis-open.org/odata/ns/edm">',
    ]
    for name in used_enums:
        out.append(f'      <EnumType Name="{name}">')
        for member, value in ENUMS[name].items():
            out.append(f'        <Member Name="{member}" Value="{value}" />')
        out.append("      </EnumType>")
    for es in sets:
        hidden = rel.hidden_props(es.name)
        out.append(f'      <EntityType Name="{es.type_name}">')
        out.append("        <Key>")
        out.extend(f'          <PropertyRef Name="{k}" />' for k in es.keys)
        out.append("        </Key>")
        for p in es.props:
            if p.name in hidden:
                continue
            attrs = f'Name="{p.name}" Type="{p.edm_type}"'
            if not p.nullable:
                attrs += ' Nullable="false"'
            if p.kind is Kind.DECIMAL:
                attrs += ' Precision="32" Scale="6"'
            if p.max_length is not None:
                attrs += f' MaxLength="{p.max_length}"'
            out.append(f"        <Property {attrs} />")
        for nav in es.navigations:
            if not rel.has_set(nav.target):
                continue
            target = ENTITY_SETS[nav.target].type_name
            type_ = f"Collection({NAMESPACE}.{target})" if nav.many else f"{NAMESPACE}.{target}"
            out.append(f'        <NavigationProperty Name="{nav.name}" Type="{type_}">')
            for src, dst in nav.pairs:
                out.append(f'          <ReferentialConstraint Property="{src}" ReferencedProperty="{dst}" />')
            out.append("        </NavigationProperty>")
        out.append(
            f'        <Annotation Term="Microsoft.Dynamics.OData.Core.V1.AOTName" String={quoteattr(es.aot)} />'
        )
        if es.read_only:
            out.append(
                '        <Annotation Term="Microsoft.Dynamics.OData.Core.V1.IsReadOnly" Bool="true" />'
            )
        out.append("      </EntityType>")
    out.append('      <EntityContainer Name="Resources">')
    for es in sets:
        out.append(f'        <EntitySet Name="{es.name}" EntityType="{es.qualified_type}">')
        for nav in es.navigations:
            if rel.has_set(nav.target):
                out.append(f'          <NavigationPropertyBinding Path="{nav.name}" Target="{nav.target}" />')
        out.append("        </EntitySet>")
    out += ["      </EntityContainer>", "    </Schema>", "  </edmx:DataServices>", "</edmx:Edmx>", ""]
    return "\n".join(out)


def service_document(rel: Release, service_root: str) -> dict[str, object]:
    return {
        "@odata.context": f"{service_root}$metadata",
        "value": [
            {"name": es.name, "kind": "EntitySet", "url": es.name}
            for es in ENTITY_SETS.values()
            if rel.has_set(es.name)
        ],
    }
