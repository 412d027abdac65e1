"""Data-message readers: SDMX-ML 2.1/3.0, SDMX-CSV 1.0/2.x and SDMX-JSON 1.0/2.0.

``tests/data/messages/`` holds one small citizen-data dataset (3 series, frequencies A/Q/M, a missing value,
"NaN", attributes at dataset, group, series and observation level, apostrophes, ampersands, quotes and
Devanagari/Bengali/Swahili text) in every supported format: each file must read to the same records.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
import sdmx
from sdmx.model import v21

from exchange.formats.data_readers import read_data_message, sniff_format
from exchange.formats.records import DataMessage, MessageError, ObservationRecord
from exchange.structures.model import Component, DataStructure, Group, Ref, Representation
from exchange.structures.readers import read_structures

DATA = Path(__file__).resolve().parent / "data"
MESSAGES = DATA / "messages"
SDG_SAMPLES = DATA / "sdg"
SDG_DSD_FILE = Path(__file__).resolve().parent.parent / "codelists" / "sdg" / "IAEG-SDGs_SDG_1.14_dsd_with_children.xml"
DF_URN = "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=LNOB:DF_CGD_TEST(1.0)"
SDG_DIMS = ["FREQ", "REPORTING_TYPE", "SERIES", "REF_AREA", "SEX", "AGE", "URBANISATION", "INCOME_WEALTH_QUANTILE",
            "EDUCATION_LEV", "OCCUPATION", "CUST_BREAKDOWN", "COMPOSITE_BREAKDOWN", "DISABILITY_STATUS", "ACTIVITY",
            "PRODUCT"]


def _component(cid: str, role: str, codelist: str | None = None, **kw: object) -> Component:
    rep = Representation(enumeration=Ref("codelist", "LNOB", codelist, "1.0")) if codelist else None
    return Component(cid, role, Ref("conceptscheme", "LNOB", "CS_LNOB", "1.0", item=cid), rep, **kw)  # type: ignore[arg-type]


SERIES_DIMS = ["FREQ", "REF_AREA", "POP_GROUP", "SEX"]
DSD = DataStructure(
    agency="LNOB", id="DSD_CGD_TEST", version="1.0",
    components=[
        _component("FREQ", "dimension", "CL_FREQ", position=1),
        _component("REF_AREA", "dimension", "CL_AREA", position=2),
        _component("POP_GROUP", "dimension", "CL_POP_GROUP", position=3),
        _component("SEX", "dimension", "CL_SEX", position=4),
        _component("TIME_PERIOD", "time_dimension", position=5),
        _component("DATA_SOURCE", "attribute", usage="conditional", attachment="dataset"),
        _component("POP_GROUP_LB", "attribute", usage="conditional", attachment="group", group="POPGRP"),
        _component("UNIT_MEASURE", "attribute", "CL_UNIT", usage="mandatory", attachment="series",
                   related_to=SERIES_DIMS),
        _component("COMMENT_TS", "attribute", usage="conditional", attachment="series", related_to=SERIES_DIMS),
        _component("OBS_STATUS", "attribute", "CL_OBS_STATUS", usage="mandatory", attachment="observation"),
        _component("COMMENT_OBS", "attribute", usage="conditional", attachment="observation"),
        _component("OBS_VALUE", "measure"),
    ],
    groups=[Group("POPGRP", ["REF_AREA", "POP_GROUP"])],
)
"""A small partnership-like DSD: dataset, group, series and observation attributes."""

DATA_SOURCE = "Community scorecards, household survey & focus groups ('hotspot' sample)"
NP = {"FREQ": "A", "REF_AREA": "NP", "POP_GROUP": "DALIT", "SEX": "F"}
NP_SERIES = {"UNIT_MEASURE": "PT", "COMMENT_TS": "Wards 5 & 7 — Dalit women's groups; दलित महिला",
             "POP_GROUP_LB": "दलित (Dalit)"}
BD = {"FREQ": "Q", "REF_AREA": "BD", "POP_GROUP": "STREET", "SEX": "M"}
BD_SERIES = {"UNIT_MEASURE": "NUMBER", "POP_GROUP_LB": "পথবাসী (street dwellers)"}
KE = {"FREQ": "M", "REF_AREA": "KE", "POP_GROUP": "PWD", "SEX": "_T"}
KE_SERIES = {"UNIT_MEASURE": "PT", "COMMENT_TS": "Kibera & Mathare", "POP_GROUP_LB": "Watu wenye ulemavu"}
EXPECTED = [
    (NP, "2021", "45.5", {"OBS_STATUS": "A"}, NP_SERIES),
    (NP, "2022", None, {"OBS_STATUS": "O", "COMMENT_OBS": "Not collected: ward offices closed"}, NP_SERIES),
    (NP, "2023", "NaN", {"OBS_STATUS": "M"}, NP_SERIES),
    (BD, "2023-Q1", "120", {"OBS_STATUS": "A", "COMMENT_OBS": 'Sylhet & Dhaka, "night count" <2 a.m.>'}, BD_SERIES),
    (BD, "2023-Q2", "98", {"OBS_STATUS": "E"}, BD_SERIES),
    (KE, "2024-01", "12.5", {"OBS_STATUS": "A"}, KE_SERIES),
    (KE, "2024-02", "13", {"OBS_STATUS": "A", "COMMENT_OBS": "Kenya's 'informal settlements'"}, KE_SERIES),
]
FIXTURES = {
    "sdmx_csv_10.csv": "SDMX-CSV 1.0",
    "sdmx_csv_20.csv": "SDMX-CSV 2.0",
    "sdmx_csv_20_labels_semicolon.csv": "SDMX-CSV 2.0",
    "sdmx_json_10.json": "SDMX-JSON 1.0",
    "sdmx_json_20.json": "SDMX-JSON 2.0",
    "generic_21.xml": "SDMX-ML 2.1 GenericData",
    "generic_21_timeseries.xml": "SDMX-ML 2.1 GenericTimeSeriesData",
    "generic_21_all_dimensions.xml": "SDMX-ML 2.1 GenericData",
    "structspecific_21.xml": "SDMX-ML 2.1 StructureSpecificData",
    "structspecific_21_timeseries.xml": "SDMX-ML 2.1 StructureSpecificTimeSeriesData",
    "structspecific_21_ref_area_at_obs.xml": "SDMX-ML 2.1 StructureSpecificData",
    "structspecific_21_all_dimensions.xml": "SDMX-ML 2.1 StructureSpecificData",
    "structspecific_30.xml": "SDMX-ML 3.0 StructureSpecificData",
}


def _canonical(records: list[ObservationRecord]) -> list[tuple]:
    return sorted(
        (tuple(sorted(r.key.items())), r.time_period or "", r.value or "", r.value is None,
         tuple(sorted(r.obs_attributes.items())), tuple(sorted(r.series_attributes.items())))
        for r in records
    )


def _expected() -> list[tuple]:
    return _canonical([ObservationRecord(dict(k), t, v, dict(o), dict(s)) for k, t, v, o, s in EXPECTED])


def read(data: bytes | Path, dsd: DataStructure = DSD) -> tuple[DataMessage, list[ObservationRecord]]:
    raw = data.read_bytes() if isinstance(data, Path) else data
    message = read_data_message(io.BytesIO(raw), dsd)
    return message, list(message.observations)


@pytest.fixture(scope="module")
def sdg() -> DataStructure:
    """IAEG-SDGs:SDG(1.14), read by the service's own structure reader."""
    artefacts = read_structures(SDG_DSD_FILE.read_bytes())
    return next(a for a in artefacts if isinstance(a, DataStructure) and a.id == "SDG")


