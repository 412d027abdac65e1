"""Checks of the partnership's own SDMX structures in codelists/partnership/.

Every file must validate against the official SDMX-ML 2.1 XSD, read with sdmx1 and pysdmx, and
every cross-reference must resolve to an artefact in the partnership files or the global SDG file.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest
import sdmx
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
PARTNERSHIP = ROOT / "codelists" / "partnership"
SDG_FILE = ROOT / "codelists" / "sdg" / "IAEG-SDGs_SDG_1.14_dsd_with_children.xml"
SDG_CONSTRAINTS = sorted((ROOT / "codelists" / "sdg").glob("IAEG-SDGs_CN_*.json"))
XSD = ROOT / "tests" / "schemas" / "ml" / "v2.1" / "schemas" / "SDMXMessage.xsd"

FILES = [
    "organisations.xml",
    "codelists.xml",
    "concepts.xml",
    "datastructures.xml",
    "dataflows.xml",
    "iaeg_sdgs_dataflows.xml",
]

STR = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure"
COM = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"
NS = {"str": STR, "com": COM}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

COALITIONS = ["KEN", "NPL", "IND", "BGD", "VNM", "MWI", "DNK"]
SDG_DIMENSIONS = [
    "FREQ", "REPORTING_TYPE", "SERIES", "REF_AREA", "SEX", "AGE", "URBANISATION",
    "INCOME_WEALTH_QUANTILE", "EDUCATION_LEV", "OCCUPATION", "CUST_BREAKDOWN",
    "COMPOSITE_BREAKDOWN", "DISABILITY_STATUS", "ACTIVITY", "PRODUCT",
]  # fmt: skip
M49 = {"KEN": "404", "NPL": "524", "IND": "356", "BGD": "50", "VNM": "704", "MWI": "454", "DNK": "208"}

# Maintainable artefact elements, by the Ref@class that points at them.
MAINTAINABLE_TAGS = {
    "AgencyScheme": "AgencyScheme",
    "DataProviderScheme": "DataProviderScheme",
    "Codelist": "Codelist",
    "ConceptScheme": "ConceptScheme",
    "DataStructure": "DataStructure",
    "Dataflow": "Dataflow",
    "ContentConstraint": "ContentConstraint",
}
# Item classes and the maintainable class that holds them.
ITEM_PARENT = {
    "Concept": "ConceptScheme",
    "Code": "Codelist",
    "Agency": "AgencyScheme",
    "DataProvider": "DataProviderScheme",
}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(no_network=True, resolve_entities=False)


@cache
def _xml(path: Path) -> etree._ElementTree:
    return etree.parse(str(path), _parser())


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD), _parser()))


@cache
def _sdmx1(path: Path):
    with open(path, "rb") as f:
        return sdmx.read_sdmx(f)


def _p(name: str) -> Path:
    return PARTNERSHIP / name


@cache
def _artefact_index() -> dict[tuple[str, str, str, str], etree._Element]:
    """(class, agencyID, id, version) -> element, over the partnership files and the SDG file."""
    index: dict[tuple[str, str, str, str], etree._Element] = {}
    for path in [*(_p(f) for f in FILES), SDG_FILE]:
        for tag in MAINTAINABLE_TAGS.values():
            for el in _xml(path).iterfind(f".//str:{tag}[@agencyID]", NS):
                key = (tag, el.get("agencyID"), el.get("id"), el.get("version"))
                assert key not in index, f"{key} defined twice"
                index[key] = el
    return index


def _names(el: etree._Element, tag: str = "Name") -> dict[str, str]:
    return {n.get(XML_LANG): (n.text or "") for n in el.findall(f"com:{tag}", NS)}


# --------------------------------------------------------------------------- XSD


@pytest.mark.parametrize("name", FILES)
def test_validates_against_sdmx_ml_21_xsd(name):
    schema = _schema()
    doc = _xml(_p(name))
    assert schema.validate(doc), "\n".join(str(e) for e in schema.error_log)


@pytest.mark.parametrize("name", FILES)
def test_every_maintainable_has_matching_urn_and_english_name(name):
    for tag in MAINTAINABLE_TAGS.values():
        for el in _xml(_p(name)).iterfind(f".//str:{tag}[@agencyID]", NS):
            urn = el.get("urn")
            assert urn and urn.endswith(f"={el.get('agencyID')}:{el.get('id')}({el.get('version')})"), urn
            assert _names(el).get("en"), urn
            for item in el:
                if item.get("urn") and item.get("id"):
                    item_urn = item.get("urn")
                    assert item_urn.endswith(f"({el.get('version')}).{item.get('id')}"), item_urn


# --------------------------------------------------------------------------- readers


@pytest.mark.parametrize("name", FILES)
def test_reads_with_sdmx1(name):
    msg = _sdmx1(_p(name))
    assert msg.header.id


@pytest.mark.parametrize("name", FILES)
def test_reads_with_pysdmx(name):
    from pysdmx.io import read_sdmx

    msg = read_sdmx(str(_p(name)))
    assert msg.structures


# --------------------------------------------------------------------------- organisations


def test_agencies_and_data_providers():
    orgs = _sdmx1(_p("organisations.xml")).organisation_scheme
    agencies, providers = orgs["AGENCIES"], orgs["DATA_PROVIDERS"]
    assert agencies.maintainer.id == providers.maintainer.id == "LNOB"
    # sdmx1 adds the maintainer (LNOB) to the scheme it reads; the XML has exactly the 7 coalitions.
    assert set(COALITIONS) <= set(agencies.items)
    assert list(providers.items) == COALITIONS
    xml_agencies = [a.get("id") for a in _xml(_p("organisations.xml")).iterfind(".//str:Agency", NS)]
    assert xml_agencies == COALITIONS
    for cid in COALITIONS:
        for org in (agencies[cid], providers[cid]):
            assert str(org.name).strip() and str(org.description).strip()
            (contact,) = org.contact
            assert contact.email and all(e.split("@")[1].endswith(".example") for e in contact.email)


# --------------------------------------------------------------------------- codelists


def test_subnational_codes():
    cl = _sdmx1(_p("codelists.xml")).codelist["CL_SUBNATIONAL"]
    kenya = sorted(c.id for c in cl if re.fullmatch(r"KE-\d\d", c.id))
    nepal = sorted(c.id for c in cl if re.fullmatch(r"NP-P\d", c.id))
    assert kenya == [f"KE-{i:02d}" for i in range(1, 48)]
    assert nepal == [f"NP-P{i}" for i in range(1, 8)]
    assert all(cl[c].parent.id == "KE" for c in kenya)
    assert all(cl[c].parent.id == "NP" for c in nepal)
    assert set(cl.items) == {"_T", "KE", "NP", *kenya, *nepal}
    assert cl["KE"].get_annotation(type="REF_AREA").title == "404"
    assert cl["NP"].get_annotation(type="REF_AREA").title == "524"
    # ISO 3166-2:KE numbers the counties alphabetically; the apostrophe must survive.
    assert str(cl["KE-01"].name) == "Baringo"
    assert str(cl["KE-28"].name) == "Mombasa"
    assert str(cl["KE-29"].name) == "Murang'a"
    assert str(cl["KE-30"].name) == "Nairobi City"
    assert cl["KE-28"].get_annotation(type="NATIONAL_CODE").title == "01"
    assert cl["KE-30"].get_annotation(type="NATIONAL_CODE").title == "47"
    constitution_numbers = sorted(cl[c].get_annotation(type="NATIONAL_CODE").title for c in kenya)
    assert constitution_numbers == [f"{i:02d}" for i in range(1, 48)]
    assert str(cl["NP-P1"].name) == "Koshi Province"
    assert cl["NP-P7"].name.localizations["ne"] == "सुदूरपश्चिम प्रदेश"


def test_nature_ext_extends_sdg_nature():
    ext = _sdmx1(_p("codelists.xml")).codelist["CL_NATURE_EXT"]
    sdg = _sdmx1(SDG_FILE).codelist["CL_NATURE"]
    for code in sdg:
        assert str(ext[code.id].name) == str(code.name)
    assert set(ext.items) == set(sdg.items) | {"CG"}
    assert str(ext["CG"].name) == "Citizen-generated data"
    assert "Copenhagen Framework on Citizen Data" in str(ext["CG"].description)


def test_pop_group_scope_and_sensitivity():
    cl = _sdmx1(_p("codelists.xml")).codelist["CL_POP_GROUP"]
    area = _sdmx1(SDG_FILE).codelist["CL_AREA"]
    assert "_T" in cl.items
    assert any(c.parent is not None for c in cl), "CL_POP_GROUP must be hierarchical"
    scoped = 0
    for code in cl:
        assert str(code.name).strip() and str(code.description).strip(), code.id
        ann = {a.type: a for a in code.annotations}
        if "COUNTRY_SCOPE" in ann:
            scoped += 1
            values = ann["COUNTRY_SCOPE"].title.split(",")
            assert values and all(v in area.items for v in values), code.id
            assert code.parent is not None, f"{code.id}: country-specific codes sit under a generic group"
        if "SENSITIVE" in ann:
            assert ann["SENSITIVE"].title == "true" and str(ann["SENSITIVE"].text) == "true"
    assert scoped >= 20
    sensitive = {c.id for c in cl if any(a.type == "SENSITIVE" for a in c.annotations)}
    for group in ["CASTE", "IN_SC", "NP_DALIT", "BD_DALIT", "SEXWORK", "LGBTIQ", "IN_TG", "BD_TG",
                  "REFUGEE", "PWD_SEE", "GBV"]:  # fmt: skip
        assert group in sensitive, group
    for group in ["_T", "PWD", "YOUTH", "SLUM"]:
        assert group not in sensitive, group
    # Country scope is given as M49 codes of the coalition countries
    assert cl["IN_SC"].get_annotation(type="COUNTRY_SCOPE").title == M49["IND"]
    assert cl["BD_TG"].get_annotation(type="COUNTRY_SCOPE").title == M49["BGD"]
    assert cl["VN_HMONG"].parent.id == "VN_EM"


def test_small_codelists():
    cls = _sdmx1(_p("codelists.xml")).codelist
    assert list(cls["CL_SAMPLE_SIZE_BAND"].items) == [
        "LT10", "B10_24", "B25_49", "B50_99", "B100_499", "GE500", "_Z"
    ]  # fmt: skip
    assert list(cls["CL_CONSENT_SCOPE"].items) == ["COALITION", "NSO", "PUBLIC"]
    conf = cls["CL_CONF_STATUS"]
    assert {"F", "N", "C", "D", "S", "A", "O", "T", "G", "M"} <= set(conf.items)
    assert str(conf["A"].name) == "Primary confidentiality due to small counts"
    for cl in cls.values():
        assert cl.maintainer.id == "LNOB" and cl.version == "1.0" and cl.is_final


def test_every_country_m49_exists_in_cl_area():
    area = _sdmx1(SDG_FILE).codelist["CL_AREA"]
    assert set(M49.values()) <= set(area.items)


# --------------------------------------------------------------------------- concepts and DSD


def test_concept_scheme():
    cs = _sdmx1(_p("concepts.xml")).concept_scheme["LNOB_CONCEPTS"]
    expected = ["POP_GROUP", "SUBNATIONAL", "CONF_STATUS", "SAMPLE_SIZE", "SAMPLE_SIZE_BAND", "PROV_REF",
                "CONSENT_SCOPE", "NATURE"]  # fmt: skip
    assert list(cs.items) == expected
    assert cs["NATURE"].core_representation.enumerated.id == "CL_NATURE_EXT"
    for concept in cs:
        assert str(concept.description).strip()


def _enum(component):
    cl = component.local_representation.enumerated
    return None if cl is None else (cl.maintainer.id, cl.id, cl.version)


def _concept(component):
    c = component.concept_identity
    return (c.parent.maintainer.id, c.parent.id, c.parent.version, c.id)


def test_dsd_dimensions():
    dsd = _sdmx1(_p("datastructures.xml")).structure["DSD_LNOB"]
    sdg = _sdmx1(SDG_FILE).structure["SDG"]
    dims = [d.id for d in dsd.dimensions]
    assert dims == [*SDG_DIMENSIONS, "POP_GROUP", "SUBNATIONAL", "TIME_PERIOD"]
    assert [d.id for d in sdg.dimensions] == [*SDG_DIMENSIONS, "TIME_PERIOD"]
    for dim in SDG_DIMENSIONS:
        ours, theirs = dsd.dimensions.get(dim), sdg.dimensions.get(dim)
        assert _enum(ours) == _enum(theirs), dim
        assert _concept(ours) == _concept(theirs), dim
    assert _concept(dsd.dimensions.get("TIME_PERIOD")) == _concept(sdg.dimensions.get("TIME_PERIOD"))
    assert _enum(dsd.dimensions.get("POP_GROUP")) == ("LNOB", "CL_POP_GROUP", "1.0")
    assert _enum(dsd.dimensions.get("SUBNATIONAL")) == ("LNOB", "CL_SUBNATIONAL", "1.0")
    # positions as written in the XML
    xml_dims = _xml(_p("datastructures.xml")).findall(".//str:DimensionList/*", NS)
    positions = [(d.get("id"), d.get("position")) for d in xml_dims]
    assert positions == [(d, str(i)) for i, d in enumerate(dims, 1)]


def test_dsd_attributes_and_measure():
    dsd = _sdmx1(_p("datastructures.xml")).structure["DSD_LNOB"]
    sdg = _sdmx1(SDG_FILE).structure["SDG"]
    ours = {a.id: a for a in dsd.attributes}
    for theirs in sdg.attributes:
        a = ours.pop(theirs.id)
        assert a.usage_status == theirs.usage_status, a.id
        assert type(a.related_to) is type(theirs.related_to), a.id
        lr, tlr = a.local_representation, theirs.local_representation
        if a.id == "NATURE":
            assert _enum(a) == ("LNOB", "CL_NATURE_EXT", "1.0")
            assert _concept(a) == ("LNOB", "LNOB_CONCEPTS", "1.0", "NATURE")
            continue
        assert _concept(a) == _concept(theirs), a.id
        assert (lr is None) == (tlr is None), a.id
        if lr is not None:
            assert _enum(a) == _enum(theirs), a.id
            if tlr.non_enumerated:
                types = [f.value_type for f in lr.non_enumerated]
                assert types == [f.value_type for f in tlr.non_enumerated], a.id
        if hasattr(theirs.related_to, "dimensions"):
            # series level: attached to every dimension of the partnership DSD except time
            assert [d.id for d in a.related_to.dimensions] == [*SDG_DIMENSIONS, "POP_GROUP", "SUBNATIONAL"]
    assert set(ours) == {"CONF_STATUS", "SAMPLE_SIZE", "SAMPLE_SIZE_BAND", "PROV_REF"}
    for a in ours.values():
        assert a.usage_status.name == "conditional"
        assert type(a.related_to).__name__ == "PrimaryMeasureRelationship"
        assert _concept(a)[:3] == ("LNOB", "LNOB_CONCEPTS", "1.0")
    assert _enum(ours["CONF_STATUS"]) == ("LNOB", "CL_CONF_STATUS", "1.0")
    assert _enum(ours["SAMPLE_SIZE_BAND"]) == ("LNOB", "CL_SAMPLE_SIZE_BAND", "1.0")
    assert ours["SAMPLE_SIZE"].local_representation.non_enumerated[0].value_type.name == "integer"
    assert ours["PROV_REF"].local_representation.non_enumerated[0].value_type.name == "string"
    (measure,) = dsd.measures
    (sdg_measure,) = sdg.measures
    assert measure.id == "OBS_VALUE" and _concept(measure) == _concept(sdg_measure)
    assert measure.local_representation.non_enumerated[0].value_type.name == "double"


# --------------------------------------------------------------------------- dataflows and constraints


def test_dataflows_and_constraints():
    msg = _sdmx1(_p("dataflows.xml"))
    df, df_sdg = msg.dataflow["DF_LNOB"], msg.dataflow["DF_SDG_LNOB"]
    assert str(df.name) == "Community-generated SDG data (Leave No One Behind partnership)"
    assert str(df_sdg.name) == "LNOB community data in the global SDG structure"
    assert (df.structure.maintainer.id, df.structure.id, df.structure.version) == ("LNOB", "DSD_LNOB", "1.0")
    assert (df_sdg.structure.maintainer.id, df_sdg.structure.id, df_sdg.structure.version) == (
        "IAEG-SDGs", "SDG", "1.14"
    )  # fmt: skip
    for cn_id, flow in [("CN_DF_LNOB", "DF_LNOB"), ("CN_DF_SDG_LNOB", "DF_SDG_LNOB")]:
        cn = msg.constraint[cn_id]
        assert cn.role.role.name == "allowable"
        assert [c.id for c in cn.content] == [flow]
        (region,) = cn.data_content_region
        assert region.included
        members = {d.id: sorted(v.value for v in s.values) for d, s in region.member.items()}
        assert members == {"REPORTING_TYPE": ["N"]}


def test_reconstructed_iaeg_dataflows_resolve_registry_constraints():
    msg = _sdmx1(_p("iaeg_sdgs_dataflows.xml"))
    names = {"DF_SDG_GLH": "SDG Global Harmonized", "DF_SDG_GLC": "SDG Global Country Data"}
    for id_, name in names.items():
        df = msg.dataflow[id_]
        assert (df.maintainer.id, df.version, str(df.name)) == ("IAEG-SDGs", "1.22", name)
        assert (df.structure.id, df.structure.version) == ("SDG", "1.14")
        note = df.get_annotation(type="NOTE")
        assert "Voices Exchange" in str(note.text)
    flows = _xml(_p("iaeg_sdgs_dataflows.xml")).iterfind(".//str:Dataflow[@agencyID]", NS)
    urns = {el.get("urn") for el in flows}
    attached = set()
    for path in SDG_CONSTRAINTS:
        for cn in json.loads(path.read_text(encoding="utf-8"))["data"]["dataConstraints"]:
            attached.update(cn["constraintAttachment"]["dataflows"])
    assert attached and attached <= urns


# --------------------------------------------------------------------------- references


def _partnership_refs():
    for name in FILES:
        for ref in _xml(_p(name)).iter("Ref"):
            yield name, ref


def test_every_ref_resolves():
    index = _artefact_index()
    problems = []
    for name, ref in _partnership_refs():
        cls = ref.get("class")
        if ref.get("agencyID") is None:
            # Local reference: a code's parent or a component of the enclosing DSD.
            parent_tag = etree.QName(ref.getparent()).localname
            if parent_tag == "Parent":
                scheme = ref.getparent().getparent().getparent()
                ok = scheme.find(f"str:Code[@id='{ref.get('id')}']", NS) is not None
            else:
                comps = next(ref.iterancestors(f"{{{STR}}}DataStructureComponents"))
                ok = any(c.get("id") == ref.get("id") for c in comps.iterfind("*/*"))
            if not ok:
                problems.append((name, dict(ref.attrib)))
            continue
        if cls in ITEM_PARENT:
            key = (ITEM_PARENT[cls], ref.get("agencyID"), ref.get("maintainableParentID"),
                   ref.get("maintainableParentVersion"))  # fmt: skip
            scheme = index.get(key)
            ok = scheme is not None and scheme.find(f"str:{cls}[@id='{ref.get('id')}']", NS) is not None
        else:
            ok = (MAINTAINABLE_TAGS[cls], ref.get("agencyID"), ref.get("id"), ref.get("version")) in index
        if not ok:
            problems.append((name, dict(ref.attrib)))
    assert not problems, problems
