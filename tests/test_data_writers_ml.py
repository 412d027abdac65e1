"""Streaming SDMX-ML data writers: official XSDs (with DSD-specific schemas), read-back by sdmx1 and pysdmx.

Two realistic data sets: country data for the global dataflow IAEG-SDGs:DF_SDG_GLC(1.22) and partnership data
for LNOB:DF_LNOB(1.0) (extra dimensions POP_GROUP and SUBNATIONAL, a data provider, and a dataset-level
attribute CONSENT_SCOPE, which DSD_LNOB lacks: it is added to a test copy of the DSD). Both have frequencies A,
Q and M, a missing value, attributes at each level and text with apostrophes, ampersands, angle brackets,
quotes, tabs, newlines and non-Latin scripts. Each is written in every format and layout (TIME_PERIOD,
REF_AREA or AllDimensions at observation level) and must read back to exactly the input.
"""

from __future__ import annotations

import io
import json
import math
import re
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Literal

import pytest
import sdmx
from lxml import etree
from pysdmx.io import read_sdmx as pysdmx_read

from codelists.loader import bundled_artefacts
from exchange.formats import data_ml21, data_ml30, structure_ml21
from exchange.formats.data_message import DataSetInfo, SeriesBlock, WriteOptions
from exchange.formats.data_ml import Memo, escape
from exchange.formats.structure_message import Header, StructureEntry
from exchange.structures.model import DataStructure, Ref
from exchange.structures.readers import read_structures
from exchange.structures.registry import Registry
from tests.conformance import assert_xml_valid, validate_sdmx_ml
from tests.dsd_xsd import structure_specific_schema

REPO = Path(__file__).resolve().parent.parent
SDG_FILE = REPO / "codelists/sdg/IAEG-SDGs_SDG_1.14_dsd_with_children.xml"
LNOB_FILE = REPO / "codelists/partnership/datastructures.xml"
SDG_FLOW = Ref("dataflow", "IAEG-SDGs", "DF_SDG_GLC", "1.22")
LNOB_FLOW = Ref("dataflow", "LNOB", "DF_LNOB", "1.0")
PREPARED = datetime(2026, 1, 15, 8, 30, tzinfo=timezone(timedelta(hours=5, minutes=45)))

TRICKY = 'Côte d\'Ivoire & <Ålesund> "q" नेपाल'
MULTILINE = "Ward 5:\tscorecard\nround 2 — পথবাসী; Watu wenye ulemavu"
VALUE_TEXT = {
    45.5: "45.5",
    12.0: "12",
    51.25: "51.25",
    0.1 + 0.2: "0.30000000000000004",
    120.0: "120",
    7.25: "7.25",
    1e22: "1e+22",
    -3.0: "-3",
    1234567.125: "1234567.125",
    0.0001: "0.0001",
}
"""Every input value and the text the writers must give it."""
CONSENT = ("CONSENT_SCOPE", "NSO")
"""The dataset-level attribute of the LNOB test DSD."""


@dataclass(frozen=True)
class Format:
    writer: Callable[..., Iterator[bytes]]
    version: Literal["2.1", "3.0"]
    generic: bool
    time_series: bool = False


FORMATS = {
    "generic-2.1": Format(data_ml21.write_generic, "2.1", generic=True),
    "generic-ts-2.1": Format(data_ml21.write_generic_time_series, "2.1", generic=True, time_series=True),
    "ss-2.1": Format(data_ml21.write_structure_specific, "2.1", generic=False),
    "ss-ts-2.1": Format(data_ml21.write_structure_specific_time_series, "2.1", generic=False, time_series=True),
    "ss-3.0": Format(data_ml30.write_structure_specific, "3.0", generic=False),
}
LAYOUTS = ("TIME_PERIOD", "REF_AREA", "AllDimensions")
CASES = [(f, layout) for f in FORMATS for layout in LAYOUTS if layout == "TIME_PERIOD" or not FORMATS[f].time_series]


# -- structures --------------------------------------------------------------------------------------------


@cache
def registry() -> Registry:
    return Registry(bundled_artefacts())


def _codes(ref: Ref) -> list[str]:
    return [item.id for item in registry().codelist(ref).items]


