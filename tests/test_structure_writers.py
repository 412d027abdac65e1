"""Structure message writers: schema validity and read-back by sdmx1 and pysdmx."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
import sdmx
from lxml import etree
from pysdmx.io import read_sdmx as pysdmx_read_sdmx

from exchange.formats.structure_message import (
    FORMATS,
    Header,
    NotRepresentable,
    StructureEntry,
    best_text,
    render_structures,
)
from exchange.structures.model import (
    AgencyScheme,
    Annotation,
    Artefact,
    Codelist,
    Component,
    ComponentMap,
    ConceptScheme,
    Contact,
    ContentConstraint,
    CubeRegion,
    Dataflow,
    DataProviderScheme,
    DataStructure,
    Group,
    Item,
    ItemScheme,
    KeySet,
    MetadataAttribute,
    Metadataflow,
    MetadataStructure,
    Ref,
    Representation,
    RepresentationMap,
    StructureMap,
    TextFormat,
    ValueMapping,
)
from exchange.structures.readers import read_structures
from tests.conformance import SCHEMAS, assert_xml_valid, validate_sdmx_json, validate_sdmx_ml, xml_schema

TRICKY = 'Côte d\'Ivoire & <Ålesund> "quoted" नेपाल'
AGENCY = "LNOB"
HEADER = Header(id="TEST_1", prepared=datetime(2025, 3, 1, 12, 30, tzinfo=UTC))


# --- hand-built fixtures ------------------------------------------------------------------------------


def _cl(cl_id: str) -> Ref:
    return Ref("codelist", AGENCY, cl_id, "1.0")


def _concept(concept_id: str) -> Ref:
    return Ref("conceptscheme", AGENCY, "CS_LNOB", "1.0", concept_id)


def _enum(cl_id: str) -> Representation:
    return Representation(enumeration=_cl(cl_id))


def _text(text_type: str, **facets: str) -> Representation:
    return Representation(text_format=TextFormat(text_type, dict(facets)))


def codelists() -> list[Codelist]:
    area = Codelist(
        agency=AGENCY,
        id="CL_AREA",
        name={"en": "Areas", "fr": "Zones", "ne": "क्षेत्रहरू"},
        description={"en": "Reference areas & sub-national places"},
        annotations=[
            Annotation(
                id="ORIGIN", title="M49 <subset>", type="NOTE", url="https://unstats.un.org/m49", text={"en": TRICKY}
            )
        ],
        is_final=True,
        items=[
            Item("001", {"en": "World"}),
            Item("404", {"en": "Kenya", "sw": "Kenya"}, parent="001"),
            Item("KE_47", {"en": "Nairobi County"}, {"en": "A county of Kenya"}, parent="404"),
            Item(
                "384",
                {"en": TRICKY, "fr": "Côte d'Ivoire"},
                annotations=[Annotation(type="ISO", text={"en": "CI", "fr": "C'est « ça »"})],
                parent="001",
            ),
            Item("524", {"en": "Nepal", "ne": "नेपाल"}, parent="001"),
        ],
    )
    freq = Codelist(agency=AGENCY, id="CL_FREQ", name={"en": "Frequency"}, items=[Item("A", {"en": "Annual"})])
    status = Codelist(
        agency=AGENCY,
        id="CL_OBS_STATUS",
        name={"en": "Observation status"},
        items=[Item("A", {"en": "Normal"}), Item("Q", {"en": "Missing, suppressed"})],
    )
    pop = Codelist(
        agency=AGENCY,
        id="CL_POP_GROUP",
        name={"en": "Population groups"},
        items=[
            Item("_T", {"en": "All groups"}),
            Item("NP_CASTE", {"en": "Caste groups (Nepal)"}, parent="_T"),
            Item("DALIT", {"en": "Dalits", "ne": "दलित"}, parent="NP_CASTE"),
            Item("REFUGEE", {"en": "Refugees"}, parent="_T"),
        ],
    )
    cust = Codelist(
        agency=AGENCY,
        id="CL_CUST_BREAKDOWN",
        name={"en": "Custom breakdown"},
        items=[Item("_T", {"en": "No breakdown"}), Item("C01", {"en": "Custom 1"}), Item("C02", {"en": "Custom 2"})],
    )
    return [area, freq, status, pop, cust]


def concept_scheme() -> ConceptScheme:
    def c(cid: str, name: str, **kw: object) -> Item:
        return Item(cid, {"en": name}, **kw)  # type: ignore[arg-type]

    return ConceptScheme(
        agency=AGENCY,
        id="CS_LNOB",
        name={"en": "Partnership concepts", "fr": "Concepts du partenariat"},
        items=[
            c("FREQ", "Frequency", core_representation=_enum("CL_FREQ")),
            c("REF_AREA", "Reference area", core_representation=_enum("CL_AREA")),
            c("POP_GROUP", "Population group", description={"en": "Who the figure is about"}),
            c("TIME_PERIOD", "Time period"),
            c("OBS_VALUE", "Observation value", core_representation=_text("Double")),
            c("OBS_STATUS", "Observation status"),
            c("CONF_STATUS", "Confidentiality status", parent="OBS_STATUS"),
            c("UNIT_MEASURE", "Unit of measure", core_representation=_text("String", maxLength="20")),
            c("COMMENT_DS", TRICKY),
            c("PRODUCER", "Producer"),
            c("METHOD", "Method"),
            c("COLL_METHOD", "Collection method", parent="METHOD"),
            c("SAMPLE_SIZE", "Sample size"),
            c("CONTACT", "Contact"),
        ],
    )


def data_structure() -> DataStructure:
    def dim(cid: str, position: int, rep: Representation | None) -> Component:
        return Component(cid, "dimension", _concept(cid), rep, position=position)

    def attr(cid: str, attachment: str, rep: Representation | None, **kw: object) -> Component:
        return Component(cid, "attribute", _concept(cid), rep, attachment=attachment, **kw)  # type: ignore[arg-type]

    return DataStructure(
        agency=AGENCY,
        id="DSD_LNOB",
        version="1.2",
        name={"en": "Partnership DSD", "sw": "Muundo wa data"},
        annotations=[Annotation(title="DSD annotation")],
        components=[
            dim("FREQ", 1, _enum("CL_FREQ")),
            dim("REF_AREA", 2, _enum("CL_AREA")),
            dim("POP_GROUP", 3, Representation(_cl("CL_POP_GROUP"), TextFormat(None, {"maxLength": "10"}))),
            Component("TIME_PERIOD", "time_dimension", _concept("TIME_PERIOD"), _text("ObservationalTimePeriod")),
            attr("COMMENT_DS", "dataset", _text("String", maxLength="500"), usage="conditional"),
            attr(
                "UNIT_MEASURE",
                "series",
                _text("String"),
                usage="mandatory",
                related_to=["FREQ", "REF_AREA", "POP_GROUP"],
            ),
            attr("CONF_STATUS", "group", None, related_to=["SIBLING"], annotations=[Annotation(text={"en": "k=5"})]),
            attr("OBS_STATUS", "observation", _enum("CL_OBS_STATUS"), usage="mandatory"),
            Component("OBS_VALUE", "measure", _concept("OBS_VALUE"), _text("Double")),
        ],
        groups=[Group("SIBLING", ["REF_AREA", "POP_GROUP"])],
    )


def dataflow() -> Dataflow:
    return Dataflow(
        agency=AGENCY,
        id="DF_KE_COALITION",
        name={"en": "Kenya coalition data", "sw": "Data ya muungano"},
        description={"en": TRICKY},
        is_final=True,
        structure=Ref("datastructure", AGENCY, "DSD_LNOB", "1.2"),
    )


def constraint() -> ContentConstraint:
    return ContentConstraint(
        agency=AGENCY,
        id="CN_KE_COALITION",
        name={"en": "Kenya coalition allowed content"},
        attachments=[Ref("dataflow", AGENCY, "DF_KE_COALITION", "1.0")],
        cube_regions=[CubeRegion(members={"FREQ": ["A"], "REF_AREA": ["404", "KE_47"]})],
        key_sets=[KeySet(keys=[{"FREQ": "A", "REF_AREA": "404", "POP_GROUP": "DALIT"}])],
    )


def provider_constraint() -> ContentConstraint:
    return ContentConstraint(
        agency=AGENCY,
        id="CN_KE_PROVIDER",
        name={"en": "Kenya coalition content, by provider"},
        attachments=[Ref("dataproviderscheme", AGENCY, "DATA_PROVIDERS", "1.0", "KE_COALITION")],
        cube_regions=[
            CubeRegion(members={"REF_AREA": ["404"]}),
            CubeRegion(include=False, members={"POP_GROUP": ["REFUGEE"]}),
        ],
        key_sets=[KeySet(include=False, keys=[{"REF_AREA": "524"}])],
    )


def agency_scheme() -> AgencyScheme:
    contact = Contact(
        name={"en": "Data desk"},
        department={"en": "Statistics"},
        role={"en": "Helpdesk"},
        telephones=["+254 20 000000"],
        emails=["data@example.org"],
        uris=["https://example.org/contact?a=1&b=2"],
    )
    return AgencyScheme(
        agency="SDMX",
        id="AGENCIES",
        name={"en": "Agencies"},
        items=[
            Item("LNOB", {"en": "Leave No One Behind partnership"}, contacts=[contact]),
            Item("KE-CSO", {"en": TRICKY}),
        ],
    )


def provider_scheme() -> DataProviderScheme:
    return DataProviderScheme(
        agency=AGENCY,
        id="DATA_PROVIDERS",
        name={"en": "Coalitions"},
        items=[
            Item(
                "KE_COALITION",
                {"en": "Kenya coalition"},
                contacts=[Contact(name={"en": "Amina"}, emails=["amina@example.org"])],
            ),
            Item("NP_COALITION", {"en": "Nepal coalition", "ne": "नेपाल गठबन्धन"}),
        ],
    )


def metadata_structure() -> MetadataStructure:
    def ma(cid: str, **kw: object) -> MetadataAttribute:
        return MetadataAttribute(cid, _concept(cid), **kw)  # type: ignore[arg-type]

    return MetadataStructure(
        agency=AGENCY,
        id="MSD_LNOB",
        name={"en": "Release metadata"},
        attributes=[
            ma("PRODUCER", representation=_text("String"), min_occurs=1),
            ma(
                "METHOD",
                min_occurs=0,
                is_presentational=True,
                children=[
                    ma("COLL_METHOD", representation=_enum("CL_FREQ"), min_occurs=0),
                    ma("SAMPLE_SIZE", representation=_text("Integer", minValue="1"), min_occurs=0),
                ],
            ),
            ma("CONTACT", representation=_text("String", isMultiLingual="true"), min_occurs=0, max_occurs=None),
        ],
        targets=["Dataflow"],
    )


def metadataflow() -> Metadataflow:
    return Metadataflow(
        agency=AGENCY,
        id="MDF_RELEASES",
        name={"en": "Release metadata"},
        structure=Ref("metadatastructure", AGENCY, "MSD_LNOB", "1.0"),
        targets=["urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=LNOB:DF_KE_COALITION(1.0)"],
    )


def representation_map() -> RepresentationMap:
    return RepresentationMap(
        agency=AGENCY,
        id="RM_POP_GROUP",
        name={"en": "Population group to custom breakdown"},
        sources=[_cl("CL_POP_GROUP")],
        targets=[_cl("CL_CUST_BREAKDOWN")],
        mappings=[ValueMapping(["DALIT"], ["C01"]), ValueMapping(["REFUGEE"], ["C02"]), ValueMapping(["_T"], ["_T"])],
    )


def structure_map() -> StructureMap:
    return StructureMap(
        agency=AGENCY,
        id="SM_LNOB_SDG",
        name={"en": "Partnership to global SDG"},
        source=Ref("dataflow", AGENCY, "DF_KE_COALITION", "1.0"),
        target=Ref("datastructure", "IAEG-SDGs", "SDG", "1.14"),
        component_maps=[
            ComponentMap(["POP_GROUP"], ["CUST_BREAKDOWN"], Ref("representationmap", AGENCY, "RM_POP_GROUP", "1.0")),
            ComponentMap(["REF_AREA"], ["REF_AREA"]),
        ],
    )


def all_artefacts() -> list[Artefact]:
    return [
        *codelists(),
        concept_scheme(),
        data_structure(),
        dataflow(),
        constraint(),
        provider_constraint(),
        agency_scheme(),
        provider_scheme(),
        metadata_structure(),
        metadataflow(),
        representation_map(),
        structure_map(),
    ]


# --- helpers ------------------------------------------------------------------------------------------

FORMAT_NAMES = tuple(FORMATS)
DETAILS = ("full", "stub", "completestub")
ML_VERSION = {"ml21": "2.1", "ml30": "3.0"}
JSON_VERSION = {"json10": "1.0", "json20": "2.0"}
MAPPINGS = ("representationmap", "structuremap")
"""Artefact types only the SDMX 3.0 formats can hold."""
ITEM_TAGS = ("Code", "Concept", "Agency", "DataProvider")
ITEM_KEYS = ("codes", "concepts", "agencies", "dataProviders")


def render(fmt: str, artefacts: list[Artefact], detail: str = "full") -> bytes:
    return render_structures(fmt, [StructureEntry(a, detail) for a in artefacts], HEADER)  # type: ignore[arg-type]


def validate(fmt: str, data: bytes) -> None:
    if fmt in ML_VERSION:
        validate_sdmx_ml(data, ML_VERSION[fmt])  # type: ignore[arg-type]
    else:
        validate_sdmx_json(data, "structure", JSON_VERSION[fmt])  # type: ignore[arg-type]


def expressible(fmt: str, artefact: Artefact) -> bool:
    return fmt in ("ml30", "json20") or artefact.type not in MAPPINGS


def by_id(artefacts: list[Artefact]) -> dict[str, Artefact]:
    return {a.id: a for a in artefacts}


def scheme_view(fmt: str, data: bytes, scheme_id: str) -> tuple[bool, list[tuple[str, dict[str, str], str | None]]]:
    """(isPartial, [(item id, names, parent id)]) of an item scheme in a rendered message, read without SDMX tools."""
    if fmt in ML_VERSION:
        root = etree.fromstring(data)
        scheme = next(e for e in root.iter() if e.get("id") == scheme_id and e.get("agencyID"))
        items = [e for e in scheme if etree.QName(e).localname in ITEM_TAGS]
        return scheme.get("isPartial") == "true", [(e.get("id"), _xml_names(e), _xml_parent(e)) for e in items]
    doc = json.loads(data)
    scheme = next(s for group in doc["data"].values() for s in group if s["id"] == scheme_id)
    items = next((scheme[k] for k in ITEM_KEYS if k in scheme), [])
    parents = [i.get("parent", "").rsplit(".", 1)[-1] or None for i in items]
    return scheme.get("isPartial", False), [(i["id"], i["names"], p) for i, p in zip(items, parents, strict=True)]


def _xml_names(element: etree._Element) -> dict[str, str]:
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    return {e.get(lang): e.text for e in element if etree.QName(e).localname == "Name"}


def _xml_parent(element: etree._Element) -> str | None:
    parent = next((e for e in element if etree.QName(e).localname == "Parent"), None)
    if parent is None:
        return None
    return parent[0].get("id") if len(parent) else parent.text


def expected_items(scheme: ItemScheme) -> list[tuple[str, dict[str, str], str | None]]:
    return [(i.id, i.name, i.parent) for i in scheme.items]


def sdmx1_read(data: bytes) -> sdmx.message.StructureMessage:
    return sdmx.read_sdmx(io.BytesIO(data))


def sdmx1_schemes(msg: sdmx.message.StructureMessage) -> dict[str, object]:
    return {
        **msg.codelist,
        **msg.concept_scheme,
        **msg.organisation_scheme,
    }


def sdmx1_items(scheme: object) -> list[tuple[str, dict[str, str], str | None]]:
    """Items as (id, names, parent id)."""
    result = []
    for item in scheme:  # type: ignore[attr-defined]
        parent = item.parent if isinstance(item.parent, sdmx.model.common.Item) else None
        result.append((item.id, dict(item.name.localizations), parent.id if parent else None))
    return result


def pysdmx_read(data: bytes, validate: bool = True) -> dict[str, object]:
    return {s.id: s for s in pysdmx_read_sdmx(data.decode(), validate=validate).structures}


def check_dsd_components(dsd: DataStructure, dimensions: list[str], attributes: list[str], measures: list[str]) -> None:
    time = dsd.time_dimension
    assert dimensions == [d.id for d in dsd.dimensions] + ([time.id] if time else [])
    assert attributes == [a.id for a in dsd.attributes]
    assert measures == [m.id for m in dsd.measures]


# --- schema validity ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def artefacts() -> list[Artefact]:
    return all_artefacts()


@pytest.fixture(scope="module")
def messages(artefacts: list[Artefact]) -> dict[tuple[str, str], bytes]:
    return {(fmt, detail): render(fmt, artefacts, detail) for fmt in FORMAT_NAMES for detail in DETAILS}


@pytest.mark.parametrize("detail", DETAILS)
@pytest.mark.parametrize("fmt", FORMAT_NAMES)
@pytest.mark.parametrize("index", range(len(all_artefacts())), ids=[a.id for a in all_artefacts()])
def test_each_artefact_alone_is_schema_valid(artefacts: list[Artefact], fmt: str, detail: str, index: int) -> None:
    artefact = artefacts[index]
    data = render(fmt, [artefact], detail)
    validate(fmt, data)
    assert (f'"{artefact.id}"'.encode() in data) == expressible(fmt, artefact)


@pytest.mark.parametrize("detail", DETAILS)
@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_whole_message_is_schema_valid(messages: dict[tuple[str, str], bytes], fmt: str, detail: str) -> None:
    validate(fmt, messages[fmt, detail])


def test_sdmx_ml_30_is_valid_under_3_0_0_except_its_parent_id_typo(messages: dict[tuple[str, str], bytes]) -> None:
    """SDMX-ML 3.0.0 typed Code/Parent as an NCName (fixed in 3.0.1); nothing else differs."""
    with pytest.raises(AssertionError) as excinfo:
        assert_xml_valid(messages["ml30", "full"], xml_schema(SCHEMAS / "ml/v3.0.0/schemas/SDMXMessage.xsd"))
    errors = [line for line in str(excinfo.value).splitlines()[1:] if line]
    assert errors and all("Parent" in line and "[A-Za-z][A-Za-z0-9_\\-]*" in line for line in errors)


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_empty_message_is_schema_valid(fmt: str) -> None:
    validate(fmt, render(fmt, []))


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_duplicates_are_written_once_in_schema_order(fmt: str, artefacts: list[Artefact]) -> None:
    validate(fmt, render(fmt, artefacts[::-1]))
    assert render(fmt, [*artefacts, *artefacts[::-1]]) == render(fmt, artefacts)


# --- detail levels and partial schemes -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_stubs_have_names_but_no_items_or_descriptions(messages: dict[tuple[str, str], bytes], fmt: str) -> None:
    stub, complete = messages[fmt, "stub"], messages[fmt, "completestub"]
    for data in (stub, complete):
        partial, items = scheme_view(fmt, data, "CL_AREA")
        assert items == [] and not partial
        assert b"Zones" in data  # every language of the name
        assert b"Nairobi County" not in data
    assert b"Reference areas" not in stub and b"Reference areas" in complete
    assert b"ORIGIN" not in stub and b"ORIGIN" in complete
    external = b'isExternalReference="true"' if fmt in ML_VERSION else b'"isExternalReference":true'
    assert external in stub and external in complete


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_full_item_schemes_keep_items_names_and_parents_in_order(
    messages: dict[tuple[str, str], bytes], artefacts: list[Artefact], fmt: str
) -> None:
    for scheme in artefacts:
        if isinstance(scheme, ItemScheme):
            partial, items = scheme_view(fmt, messages[fmt, "full"], scheme.id)
            assert not partial
            assert items == expected_items(scheme)


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_partial_schemes_keep_only_the_items_asked_for(fmt: str, artefacts: list[Artefact]) -> None:
    schemes = by_id(artefacts)
    wanted = {
        "CL_AREA": {"404", "KE_47", "NOT_A_CODE"},
        "CS_LNOB": {"CONF_STATUS", "FREQ"},
        "AGENCIES": {"KE-CSO"},
        "DATA_PROVIDERS": {"NP_COALITION"},
    }
    entries = [StructureEntry(schemes[i], items=frozenset(ids)) for i, ids in wanted.items()]
    data = render_structures(fmt, entries, HEADER)
    validate(fmt, data)
    for scheme_id, ids in wanted.items():
        partial, items = scheme_view(fmt, data, scheme_id)
        assert partial
        assert [i[0] for i in items] == [i.id for i in schemes[scheme_id].items if i.id in ids]  # type: ignore[attr-defined]
    assert scheme_view(fmt, data, "CL_AREA")[1] == [
        ("404", {"en": "Kenya", "sw": "Kenya"}, None),
        ("KE_47", {"en": "Nairobi County"}, "404"),
    ]
    assert scheme_view(fmt, data, "CS_LNOB")[1][1][2] is None  # CONF_STATUS's parent OBS_STATUS is left out


# --- text ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_tricky_text_survives(messages: dict[tuple[str, str], bytes], fmt: str) -> None:
    items = dict((i[0], i[1]) for i in scheme_view(fmt, messages[fmt, "full"], "CL_AREA")[1])
    assert items["384"] == {"en": TRICKY, "fr": "Côte d'Ivoire"}
    assert scheme_view(fmt, messages[fmt, "full"], "AGENCIES")[1][1][1] == {"en": TRICKY}


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_control_characters_and_line_breaks(fmt: str) -> None:
    name = "line 1\r\nline 2\ttab\x01bell\x7f"
    codelist = Codelist(agency=AGENCY, id="CL_TEXT", name={"en": name}, items=[Item("A", {"en": name})])
    data = render(fmt, [codelist])
    validate(fmt, data)
    survived = name if fmt in JSON_VERSION else name.replace("\x01", "\ufffd")  # XML 1.0 cannot hold U+0001
    assert scheme_view(fmt, data, "CL_TEXT")[1] == [("A", {"en": survived}, None)]


# --- what a format cannot hold ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["ml21", "json10"])
def test_sdmx_21_formats_refuse_several_measures(fmt: str) -> None:
    dsd = data_structure()
    dsd.components.append(Component("OBS_COUNT", "measure", _concept("SAMPLE_SIZE"), _text("Integer")))
    with pytest.raises(NotRepresentable, match="OBS_VALUE"):
        render(fmt, [dsd])
    validate(fmt, render(fmt, [dsd], "stub"))


@pytest.mark.parametrize("fmt", ["ml30", "json20"])
def test_sdmx_30_formats_write_several_measures(fmt: str) -> None:
    dsd = data_structure()
    dsd.components.append(Component("OBS_COUNT", "measure", _concept("SAMPLE_SIZE"), _text("Integer")))
    data = render(fmt, [dsd])
    validate(fmt, data)
    assert b"OBS_COUNT" in data


@pytest.mark.parametrize("fmt", ["ml30", "json20"])
def test_sdmx_30_formats_refuse_more_than_two_cube_regions(fmt: str) -> None:
    cc = constraint()
    cc.cube_regions = [CubeRegion(members={"FREQ": ["A"]})] * 3
    with pytest.raises(NotRepresentable, match="cube regions"):
        render(fmt, [cc])


def test_unknown_format_and_naive_or_invalid_headers_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown structure format"):
        render_structures("csv", [], HEADER)
    with pytest.raises(ValueError, match="timezone"):
        Header(id="X", prepared=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="SDMX id"):
        Header(id="has space", prepared=HEADER.prepared)


# --- read-back by sdmx1 -------------------------------------------------------------------------------


def _check_sdmx1_schemes(msg: sdmx.message.StructureMessage, artefacts: list[Artefact]) -> None:
    read = sdmx1_schemes(msg)
    for scheme in artefacts:
        if isinstance(scheme, ItemScheme):
            got = read[scheme.id]
            assert (got.version, dict(got.name.localizations)) == (scheme.version, scheme.name)  # type: ignore[attr-defined]
            expected = {i[0]: i for i in expected_items(scheme)}
            # sdmx1 adds an agency scheme's maintainer to its agencies, and orders forward-referenced parents
            assert {i[0]: i for i in sdmx1_items(got) if i[0] in expected or scheme.type != "agencyscheme"} == expected


def test_sdmx1_reads_sdmx_ml_21(messages: dict[tuple[str, str], bytes], artefacts: list[Artefact]) -> None:
    msg = sdmx1_read(messages["ml21", "full"])
    _check_sdmx1_schemes(msg, artefacts)
    dsd = msg.structure["DSD_LNOB"]
    assert dsd.version == "1.2"
    check_dsd_components(
        data_structure(),
        [d.id for d in dsd.dimensions],
        [a.id for a in dsd.attributes],
        [m.id for m in dsd.measures],
    )
    kinds = {a.id: type(a.related_to).__name__ for a in dsd.attributes}
    assert kinds == {
        "COMMENT_DS": "NoSpecifiedRelationship",
        "UNIT_MEASURE": "DimensionRelationship",
        "CONF_STATUS": "GroupRelationship",
        "OBS_STATUS": "PrimaryMeasureRelationship",
    }
    assert msg.dataflow["DF_KE_COALITION"].structure.id == "DSD_LNOB"
    region = msg.constraint["CN_KE_COALITION"].data_content_region[0]
    assert {m.values_for.id: sorted(v.value for v in m.values) for m in region.member.values()} == {
        "FREQ": ["A"],
        "REF_AREA": ["404", "KE_47"],
    }
    report = msg.metadatastructure["MSD_LNOB"].report_structure["REPORT"]
    assert [a.id for a in report.components] == ["PRODUCER", "METHOD", "CONTACT"]
    assert [a.id for a in report.components[1].child] == ["COLL_METHOD", "SAMPLE_SIZE"]
    assert msg.metadataflow["MDF_RELEASES"].structure.id == "MSD_LNOB"


# sdmx1 2.28 cannot read, in SDMX-ML 3.0: DataProviderSchemes, Metadataflow targets, RepresentationMaps,
# StructureMaps, and the <str:Dataflow/> and <str:Group> attribute relationships of data structures.
SDMX1_30_UNREADABLE = ("dataproviderscheme", "metadataflow", *MAPPINGS)


def test_sdmx1_reads_sdmx_ml_30(artefacts: list[Artefact]) -> None:
    dsd = data_structure()
    dsd.components = [c for c in dsd.components if c.attachment not in ("dataset", "group")]
    readable = [dsd if a.id == dsd.id else a for a in artefacts if a.type not in SDMX1_30_UNREADABLE]
    data = render("ml30", readable)
    msg = sdmx1_read(data)
    _check_sdmx1_schemes(msg, readable)
    read = msg.structure["DSD_LNOB"]
    check_dsd_components(
        dsd, [d.id for d in read.dimensions], [a.id for a in read.attributes], [m.id for m in read.measures]
    )
    assert msg.dataflow["DF_KE_COALITION"].structure.id == "DSD_LNOB"
    assert "MSD_LNOB" in msg.metadatastructure
    assert set(msg.constraint) == {"CN_KE_COALITION", "CN_KE_PROVIDER"}


@pytest.mark.parametrize("fmt", ["ml21", "ml30"])
@pytest.mark.parametrize("detail", ["stub", "completestub"])
def test_sdmx1_reads_stubs(fmt: str, detail: str, artefacts: list[Artefact]) -> None:
    readable = [a for a in artefacts if fmt == "ml21" or a.type not in SDMX1_30_UNREADABLE]
    msg = sdmx1_read(render(fmt, readable, detail))
    schemes = sdmx1_schemes(msg)
    for a in readable:
        if isinstance(a, ItemScheme):
            assert schemes[a.id].is_external_reference
            assert [i for i in sdmx1_items(schemes[a.id]) if i[0] != a.agency] == []
    assert msg.structure["DSD_LNOB"].version == "1.2"


# --- read-back by pysdmx ------------------------------------------------------------------------------

# pysdmx 1.21 cannot read SDMX-ML 2.1 metadata structures (it expects the 3.0 MetadataAttributeList), nor
# SDMX-JSON data or metadata structures without components (stubs); it keeps one name per object and no
# code parents. It validates SDMX-ML 3.0 against the 3.0.0 XSDs, whose Code/Parent typo rejects parents such
# as "001", so those messages are read without its validation (ours used 3.0.1, see above).
PYSDMX_UNREADABLE = {"ml21": ("metadatastructure",), "ml30": (), "json20": ()}


@pytest.mark.parametrize("fmt", ["ml21", "ml30", "json20"])
def test_pysdmx_reads(fmt: str, artefacts: list[Artefact]) -> None:
    readable = [a for a in artefacts if expressible(fmt, a) and a.type not in PYSDMX_UNREADABLE[fmt]]
    read = pysdmx_read(render(fmt, readable), validate=fmt != "ml30")
    assert set(read) == {a.id for a in readable}
    for a in readable:
        got = read[a.id]
        assert (got.agency if isinstance(got.agency, str) else got.agency.id, got.version) == (a.agency, a.version)  # type: ignore[attr-defined]
        if isinstance(a, ItemScheme):
            assert [(i.id, i.name) for i in got.items] == [(i.id, best_text(i.name)) for i in a.items]  # type: ignore[attr-defined]
    assert read["CL_AREA"].name == "Areas"  # type: ignore[attr-defined]
    assert read["AGENCIES"].items[1].name == TRICKY  # type: ignore[attr-defined]
    roles = [(c.id, str(c.role)) for c in read["DSD_LNOB"].components]  # type: ignore[attr-defined]
    dsd = data_structure()
    check_dsd_components(
        dsd,
        [i for i, role in roles if role == "Dimension"],
        [i for i, role in roles if role == "Attribute"],
        [i for i, role in roles if role == "Measure"],
    )
    levels = {c.id: c.attachment_level for c in read["DSD_LNOB"].components if str(c.role) == "Attribute"}  # type: ignore[attr-defined]
    assert levels == {
        "COMMENT_DS": "D",
        "UNIT_MEASURE": "FREQ,REF_AREA,POP_GROUP",
        "CONF_STATUS": "REF_AREA,POP_GROUP",
        "OBS_STATUS": "O",
    }
    structure = read["DF_KE_COALITION"].structure  # type: ignore[attr-defined]
    assert (structure if isinstance(structure, str) else structure.short_urn).endswith("LNOB:DSD_LNOB(1.2)")
    if fmt != "ml21":
        assert [c.id for c in read["MSD_LNOB"].components] == ["PRODUCER", "METHOD", "CONTACT"]  # type: ignore[attr-defined]
        assert len(read["CN_KE_PROVIDER"].cube_regions) == 2  # type: ignore[attr-defined]
    if fmt != "ml21":
        maps = read["RM_POP_GROUP"].maps  # type: ignore[attr-defined]
        assert [(m.source, m.target) for m in maps] == [("DALIT", "C01"), ("REFUGEE", "C02"), ("_T", "_T")]
        assert [(m.source, m.target) for m in read["SM_LNOB_SDG"].maps] == [
            ("POP_GROUP", "CUST_BREAKDOWN"),
            ("REF_AREA", "REF_AREA"),
        ]  # type: ignore[attr-defined]


@pytest.mark.parametrize("fmt", ["ml21", "ml30", "json20"])
@pytest.mark.parametrize("detail", ["stub", "completestub"])
def test_pysdmx_reads_stubs(fmt: str, detail: str, artefacts: list[Artefact]) -> None:
    unreadable = ("datastructure", "metadatastructure") if fmt == "json20" else ()
    readable = [a for a in artefacts if expressible(fmt, a) and a.type not in unreadable]
    read = pysdmx_read(render(fmt, readable, detail))
    assert {(i, s.version) for i, s in read.items()} == {(a.id, a.version) for a in readable}  # type: ignore[attr-defined]
    assert read["DF_KE_COALITION"].name == "Kenya coalition data"  # type: ignore[attr-defined]


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_constraint_roles(fmt: str) -> None:
    cc = constraint()
    cc.role = "actual"
    data = render(fmt, [cc])
    validate(fmt, data)
    expected = {
        "ml21": b'type="Actual"',
        "ml30": b'role="Actual"',
        "json10": b'"type":"Actual"',
        "json20": b'"role":"Actual"',
    }
    assert expected[fmt] in data


# --- the real SDG and partnership structures ----------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
SDG_FILE = ROOT / "codelists" / "sdg" / "IAEG-SDGs_SDG_1.14_dsd_with_children.xml"
PARTNERSHIP_FILES = sorted((ROOT / "codelists" / "partnership").glob("*.xml"))


@pytest.fixture(scope="module")
def sdg() -> list[Artefact]:
    return _read_file(SDG_FILE)


@pytest.fixture(scope="module")
def sdg_messages(sdg: list[Artefact]) -> dict[str, bytes]:
    return {fmt: render(fmt, sdg) for fmt in FORMAT_NAMES}


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_sdg_dsd_with_children_renders_fast_and_valid(
    sdg: list[Artefact], sdg_messages: dict[str, bytes], fmt: str
) -> None:
    entries = [StructureEntry(a) for a in sdg]
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        render_structures(fmt, entries, HEADER)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.5
    validate(fmt, sdg_messages[fmt])
    series = next(a for a in sdg if a.id == "CL_SERIES")
    assert scheme_view(fmt, sdg_messages[fmt], "CL_SERIES")[1] == expected_items(series)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["ml21", "ml30"])
def test_sdmx1_reads_the_sdg_structures(sdg: list[Artefact], sdg_messages: dict[str, bytes], fmt: str) -> None:
    msg = sdmx1_read(sdg_messages[fmt])
    _check_sdmx1_schemes(msg, sdg)
    assert len(msg.codelist["CL_SERIES"]) == 783 and len(msg.codelist["CL_AREA"]) == 622
    read = msg.structure["SDG"]
    dsd = next(a for a in sdg if isinstance(a, DataStructure))
    check_dsd_components(
        dsd, [d.id for d in read.dimensions], [a.id for a in read.attributes], [m.id for m in read.measures]
    )


@pytest.mark.parametrize("fmt", ["ml21", "ml30", "json20"])
def test_pysdmx_reads_the_sdg_structures(sdg: list[Artefact], sdg_messages: dict[str, bytes], fmt: str) -> None:
    read = pysdmx_read(sdg_messages[fmt], validate=fmt != "ml30")
    for a in sdg:
        if isinstance(a, ItemScheme):
            assert [i.id for i in read[a.id].items] == [i.id for i in a.items]  # type: ignore[attr-defined]
    components = read["SDG"].components  # type: ignore[attr-defined]
    dsd = next(a for a in sdg if isinstance(a, DataStructure))
    check_dsd_components(
        dsd,
        [c.id for c in components if str(c.role) == "Dimension"],
        [c.id for c in components if str(c.role) == "Attribute"],
        [c.id for c in components if str(c.role) == "Measure"],
    )


@pytest.mark.parametrize("detail", DETAILS)
@pytest.mark.parametrize("fmt", FORMAT_NAMES)
@pytest.mark.parametrize("path", PARTNERSHIP_FILES, ids=[p.name for p in PARTNERSHIP_FILES])
def test_partnership_structures_render_valid(path: Path, fmt: str, detail: str) -> None:
    artefacts = _read_file(path)
    assert artefacts
    validate(fmt, render(fmt, artefacts, detail))


@cache
def _read_file(path: Path) -> list[Artefact]:
    return read_structures(path.read_bytes())


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_text_formats_keep_only_what_each_context_allows(fmt: str) -> None:
    facets = {
        "isSequence": "true",
        "interval": "1",
        "startValue": "1",
        "endValue": "9",
        "timeInterval": "P1Y",
        "startTime": "2000",
        "endTime": "2030",
        "minLength": "1",
        "maxLength": "9",
        "minValue": "0.5",
        "maxValue": "99",
        "decimals": "2",
        "pattern": "[A-Z]+",
        "isMultiLingual": "false",
    }
    anything = TextFormat("XHTML", facets)
    dsd = data_structure()
    for component in dsd.components:
        if component.role != "measure":
            component.representation = Representation(
                component.representation and component.representation.enumeration, anything
            )
    dsd.components[0].representation = Representation(text_format=TextFormat("GeospatialInformation", facets))
    scheme = concept_scheme()
    scheme.items[0].core_representation = Representation(_cl("CL_FREQ"), anything)
    msd = metadata_structure()
    msd.attributes[0].representation = Representation(text_format=anything)
    data = render(fmt, [dsd, scheme, msd])
    validate(fmt, data)
    assert b"P1Y" in data and b"[A-Z]+" in data