# -- real SDG samples --------------------------------------------------------------------------------------


def test_real_generic_sample(sdg: DataStructure) -> None:
    message, records = read(SDG_SAMPLES / "sample_generic_SDG1.8_1-1-1.xml", sdg)
    assert message.format == "SDMX-ML 2.1 GenericData"
    assert message.structure_id == "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=IAEG-SDGs:SDG(1.8)"
    assert message.action == "Information"
    assert message.dataset_attributes == {}
    assert len(records) == 6
    first = records[0]
    assert list(first.key) == SDG_DIMS
    assert first.key["SERIES"] == "SI_POV_DAY1" and first.key["SEX"] == "_T"
    assert (first.time_period, first.value) == ("2020", "100")
    assert first.series_attributes == {"UNIT_MEASURE": "PT"}
    assert first.obs_attributes == {"OBS_STATUS": "A", "UNIT_MULT": "0", "NATURE": "_X"}
    assert first.location.line == 41
    assert [r.key["SEX"] for r in records] == ["_T", "_T", "M", "M", "F", "F"]


def test_real_structure_specific_sample_matches_generic(sdg: DataStructure) -> None:
    generic = read(SDG_SAMPLES / "sample_generic_SDG1.8_1-1-1.xml", sdg)[1]
    message, records = read(SDG_SAMPLES / "sample_structspecific_SDG1.8_1-1-1.xml", sdg)
    assert message.format == "SDMX-ML 2.1 StructureSpecificData"
    assert message.action == "Information"
    assert _canonical(records) == _canonical(generic)
    assert [r.location.line for r in records] == [21, 22, 25, 26, 29, 30]
    other = read(SDG_SAMPLES / "sample_structspecific_SDG1.8_1-2-1.xml", sdg)[1]
    assert {r.key["SERIES"] for r in other} == {"SI_POV_NAHC"}