@cache
def _lnob_xml() -> bytes:
    """DSD_LNOB with an extra dataset-level attribute CONSENT_SCOPE (coded by LNOB:CL_CONSENT_SCOPE)."""
    attribute = (
        '<str:Attribute id="CONSENT_SCOPE" assignmentStatus="Conditional"><str:ConceptIdentity>'
        '<Ref maintainableParentID="LNOB_CONCEPTS" package="conceptscheme" maintainableParentVersion="1.0"'
        ' agencyID="LNOB" id="CONSENT_SCOPE" class="Concept"/></str:ConceptIdentity><str:LocalRepresentation>'
        '<str:Enumeration><Ref package="codelist" agencyID="LNOB" id="CL_CONSENT_SCOPE" version="1.0"'
        ' class="Codelist"/></str:Enumeration></str:LocalRepresentation>'
        "<str:AttributeRelationship><str:None/></str:AttributeRelationship></str:Attribute>"
    )
    text = LNOB_FILE.read_bytes()
    assert text.count(b"</str:AttributeList>") == 1
    return text.replace(b"</str:AttributeList>", attribute.encode() + b"</str:AttributeList>")


@cache
def structure(flow: Ref) -> DataStructure:
    if flow == LNOB_FLOW:
        return next(a for a in read_structures(_lnob_xml()) if isinstance(a, DataStructure) and a.id == "DSD_LNOB")
    return registry().structure_of(registry().dataflow(flow))


@cache
def sdmx1_structure(flow: Ref):  # type: ignore[no-untyped-def]
    """sdmx1's DSD: the SDG file (it has its children); for DSD_LNOB, with its concepts and codelists, as the
    service's structure writer gives them (references=children), since sdmx1 needs the concepts."""
    if flow == SDG_FLOW:
        return sdmx.read_sdmx(SDG_FILE).structure["SDG"]
    dsd = structure(flow)
    children = [registry().resolve(ref) for ref in dsd.references()]
    message = structure_ml21.render([StructureEntry(a) for a in [dsd, *children]], Header("CHILDREN", PREPARED))
    return sdmx.read_sdmx(io.BytesIO(message)).structure["DSD_LNOB"]


def test_the_lnob_test_dsd_has_a_dataset_attribute() -> None:
    consent = structure(LNOB_FLOW).component("CONSENT_SCOPE")
    assert consent is not None and consent.attachment == "dataset"
    assert structure(SDG_FLOW).component("CONSENT_SCOPE") is None


# -- test data ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    key: dict[str, str]
    """Every dimension, TIME_PERIOD included."""
    value: float | None
    attributes: dict[str, str]
    series_attributes: dict[str, str]


def _json(values: dict[str, str]) -> str | None:
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"), sort_keys=True) if values else None


def sdg_observations() -> list[Observation]:
    def key(area: str, freq: str, period: str, **codes: str) -> dict[str, str]:
        dims = [d.id for d in structure(SDG_FLOW).dimensions]
        return {
            **dict.fromkeys(dims, "_T"),
            "FREQ": freq,
            "REPORTING_TYPE": "N",
            "SERIES": "SI_POV_DAY1",
            "REF_AREA": area,
            "TIME_PERIOD": period,
            **codes,
        }

    nepal = {"UNIT_MEASURE": "PT", "COMMENT_TS": TRICKY}
    bangladesh = {"UNIT_MEASURE": "NUMBER", "COMMENT_TS": MULTILINE}
    kenya = {"UNIT_MEASURE": "PT", "CUST_BREAKDOWN_LB": "Persons with albinism (watu wenye ualbino)"}
    status = {"UNIT_MULT": "0", "OBS_STATUS": "A"}
    return [
        Observation(key("524", "A", "2019", SEX="F"), 45.5, {**status, "NATURE": "C", "COMMENT_OBS": TRICKY}, nepal),
        Observation(key("524", "A", "2020", SEX="F"), None, {**status, "OBS_STATUS": "M"}, nepal),
        Observation(key("524", "A", "2021", SEX="F"), 12.0, status, nepal),
        Observation(
            key("524", "A", "2022", SEX="F"),
            0.1 + 0.2,
            {**status, "OBS_STATUS": "E", "COMMENT_OBS": "Dalit women & girls; दलित महिला"},
            nepal,
        ),
        Observation(key("50", "Q", "2023-Q1"), 51.25, {**status, "COMMENT_OBS": MULTILINE}, bangladesh),
        Observation(key("50", "Q", "2023-Q2"), 120.0, status, bangladesh),
        Observation(key("404", "M", "2024-01", CUST_BREAKDOWN="C01"), 7.25, status, kenya),
        Observation(key("404", "M", "2024-02", CUST_BREAKDOWN="C01"), 1e22, {**status, "OBS_STATUS": "E"}, kenya),
        Observation(key("384", "A", "2021"), -3.0, {**status, "COMMENT_OBS": "Abidjan & Yamoussoukro"}, nepal),
    ]