def test_real_uk_demo_with_invalid_series_is_read_not_judged(sdg: DataStructure) -> None:
    message, records = read(SDG_SAMPLES / "uk-demo_output_structspecific_SDG1.7_all.xml", sdg)
    assert message.structure_id == "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=IAEG-SDGs:SDG(1.7)"
    assert message.action is None  # the sample's DataSet states none
    assert len(records) == 207
    assert sum(r.key["SERIES"] == "_T" for r in records) == 13
    assert all(len(r.key) == 15 and r.time_period and r.series_attributes.get("UNIT_MEASURE") for r in records)
    assert all(r.location.line == 1 for r in records)  # the file is one line
    assert len(read(SDG_SAMPLES / "uk-demo_output_structspecific_SDG1.7_3-2-1.xml", sdg)[1]) == 51


# -- one dataset, every format -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_every_format_reads_the_same_records(name: str) -> None:
    message, records = read(MESSAGES / name)
    assert message.format == FIXTURES[name]
    assert message.structure_id == DF_URN
    assert message.action == (None if name == "sdmx_csv_10.csv" else "Replace")
    assert message.dataset_attributes == {"DATA_SOURCE": DATA_SOURCE}
    assert _canonical(records) == _expected()
    assert all(set(r.key) == set(SERIES_DIMS) for r in records)


def test_locations() -> None:
    csv_records = read(MESSAGES / "sdmx_csv_20.csv")[1]
    assert [(r.location.row, r.location.line) for r in csv_records[:3]] == [(1, 2), (2, 3), (3, 4)]
    xml_records = read(MESSAGES / "structspecific_21.xml")[1]
    assert [r.location.line for r in xml_records[:3]] == [21, 22, 23]
    json_records = read(MESSAGES / "sdmx_json_20.json")[1]
    assert json_records[3].location.column == "/data/dataSets/0/series/1:1:1:1/observations/3"


def test_observations_stream_lazily() -> None:
    """Header facts come first; the file is not read to its end before the first observation is used."""
    body = "".join(f'<Obs TIME_PERIOD="{1000 + i}" OBS_VALUE="{i}" OBS_STATUS="A"/>\n' for i in range(20000))
    xml = _ss_message(f'<Series FREQ="A" REF_AREA="NP" POP_GROUP="DALIT" SEX="F">\n{body}</Series>').encode()
    stream = io.BytesIO(xml)
    message = read_data_message(stream, DSD)
    first = next(message.observations)
    assert first.time_period == "1000"
    assert stream.tell() < len(xml) / 2
    assert sum(1 for _ in message.observations) == 19999


# -- SDMX-ML details ---------------------------------------------------------------------------------------

SS_NS = ('xmlns:message="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" '
         'xmlns:common="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common" '
         'xmlns:ss="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific" '
         'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')


def _ss_message(body: str, dataset_attrs: str = 'ss:action="Merge"', extra_dataset: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<message:StructureSpecificData {SS_NS}>\n'
        '<message:Header><message:ID>T</message:ID><message:Test>true</message:Test>'
        '<message:Prepared>2024-01-01T00:00:00Z</message:Prepared><message:Sender id="T"/>'
        '<message:Structure structureID="S" namespace="urn:x" dimensionAtObservation="TIME_PERIOD">'
        f"<common:Structure><URN>{DF_URN.replace('Dataflow', 'DataStructure')}</URN></common:Structure>"
        "</message:Structure></message:Header>\n"
        f'<message:DataSet ss:structureRef="S" {dataset_attrs}>\n{body}\n</message:DataSet>{extra_dataset}\n'
        "</message:StructureSpecificData>\n"
    )


def test_structure_specific_groups_and_xml_attributes_tolerated() -> None:
    xml = _ss_message(
        '<Group xsi:type="ns1:POPGRP" type="POPGRP" REF_AREA="NP" POP_GROUP="DALIT" POP_GROUP_LB="Dalit"/>\n'
        '<Series xsi:type="ns1:SeriesType" FREQ="A" REF_AREA="NP" POP_GROUP="DALIT" SEX="F" UNIT_MEASURE="PT">\n'
        '<Obs TIME_PERIOD="2020" OBS_VALUE="1" OBS_STATUS="A" REPORTING_YEAR_START_DAY="--07-01"/>\n'
        '<Obs TIME_PERIOD="2021" OBS_STATUS="O"/></Series>\n'
        '<Series FREQ="A" REF_AREA="NP" POP_GROUP="DALIT" SEX="M"><Obs TIME_PERIOD="2021" OBS_VALUE="2"/></Series>'
    )
    message, records = read(xml.encode())
    assert message.action == "Merge"
    assert message.structure_id == "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=LNOB:DF_CGD_TEST(1.0)"
    assert [r.series_attributes for r in records] == [
        {"UNIT_MEASURE": "PT", "POP_GROUP_LB": "Dalit"}, {"UNIT_MEASURE": "PT", "POP_GROUP_LB": "Dalit"},
        {"POP_GROUP_LB": "Dalit"},
    ]
    assert records[1].value is None and records[1].obs_attributes == {"OBS_STATUS": "O"}


def test_series_without_observations_gives_a_record() -> None:
    xml = _ss_message('<Group type="POPGRP" REF_AREA="NP" POP_GROUP="DALIT" POP_GROUP_LB="Dalit"/>\n'
                      '<Series FREQ="A" REF_AREA="NP" POP_GROUP="DALIT" SEX="F" COMMENT_TS="revised"/>',
                      dataset_attrs='ss:action="Delete"')
    message, records = read(xml.encode())
    assert message.action == "Delete"
    assert [(r.key, r.time_period, r.value, r.series_attributes, r.location.line) for r in records] == [
        (NP, None, None, {"COMMENT_TS": "revised", "POP_GROUP_LB": "Dalit"}, 6)
    ]
    generic = re.sub(r"<generic:Obs>.*?</generic:Obs>\s*", "", (MESSAGES / "generic_21.xml").read_text(), flags=re.S)
    records = read(generic.encode())[1]
    assert [(r.key, r.time_period, r.value, r.series_attributes) for r in records] == [
        (NP, None, None, NP_SERIES), (BD, None, None, BD_SERIES), (KE, None, None, KE_SERIES)
    ]


def test_unknown_xml_attribute_is_reported_with_its_line() -> None:
    xml = _ss_message('<Series FREQ="A" REF_AREA="NP" POP_GROUP="DALIT" SEX="F">\n'
                      '<Obs TIME_PERIOD="2020" OBS_VALUE="1"/>\n<Obs TIME_PERIOD="2021" OBS_VALUE="1" CASTE="X"/>'
                      "</Series>")
    message = read_data_message(io.BytesIO(xml.encode()), DSD)
    next(message.observations)
    with pytest.raises(MessageError, match="'CASTE' is not a component of LNOB:DSD_CGD_TEST") as err:
        next(message.observations)
    assert err.value.location.line == 7


def test_unknown_series_component_and_generic_value() -> None:
    with pytest.raises(MessageError, match="Series: 'AREA' is not a component"):
        read(_ss_message('<Series FREQ="A" AREA="NP"><Obs TIME_PERIOD="2020" OBS_VALUE="1"/></Series>').encode())
    generic = (MESSAGES / "generic_21.xml").read_text().replace('id="OBS_STATUS"', 'id="OBS_STATE"', 1)
    with pytest.raises(MessageError, match="'OBS_STATE' is not a component"):
        read(generic.encode())


def test_data_in_a_wrong_namespace_is_not_silently_skipped() -> None:
    xml = _ss_message('<Series xmlns="urn:example" FREQ="A"><Obs TIME_PERIOD="2020" OBS_VALUE="1"/></Series>')
    with pytest.raises(MessageError, match="wrong namespace"):
        read(xml.encode())


def test_data_sets_with_different_actions_are_refused() -> None:
    second = '\n<message:DataSet ss:structureRef="S" ss:action="Delete"><Obs TIME_PERIOD="2020"/></message:DataSet>'
    xml = _ss_message('<Obs FREQ="A" REF_AREA="NP" POP_GROUP="DALIT" SEX="F" TIME_PERIOD="2020"/>',
                      extra_dataset=second)
    with pytest.raises(MessageError, match="differs from the first one"):
        read(xml.encode())