def lnob_observations() -> list[Observation]:
    def key(area: str, freq: str, period: str, group: str, place: str) -> dict[str, str]:
        dims = [d.id for d in structure(LNOB_FLOW).dimensions]
        return {
            **dict.fromkeys(dims, "_T"),
            "FREQ": freq,
            "REPORTING_TYPE": "N",
            "SERIES": "SP_ACS_BSRVH2O",
            "REF_AREA": area,
            "TIME_PERIOD": period,
            "POP_GROUP": group,
            "SUBNATIONAL": place,
        }

    citizen = {"UNIT_MULT": "0", "OBS_STATUS": "A", "NATURE": "CG"}
    dalit = {"UNIT_MEASURE": "PT", "COMMENT_TS": "Community scorecards, wards 5 & 7 — दलित महिला 'hotspot' sample"}
    street = {"UNIT_MEASURE": "PT", "COMMENT_TS": 'Sylhet & Dhaka, "night count" <2 a.m.>'}
    disabled = {"UNIT_MEASURE": "NUMBER"}
    return [
        Observation(
            key("524", "A", "2023", "NP_DALIT", "NP-P2"),
            45.5,
            {
                **citizen,
                "SAMPLE_SIZE": "312",
                "SAMPLE_SIZE_BAND": "B100_499",
                "COMMENT_OBS": TRICKY,
                "PROV_REF": "release:np-2024-1#table-3",
            },
            dalit,
        ),
        Observation(
            key("524", "A", "2024", "NP_DALIT", "NP-P2"),
            None,
            {**citizen, "OBS_STATUS": "Q", "CONF_STATUS": "C", "SAMPLE_SIZE_BAND": "LT10"},
            dalit,
        ),
        Observation(
            key("50", "Q", "2024-Q3", "BD_STREET", "_T"),
            1234567.125,
            {**citizen, "OBS_STATUS": "E", "COMMENT_OBS": MULTILINE},
            street,
        ),
        Observation(key("404", "M", "2024-11", "KE_PWD_REG", "KE-47"), 120.0, citizen, disabled),
        Observation(
            key("404", "M", "2024-12", "KE_PWD_REG", "KE-47"),
            0.0001,
            {**citizen, "OBS_STATUS": "U", "COMMENT_OBS": "Kenya's 'informal settlements'"},
            disabled,
        ),
    ]


OBSERVATIONS = {SDG_FLOW: sdg_observations, LNOB_FLOW: lnob_observations}


def data_set(
    flow: Ref, layout: str, observations: list[Observation] | None = None, **info: object
) -> tuple[DataSetInfo, list[SeriesBlock]]:
    """The data set and its series blocks as the query engine gives them for ``layout``.

    With REF_AREA at observation level, series attributes (related to every dimension) come with each
    observation; with AllDimensions, each series' attributes come with its block.
    """
    dsd = structure(flow)
    dims = [d.id for d in dsd.dimensions] + ["TIME_PERIOD"]
    flat, merged = layout == "AllDimensions", layout == "REF_AREA"
    obs_dims = dims if flat else [layout]
    series_dims = [d for d in dims if d not in obs_dims]
    blocks: dict[tuple[str, ...], SeriesBlock] = {}
    for o in OBSERVATIONS[flow]() if observations is None else observations:
        key = tuple(o.key[d] for d in (dims[:-1] if flat else series_dims))  # flat data still come per series
        series_attributes = None if merged else _json(o.series_attributes)
        block = blocks.setdefault(key, SeriesBlock(() if flat else key, series_attributes))
        attributes = {**o.series_attributes, **o.attributes} if merged else o.attributes
        block.observations.append((tuple(o.key[d] for d in obs_dims), o.value, _json(attributes)))
    provider = ("LNOB", "NPL") if flow == LNOB_FLOW else None
    dataset_attributes = dict([CONSENT]) if flow == LNOB_FLOW else {}
    defaults = {
        "provider": provider,
        "dataset_attributes": dataset_attributes,
        "prepared": PREPARED,
        "message_id": "VOICES-TEST-1",
        "action": "Replace",
    }
    return DataSetInfo(
        registry().dataflow(flow), dsd, tuple(series_dims), tuple(obs_dims), **{**defaults, **info}
    ), list(blocks.values())  # type: ignore[arg-type]