def test_conflicting_dataset_attribute_is_refused() -> None:
    xml = _ss_message('<Obs FREQ="A" REF_AREA="NP" POP_GROUP="DALIT" SEX="F" TIME_PERIOD="2020" DATA_SOURCE="B"/>',
                      dataset_attrs='ss:action="Replace" DATA_SOURCE="A"')
    with pytest.raises(MessageError, match="DATA_SOURCE is 'B' here but 'A' earlier"):
        read(xml.encode())


def test_empty_data_set_still_gives_header_facts() -> None:
    message, records = read(_ss_message("", dataset_attrs='ss:action="Delete" DATA_SOURCE="x"').encode())
    assert records == []
    assert (message.action, message.dataset_attributes) == ("Delete", {"DATA_SOURCE": "x"})


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<d>&x;</d>', "DOCTYPE"),
        (b"<!-- " + b"x" * 70_000 + b' -->\n<!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>', "DOCTYPE"),
        (b"<message:Structure xmlns:message='http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message'/>",
         "Structure message"),
        (b"<CompactData xmlns='http://www.SDMX.org/resources/SDMXML/schemas/v2_0/message'/>".replace(
            b"SDMX.org/resources/SDMXML", b"sdmx.org/resources/sdmxml"), "SDMX-ML 2.0"),
        (b"<html><body>Not found</body></html>", "Not an SDMX-ML message"),
        (b"<a><b></a>", "Malformed XML"),
    ],
)
def test_bad_xml(data: bytes, match: str) -> None:
    with pytest.raises(MessageError, match=match):
        read(data)


def test_the_sdg_dsd_file_is_not_data(sdg: DataStructure) -> None:
    with pytest.raises(MessageError, match="Structure message"):
        read(SDG_DSD_FILE, sdg)