def write(
    name: str, flow: Ref, layout: str, options: WriteOptions | None = None, data_provider: bool = False, **info: object
) -> bytes:
    dataset, blocks = data_set(flow, layout, **info)
    return b"".join(FORMATS[name].writer(dataset, blocks, options or WriteOptions(), data_provider=data_provider))


def validate(name: str, data: bytes, flow: Ref, layout: str) -> None:
    fmt = FORMATS[name]
    if fmt.generic:
        validate_sdmx_ml(data, "2.1")
    else:
        schema = structure_specific_schema(structure(flow), layout, fmt.version, _codes, fmt.time_series)
        assert_xml_valid(data, schema)


# -- expected and read-back records ------------------------------------------------------------------------

Record = tuple[tuple[tuple[str, str], ...], str | None, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]
"""(sorted key, value text, sorted observation attributes, sorted series attributes)."""


def expected(flow: Ref, layout: str, generic: bool, merged: bool) -> list[Record]:
    """The input as readers must give it back (``merged``: series attributes with each observation)."""
    records = []
    for o in OBSERVATIONS[flow]():
        value = VALUE_TEXT[o.value] if o.value is not None else ("NaN" if generic else None)
        obs, series = o.attributes, o.series_attributes
        if merged or layout != "TIME_PERIOD":
            obs, series = {**series, **obs}, {}
        records.append((tuple(sorted(o.key.items())), value, tuple(sorted(obs.items())), tuple(sorted(series.items()))))
    return sorted(records, key=repr)


def _missing(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def read_sdmx1(data: bytes, flow: Ref) -> tuple[list[Record], dict[str, str]]:
    message = sdmx.read_sdmx(io.BytesIO(data), structure=sdmx1_structure(flow))
    (dataset,) = message.data
    records = []
    for o in dataset.obs:
        key = {k: str(v.value) for k, v in o.dimension.values.items()}
        series = {}
        if o.series_key is not None:
            key |= {k: str(v.value) for k, v in o.series_key.values.items()}
            series = {k: str(v.value) for k, v in o.series_key.attrib.items()}
        obs = {k: str(v.value) for k, v in o.attached_attribute.items()}
        value = None if _missing(o.value) else str(o.value)
        records.append((tuple(sorted(key.items())), value, tuple(sorted(obs.items())), tuple(sorted(series.items()))))
    attributes = getattr(dataset, "attrib", {})  # sdmx1's SDMX 3.0 data sets have none
    return sorted(records, key=repr), {k: str(v.value) for k, v in attributes.items()}


def read_pysdmx(data: bytes, flow: Ref) -> tuple[list[Record], dict[str, str], str]:
    (dataset,) = pysdmx_read(data.decode(), validate=True).data
    dims = {c.id for c in structure(flow).components if c.role in ("dimension", "time_dimension")}
    records = []
    for row in dataset.data.to_dict("records"):
        row = {k: str(v) for k, v in row.items() if not _missing(v)}
        value = row.pop("OBS_VALUE", None)
        key = {k: v for k, v in row.items() if k in dims}
        attributes = {k: v for k, v in row.items() if k not in dims}
        records.append((tuple(sorted(key.items())), value, tuple(sorted(attributes.items())), ()))
    return sorted(records, key=repr), {k: str(v) for k, v in dataset.attributes.items()}, dataset.structure


# -- schema validity and read-back -------------------------------------------------------------------------


@pytest.mark.parametrize("flow", [SDG_FLOW, LNOB_FLOW], ids=["sdg", "lnob"])
@pytest.mark.parametrize(("name", "layout"), CASES)
def test_valid_and_read_back(name: str, layout: str, flow: Ref) -> None:
    fmt = FORMATS[name]
    data = write(name, flow, layout)
    validate(name, data, flow, layout)
    dataset_attributes = dict([CONSENT]) if flow == LNOB_FLOW else {}

    records, attributes, structure_urn = read_pysdmx(data, flow)
    assert records == expected(flow, layout, fmt.generic, merged=True)
    assert attributes == dataset_attributes
    assert structure_urn == f"Dataflow={flow.agency}:{flow.id}({flow.version})"

    if dataset_attributes and fmt.version == "3.0":
        # sdmx1 2.28 defect: its SDMX 3.0 data sets cannot hold attributes, it fails on DataSet XML attributes.
        with pytest.raises(sdmx.exceptions.XMLParseError, match="attrib"):
            read_sdmx1(data, flow)
        others = tuple(a.id for a in structure(flow).attributes if a.id != CONSENT[0])
        data, dataset_attributes = write(name, flow, layout, WriteOptions(attributes=others)), {}
    records, attributes = read_sdmx1(data, flow)
    if dataset_attributes and fmt.generic and layout == "REF_AREA":
        # sdmx1 2.28 defect: the data set's generic:Attributes go to the first Series without Attributes.
        assert attributes == {} and any(CONSENT in r[3] for r in records)
        records, attributes = [(*r[:3], tuple(a for a in r[3] if a != CONSENT)) for r in records], dataset_attributes
    assert records == expected(flow, layout, fmt.generic, merged=False)
    assert attributes == dataset_attributes


def test_data_provider() -> None:
    """Written on request only: sdmx1 2.28 cannot read a DataProvider in a data message (pysdmx can)."""
    for name, fmt in FORMATS.items():
        data = write(name, LNOB_FLOW, "TIME_PERIOD", data_provider=True)
        validate(name, data, LNOB_FLOW, "TIME_PERIOD")
        (dataset,) = pysdmx_read(data.decode()).data
        assert len(dataset.data) == 5
        if not fmt.generic:  # pysdmx lists the provider reference among the dataset attributes
            assert str(dataset.attributes["DataProvider"]).count("NPL")
        with pytest.raises(sdmx.exceptions.XMLParseError):
            read_sdmx1(data, LNOB_FLOW)
        assert b"DataProvider" not in write(name, LNOB_FLOW, "TIME_PERIOD")


@pytest.mark.parametrize("name", FORMATS)
def test_header_and_data_set(name: str) -> None:
    fmt = FORMATS[name]
    validity = {"valid_from": "2026-01-15T08:30:00+05:45", "valid_to": "2026-02-01T00:00:00Z"}
    data = write(
        name, LNOB_FLOW, "TIME_PERIOD", data_provider=True, reporting_begin="2023", reporting_end="2024-12", **validity
    )
    validate(name, data, LNOB_FLOW, "TIME_PERIOD")
    root = etree.fromstring(data)
    ns = {"m": root.nsmap["message"], "c": root.nsmap["common"]}
    assert root.findtext("m:Header/m:ID", namespaces=ns) == "VOICES-TEST-1"
    assert root.findtext("m:Header/m:Test", namespaces=ns) == "false"
    assert root.findtext("m:Header/m:Prepared", namespaces=ns) == "2026-01-15T08:30:00+05:45"
    assert root.find("m:Header/m:Sender", ns).get("id") == "LNOB"
    assert root.findtext("m:Header/m:ReportingBegin", namespaces=ns) == "2023"
    assert root.findtext("m:Header/m:ReportingEnd", namespaces=ns) == "2024-12"
    header_structure = root.find("m:Header/m:Structure", ns)
    assert header_structure.get("dimensionAtObservation") == "TIME_PERIOD"
    usage = header_structure.find("c:StructureUsage", ns)
    if fmt.version == "3.0":
        assert usage.text == "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=LNOB:DF_LNOB(1.0)"
    else:
        assert usage.find("Ref").attrib == {"agencyID": "LNOB", "id": "DF_LNOB", "version": "1.0"}
    dataset = root.find("m:DataSet", ns)
    provider = dataset[0]
    assert etree.QName(provider).localname == "DataProvider"
    urn = "urn:sdmx:org.sdmx.infomodel.base.DataProvider=LNOB:DATA_PROVIDERS(1.0).NPL"
    assert (provider.text if fmt.version == "3.0" else provider.findtext("URN")) == urn
    if fmt.generic:
        assert dataset.get("action") == "Replace"
        assert (dataset.get("validFromDate"), dataset.get("validToDate")) == tuple(validity.values())
        assert dataset.get("structureRef") == header_structure.get("structureID")
        return
    ss = root.nsmap["ss"]
    namespace = "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=LNOB:DSD_LNOB(1.0):ObsLevelDim:TIME_PERIOD"
    assert header_structure.get("namespace") == namespace == root.nsmap["ns1"]
    assert dataset.get(f"{{{ss}}}action") == "Replace"
    assert (dataset.get(f"{{{ss}}}validFromDate"), dataset.get(f"{{{ss}}}validToDate")) == tuple(validity.values())
    assert dataset.get(f"{{{ss}}}structureRef") == header_structure.get("structureID")
    xsi_type = dataset.get("{http://www.w3.org/2001/XMLSchema-instance}type")
    assert xsi_type == ("ns1:TimeSeriesDataSetType" if fmt.time_series else "ns1:DataSetType")
    assert dataset.get("CONSENT_SCOPE") == "NSO"


def test_prepared_defaults_to_now_with_an_offset() -> None:
    data = write("ss-2.1", SDG_FLOW, "TIME_PERIOD", prepared=None)
    text = re.search(rb"<message:Prepared>([^<]+)<", data).group(1).decode()  # type: ignore[union-attr]
    prepared = datetime.fromisoformat(text)
    assert prepared.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - prepared) < timedelta(minutes=1)