def test_truncated_xml_fails_while_streaming_with_a_line() -> None:
    xml = (MESSAGES / "structspecific_21.xml").read_bytes()
    message = read_data_message(io.BytesIO(xml[: xml.index(b"2023-Q2")]), DSD)
    with pytest.raises(MessageError, match="Malformed XML") as err:
        list(message.observations)
    assert err.value.location.line == 27


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_truncated_messages_raise_only_message_errors(name: str) -> None:
    data = (MESSAGES / name).read_bytes()
    for cut in range(1, len(data), len(data) // 12):
        with contextlib.suppress(MessageError):
            read(data[:cut])


# -- SDMX-CSV details --------------------------------------------------------------------------------------

CSV_HEADER = "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,POP_GROUP,SEX,TIME_PERIOD,OBS_VALUE,OBS_STATUS"


def test_csv_multiline_field_keeps_line_numbers() -> None:
    csv = (f"{CSV_HEADER},COMMENT_OBS\r\n"
           'dataflow,LNOB:DF_CGD_TEST(1.0),I,A,NP,DALIT,F,2020,1,A,"two\r\nlines"\r\n'
           "\r\n"
           "dataflow,LNOB:DF_CGD_TEST(1.0),I,A,NP,DALIT,F,2021,2,A,\r\n")
    message, records = read(csv.encode())
    assert message.action == "Information"
    assert records[0].obs_attributes == {"OBS_STATUS": "A", "COMMENT_OBS": "two\r\nlines"}
    assert [(r.location.row, r.location.line) for r in records] == [(1, 2), (2, 5)]


@pytest.mark.parametrize(("letter", "action"), [("R", "Replace"), ("M", "Merge"), ("A", "Append"), ("D", "Delete")])
def test_csv_actions(letter: str, action: str) -> None:
    message, _ = read(f"{CSV_HEADER}\ndataflow,LNOB:DF_CGD_TEST(1.0),{letter},A,NP,DALIT,F,2020,1,A\n".encode())
    assert message.action == action


def test_csv_delete_may_wildcard_dimensions() -> None:
    csv = "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,POP_GROUP\ndatastructure,LNOB:DSD_CGD_TEST,D,NP,\n"
    message, records = read(csv.encode())
    assert message.structure_id == "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=LNOB:DSD_CGD_TEST"
    assert records[0].key == {"REF_AREA": "NP"} and records[0].time_period is None


def test_csv_labels_name_columns_are_skipped() -> None:
    csv = ("STRUCTURE,STRUCTURE_ID,STRUCTURE_NAME,ACTION,FREQ,Frequency,REF_AREA,Reference area,POP_GROUP,Group,"
           "SEX,Sex,TIME_PERIOD,Time,OBS_VALUE,Value\n"
           "dataflow,LNOB:DF_CGD_TEST(1.0),Test flow,I,A,Annual,NP,Nepal,DALIT,Dalit,F,Female,2020,2020,7,\n")
    record = read(csv.encode())[1][0]
    assert (record.key, record.time_period, record.value) == (NP, "2020", "7")


@pytest.mark.parametrize(
    ("csv", "match", "location"),
    [
        ("STRUCTURE,STRUCTURE_ID,ACTION,FREQ,SEX,TIME_PERIOD\ndataflow,LNOB:DF_CGD_TEST(1.0),I,A,F,2020\n",
         "no column for REF_AREA, POP_GROUP", (1, 0)),
        (f"{CSV_HEADER},CASTE\n", "'CASTE' is not a component", (1, 0)),
        (f"{CSV_HEADER}\ndataflow,LNOB:DF_CGD_TEST(1.0),I,A,NP,DALIT,F,2020,1,A\n"
         "dataflow,LNOB:DF_CGD_TEST(1.0),I,A,NP,DALIT,F,2021,1,5,A\n", "Row 2 has 11 fields but the header has 10",
         (3, 2)),
        (f"{CSV_HEADER}\ndataflow,LNOB:DF_CGD_TEST(1.0),I,A,NP,DALIT,F,2020,1,A\n"
         "dataflow,LNOB:DF_CGD_TEST(2.0),I,A,NP,DALIT,F,2021,1,A\n", "one message must have one structure", (3, 2)),
        (f"{CSV_HEADER}\ndataflow,LNOB:DF_CGD_TEST(1.0),X,A,NP,DALIT,F,2020,1,A\n", "ACTION 'X'", (2, 1)),
        (f"{CSV_HEADER}\ndataflow,DF_CGD_TEST,I,A,NP,DALIT,F,2020,1,A\n", "AGENCY:ID\\(VERSION\\)", (2, 1)),
        (f"{CSV_HEADER},FREQ\n", "Column FREQ appears twice", (1, 0)),
        ("DATAFLOW\n", "Not an SDMX-CSV message", (1, 0)),
    ],
)
def test_bad_csv(csv: str, match: str, location: tuple[int, int]) -> None:
    with pytest.raises(MessageError, match=match) as err:
        read(csv.encode())
    assert (err.value.location.line, err.value.location.row) == location


def test_csv_not_utf8() -> None:
    csv = f"{CSV_HEADER},COMMENT_OBS\ndataflow,LNOB:DF_CGD_TEST(1.0),I,A,NP,DALIT,F,2020,1,A,Côte\n"
    with pytest.raises(MessageError, match="not UTF-8") as err:
        read(csv.encode("latin-1"))
    assert err.value.location.line == 2


# -- SDMX-JSON details -------------------------------------------------------------------------------------


def _json(dataset: str, structure_extra: str = "") -> bytes:
    dims = ('"dataSet": [{"id": "FREQ", "keyPosition": 0, "values": [{"id": "A"}]}, '
            '{"id": "SEX", "keyPosition": 3, "values": [{"id": "F"}]}], '
            '"observation": [{"id": "REF_AREA", "keyPosition": 1, "values": [{"id": "NP"}, {"id": "KE"}]}, '
            '{"id": "POP_GROUP", "keyPosition": 2, "values": [{"id": "DALIT"}]}, '
            '{"id": "TIME_PERIOD", "keyPosition": 4, "values": [{"id": "2020"}]}]')
    attrs = ('"observation": [{"id": "OBS_STATUS", "default": "A", "values": [{"id": "A"}, {"id": "E"}]},'
             '{"id": "COMMENT_OBS", "values": [{"name": "estimated"}]}]')
    return (f'{{"data": {{"structures": [{{"links": [{{"rel": "datastructure", "href": "https://x/dsd"}}], '
            f'"dimensions": {{{dims}}}, "attributes": {{{attrs}}}{structure_extra}}}], '
            f'"dataSets": [{dataset}]}}}}').encode()


def test_json_flat_observations_dataset_dimensions_and_defaults() -> None:
    message, records = read(_json('{"observations": {"0:0:0": [1.50], "1:0:0": [2, 1, 0], "0:0:0:": []}}'
                                  .replace(', "0:0:0:": []', "")))
    assert message.structure_id == "https://x/dsd" and message.action is None
    assert [(r.key["REF_AREA"], r.value, r.obs_attributes) for r in records] == [
        ("NP", "1.50", {"OBS_STATUS": "A"}),
        ("KE", "2", {"OBS_STATUS": "E", "COMMENT_OBS": "estimated"}),
    ]
    assert records[0].key == {"FREQ": "A", "SEX": "F", "REF_AREA": "NP", "POP_GROUP": "DALIT"}


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (_json('{"observations": {"0:0:0": [1, 7]}}'), "7 is not an index into the 2 values of OBS_STATUS"),
        (_json('{"observations": {"0:0": [1]}}'), "Key '0:0' does not have one index for each of"),
        (_json("{}", ', "measures": {"observation": [{"id": "MEAS2"}]}'), "'MEAS2' is not a component"),
        (b'{"data": {"dataStructures": []}}', "structure message"),
        (b'{"errors": [{"code": 100, "title": "No results found"}]}', "error message: 100 No results found"),
        (b'{"data": {"dataSets": [', "Malformed JSON"),
    ],
)
def test_bad_json(data: bytes, match: str) -> None:
    with pytest.raises(MessageError, match=match):
        read(data)


# -- sniffing ----------------------------------------------------------------------------------------------


def test_sniff_format() -> None:
    assert sniff_format(b"\xef\xbb\xbf\n <?xml version='1.0'?>") == "xml"
    assert sniff_format(b'  {"meta": {}}') == "json"
    assert sniff_format(b"\xef\xbb\xbfSTRUCTURE;STRUCTURE_ID") == "csv"
    assert sniff_format(b'"DATAFLOW","FREQ"') == "csv"
    for data, match in [(b"", "empty"), (b"PK\x03\x04xlsx", "spreadsheet"), (b"\xff\xfeS\x00", "UTF-16"),
                        (b"FREQ,REF_AREA\n", "Not an SDMX")]:
        with pytest.raises(MessageError, match=match):
            sniff_format(data)


def test_quoted_csv_header() -> None:
    csv = ('"DATAFLOW","FREQ","REF_AREA","POP_GROUP","SEX","TIME_PERIOD","OBS_VALUE"\n'
           '"LNOB:DF_CGD_TEST(1.0)","A","NP","DALIT","F","2020","3"\n')
    message, records = read(csv.encode())
    assert message.format == "SDMX-CSV 1.0" and records[0].value == "3"


# -- independent readers and writers -----------------------------------------------------------------------


def test_pysdmx_reads_our_fixtures_the_same() -> None:
    pytest.importorskip("pyarrow")  # pysdmx's data extra
    from pysdmx.io import read_sdmx

    for name in ("sdmx_csv_20.csv", "generic_21.xml"):
        frame = read_sdmx(MESSAGES / name).data[0].data
        theirs = sorted((r["REF_AREA"], r["TIME_PERIOD"], r["OBS_VALUE"], r["COMMENT_OBS"], r["POP_GROUP_LB"])
                        for r in frame.fillna("").to_dict("records"))
        ours = sorted((r.key["REF_AREA"], r.time_period, r.value or "", r.obs_attributes.get("COMMENT_OBS", ""),
                       r.series_attributes["POP_GROUP_LB"]) for r in read(MESSAGES / name)[1])
        assert theirs == ours, name


SDG_ROWS = [  # (REF_AREA, TIME_PERIOD, OBS_VALUE, OBS_STATUS, COMMENT_OBS)
    ("524", "2021", "45.5", "A", "Dalit women & girls; दलित महिला"),
    ("524", "2022", "NaN", "M", ""),
    ("50", "2023", "12.5", "E", "পথবাসী, Sylhet"),
]
TRICKY = "Côte d'Ivoire, \"quoted\" & <tagged>"


def _sdg_expected(records: list[ObservationRecord]) -> list[tuple]:
    # pysdmx's XML writers spell NaN "nan"; the readers keep whatever text the file has.
    return sorted((r.key["REF_AREA"], r.time_period, "NaN" if r.value == "nan" else r.value,
                   r.obs_attributes.get("OBS_STATUS"), r.obs_attributes.get("COMMENT_OBS", ""),
                   r.series_attributes.get("UNIT_MEASURE")) for r in records)