def test_the_dsd_specific_schema_is_strict() -> None:
    data = write("ss-2.1", SDG_FLOW, "TIME_PERIOD").decode()
    schema = structure_specific_schema(structure(SDG_FLOW), "TIME_PERIOD", "2.1", _codes)
    for broken, error in [
        (data.replace('OBS_VALUE="12"', 'OBS_VALUE="12,0"'), "xs:double"),
        (data.replace('REF_AREA="50"', 'REF_AREA="BGD"'), "enumeration"),
        (data.replace(' UNIT_MEASURE="NUMBER"', ' UNIT_MEASURE="NUMBER" POP_GROUP="STREET"'), "not allowed"),
        (data.replace('<Obs TIME_PERIOD="2021"', "<Obs"), "TIME_PERIOD' is required"),
        (data.replace(' xsi:type="ns1:DataSetType"', ""), "abstract"),
    ]:
        with pytest.raises(AssertionError, match=error):
            assert_xml_valid(broken.encode(), schema)


# -- options -----------------------------------------------------------------------------------------------


def _elements(data: bytes, local_name: str) -> list[etree._Element]:
    return [e for e in etree.fromstring(data).iter() if etree.QName(e).localname == local_name]


def _component_ids(data: bytes) -> set[str]:
    """Ids of every component with a value in the message (XML attributes or generic Values)."""
    root = etree.fromstring(data)
    ids = {e.get("id") for e in root.iter("{*}Value")} | {"OBS_VALUE" for _ in root.iter("{*}ObsValue")}
    for e in root.iter("Series", "Obs", "{*}DataSet"):
        ids.update(k for k in e.attrib if "}" not in k and k not in ("action", "structureRef"))
    return ids


def _dimensions() -> set[str]:
    return {d.id for d in structure(LNOB_FLOW).dimensions} | {"TIME_PERIOD"}


@pytest.mark.parametrize(("name", "layout"), CASES)
def test_detail_levels(name: str, layout: str) -> None:
    n_series = len(data_set(LNOB_FLOW, layout)[1])
    flat = layout == "AllDimensions"
    for detail in ("dataonly", "serieskeysonly", "nodata"):
        data = write(name, LNOB_FLOW, layout, WriteOptions(detail=detail))  # type: ignore[arg-type]
        validate(name, data, LNOB_FLOW, layout)
        ids = _component_ids(data)
        with_attributes = detail == "nodata"
        with_values = detail == "dataonly"
        assert bool(ids - _dimensions() - {"OBS_VALUE"}) is with_attributes, detail
        assert ("OBS_VALUE" in ids) is with_values, detail
        if flat:  # observation keys stand for the series of a flat data set
            assert len(_elements(data, "Obs")) == 5
        else:
            assert len(_elements(data, "Series")) == n_series
            assert len(_elements(data, "Obs")) == (5 if detail == "dataonly" else 0), detail
    ids = _component_ids(write(name, LNOB_FLOW, layout, WriteOptions(detail="nodata")))
    assert "CONSENT_SCOPE" in ids
    assert ("COMMENT_TS" in ids) is (layout != "REF_AREA")  # series attributes of cross-sections are per Obs