def _sdg_key(area: str) -> dict[str, str]:
    return {**dict.fromkeys(SDG_DIMS, "_T"), "FREQ": "A", "REPORTING_TYPE": "N", "SERIES": "SI_POV_DAY1",
            "REF_AREA": area}


def test_pysdmx_written_messages_read_back(sdg: DataStructure) -> None:
    pytest.importorskip("pyarrow")
    import pandas as pd
    from pysdmx.io import read_sdmx, write_sdmx
    from pysdmx.io.format import Format
    from pysdmx.io.pd import PandasDataset

    schema = read_sdmx(SDG_DSD_FILE).get_data_structure_definitions()[0].to_schema()

    def frame(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
        return pd.DataFrame([{**_sdg_key(a), "TIME_PERIOD": t, "OBS_VALUE": v, "OBS_STATUS": s, "UNIT_MULT": "0",
                              "UNIT_MEASURE": "PT", "COMMENT_OBS": c} for a, t, v, s, c in rows])

    expected = sorted((a, t, v, s, c, "PT") for a, t, v, s, c in SDG_ROWS)
    # pysdmx's XML writers break attribute values with quotes/apostrophes (see BRIEF): CSV gets the tricky text.
    tricky_rows = [*SDG_ROWS[:2], (*SDG_ROWS[2][:4], TRICKY)]
    tricky = sorted((a, t, v, s, c, "PT") for a, t, v, s, c in tricky_rows)
    for fmt, rows, want, name in [
        (Format.DATA_SDMX_CSV_1_0_0, tricky_rows, tricky, "SDMX-CSV 1.0"),
        (Format.DATA_SDMX_CSV_2_0_0, tricky_rows, tricky, "SDMX-CSV 2.0"),
        (Format.DATA_SDMX_CSV_2_1_0, tricky_rows, tricky, "SDMX-CSV 2.0"),
        (Format.DATA_SDMX_ML_2_1_STR, SDG_ROWS, expected, "SDMX-ML 2.1 StructureSpecificData"),
        (Format.DATA_SDMX_ML_2_1_GEN, SDG_ROWS, expected, "SDMX-ML 2.1 GenericData"),
        (Format.DATA_SDMX_ML_3_0, SDG_ROWS, expected, "SDMX-ML 3.0 StructureSpecificData"),
    ]:
        text = write_sdmx([PandasDataset(structure=schema, data=frame(rows))], fmt)
        message, records = read(text.encode(), sdg)
        assert message.format == name
        assert message.structure_id and "IAEG-SDGs:SDG(1.14)" in message.structure_id
        assert _sdg_expected(records) == want, fmt


def test_sdmx1_written_messages_read_back(sdg: DataStructure) -> None:
    dsd = sdmx.read_sdmx(SDG_DSD_FILE).structure["SDG"]

    def value(aid: str, text: str) -> v21.AttributeValue:
        return v21.AttributeValue(value=text, value_for=dsd.attributes.get(aid))

    observations = []
    for area, period, obs_value, status, comment in [*SDG_ROWS[:2], (*SDG_ROWS[2][:4], TRICKY)]:
        attrs = {"OBS_STATUS": value("OBS_STATUS", status), "UNIT_MULT": value("UNIT_MULT", "0"),
                 "UNIT_MEASURE": value("UNIT_MEASURE", "PT")}
        if comment:
            attrs["COMMENT_OBS"] = value("COMMENT_OBS", comment)
        key = dsd.make_key(v21.Key, {**_sdg_key(area), "TIME_PERIOD": period})
        observations.append(v21.Observation(dimension=key, value=obs_value, attached_attribute=attrs,
                                            value_for=dsd.measures.get("OBS_VALUE")))
    want = sorted([(a, t, v, s, c, "PT") for a, t, v, s, c in SDG_ROWS[:2]]
                  + [("50", "2023", "12.5", "E", TRICKY, "PT")])
    for cls, name in ((v21.StructureSpecificDataSet, "StructureSpecificData"), (v21.GenericDataSet, "GenericData")):
        # sdmx1 writes generic data under a StructureSpecificData root (see BRIEF): read by content.
        xml = sdmx.to_xml(sdmx.message.DataMessage(data=[cls(structured_by=dsd, obs=observations)]))
        message, records = read(xml, sdg)
        assert message.format == f"SDMX-ML 2.1 {name}"
        assert _sdg_expected(records) == want, cls.__name__