@pytest.mark.parametrize(("name", "layout"), CASES)
def test_measures_and_attribute_filters(name: str, layout: str) -> None:
    data = write(name, LNOB_FLOW, layout, WriteOptions(measures=False))
    validate(name, data, LNOB_FLOW, layout)
    ids = _component_ids(data)
    assert "OBS_VALUE" not in ids and not _elements(data, "ObsValue")
    assert {"OBS_STATUS", "UNIT_MEASURE", "CONSENT_SCOPE", "COMMENT_OBS"} <= ids
    assert len(_elements(data, "Obs")) == 5

    data = write(name, LNOB_FLOW, layout, WriteOptions(attributes=("OBS_STATUS", "COMMENT_TS", "NOT_IN_DSD")))
    validate(name, data, LNOB_FLOW, layout)
    assert _component_ids(data) - _dimensions() == {"OBS_VALUE", "OBS_STATUS", "COMMENT_TS"}

    data = write(name, LNOB_FLOW, layout, WriteOptions(attributes=()))
    assert _component_ids(data) - _dimensions() == {"OBS_VALUE"}


# -- values, text and errors -------------------------------------------------------------------------------


def test_number_format() -> None:
    base = sdg_observations()[0]
    texts = {**VALUE_TEXT, -0.0: "-0", 5e-324: "5e-324", 1 / 3: "0.3333333333333333", 2.5e-8: "2.5e-08"}
    observations = [replace(base, key={**base.key, "TIME_PERIOD": str(1900 + i)}, value=v) for i, v in enumerate(texts)]
    dataset, blocks = data_set(SDG_FLOW, "TIME_PERIOD", observations)
    data = b"".join(data_ml21.write_structure_specific(dataset, blocks, WriteOptions()))
    validate("ss-2.1", data, SDG_FLOW, "TIME_PERIOD")
    written = [e.get("OBS_VALUE") for e in _elements(data, "Obs")]
    assert written == list(texts.values())
    assert [float(t) for t in written] == list(texts)


@pytest.mark.parametrize("name", FORMATS)
def test_non_finite_values_and_forbidden_characters(name: str) -> None:
    fmt = FORMATS[name]
    base = sdg_observations()[0]
    odd = "bell\x07 nul\x00 lone surrogate \ud800 noncharacter \uffff"
    observations = [
        replace(
            base,
            key={**base.key, "TIME_PERIOD": period},
            value=value,
            attributes={**base.attributes, "COMMENT_OBS": odd},
        )
        for period, value in (("2019", math.nan), ("2020", math.inf), ("2021", -math.inf))
    ]
    dataset, blocks = data_set(SDG_FLOW, "TIME_PERIOD", observations)
    data = b"".join(fmt.writer(dataset, blocks, WriteOptions()))
    validate(name, data, SDG_FLOW, "TIME_PERIOD")
    values = [
        e.get("OBS_VALUE") if not fmt.generic else e.get("value")
        for e in _elements(data, "Obs" if not fmt.generic else "ObsValue")
    ]
    assert values == ["NaN", "INF", "-INF"]
    records, _ = read_sdmx1(data, SDG_FLOW)
    assert {dict(r[2])["COMMENT_OBS"] for r in records} == {
        "bell\ufffd nul\ufffd lone surrogate \ufffd noncharacter \ufffd"
    }


def test_memos_are_bounded() -> None:
    memo = Memo(str.upper, limit=2)
    assert [memo[k] for k in "abcab"] == list("ABCAB")
    assert len(memo) <= 2


def test_escape() -> None:
    assert escape("a&b<c>d\"e'f\tg\nh\ri") == "a&amp;b&lt;c&gt;d&quot;e&apos;f&#9;g&#10;h&#13;i"


@pytest.mark.parametrize("name", FORMATS)
def test_refused_inputs(name: str) -> None:
    writer = FORMATS[name].writer
    dataset, blocks = data_set(SDG_FLOW, "TIME_PERIOD")
    for info, match in [
        (replace(dataset, prepared=datetime(2026, 1, 1)), "timezone-aware"),
        (replace(dataset, action="Merge"), "action"),
        (replace(dataset, message_id="id with spaces"), "SDMX id"),
        (
            replace(
                dataset,
                series_dimensions=dataset.series_dimensions[:-1],
                observation_dimensions=("PRODUCT", "TIME_PERIOD"),
            ),
            "exactly one dimension",
        ),
    ]:
        with pytest.raises(ValueError, match=match):
            writer(info, blocks, WriteOptions())
    if FORMATS[name].time_series:
        dataset, blocks = data_set(SDG_FLOW, "REF_AREA")
        with pytest.raises(ValueError, match="TIME_PERIOD at observation"):
            writer(dataset, blocks, WriteOptions())


@pytest.mark.parametrize("name", FORMATS)
def test_empty_data_set(name: str) -> None:
    dataset, _ = data_set(LNOB_FLOW, "TIME_PERIOD")
    data = b"".join(FORMATS[name].writer(dataset, [], WriteOptions()))
    validate(name, data, LNOB_FLOW, "TIME_PERIOD")
    assert not _elements(data, "Series")


# -- streaming ---------------------------------------------------------------------------------------------


def _many_blocks(n_series: int, periods: int, flow: Ref = SDG_FLOW) -> Iterator[SeriesBlock]:
    """``n_series`` annual series of ``periods`` observations, made on demand (3 observation attributes)."""
    dims = [d.id for d in structure(flow).dimensions]
    statuses = ['{"OBS_STATUS":"A","UNIT_MULT":"0","NATURE":"C"}', '{"OBS_STATUS":"E","UNIT_MULT":"0","NATURE":"M"}']
    for i in range(n_series):
        key = {
            **dict.fromkeys(dims, "_T"),
            "FREQ": "A",
            "REPORTING_TYPE": "N",
            "SERIES": "SI_POV_DAY1",
            "REF_AREA": "524",
            "CUST_BREAKDOWN": f"C{i % 5000 + 1:02d}",
            "SEX": "FM"[i // 5000 % 2],
        }
        yield SeriesBlock(
            tuple(key[d] for d in dims),
            '{"UNIT_MEASURE":"PT"}',
            [((str(2000 + p),), i * 0.5 + p if p % 7 else None, statuses[p % 2]) for p in range(periods)],
        )


@pytest.mark.parametrize("name", ["ss-2.1", "generic-2.1"])  # the other formats share these bodies
def test_streams_in_bounded_chunks_and_memory(name: str) -> None:
    dataset, _ = data_set(SDG_FLOW, "TIME_PERIOD")
    tracemalloc.start()
    try:
        sizes = []
        for chunk in FORMATS[name].writer(dataset, _many_blocks(10_000, 20), WriteOptions()):
            sizes.append(len(chunk))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(sizes) > 20_000_000 if FORMATS[name].generic else sum(sizes) > 10_000_000
    assert max(sizes) < 200_000 and len(sizes) > 100
    assert peak < 4_000_000, f"peak {peak} bytes"


def test_a_huge_series_is_written_in_slices() -> None:
    dataset, _ = data_set(SDG_FLOW, "TIME_PERIOD")
    (block,) = _many_blocks(1, 1)
    block.observations = [((f"{1000 + i // 12}-{i % 12 + 1:02d}",), float(i), None) for i in range(100_000)]
    sizes = [len(c) for c in data_ml21.write_structure_specific(dataset, [block], WriteOptions())]
    assert max(sizes) < 200_000 and sum(sizes) > 4_000_000


# -- the same data in every format -------------------------------------------------------------------------


def test_every_format_reads_back_to_the_same_observations() -> None:
    seen: dict[str, list[tuple]] = {}
    for name in FORMATS:
        records, _ = read_sdmx1(write(name, SDG_FLOW, "TIME_PERIOD"), SDG_FLOW)
        seen[name] = [(k, v if v != "NaN" else None, {**dict(s), **dict(o)}) for k, v, o, s in records]
    first = next(iter(seen.values()))
    assert all(records == first for records in seen.values())
