"""Streaming SDMX-CSV 1.0/2.0 and SDMX-JSON 1.0/2.0 data writers.

Realistic series for the global SDG DSD and the partnership DSD (several frequencies, missing values,
attributes at data set, series and observation level, text with apostrophes, ampersands, quotes, a line
break and Devanagari) go through every writer and come back, value for value, through our own readers,
sdmx1 (SDMX-CSV 2.0; SDMX-JSON 1.0 in the only layout it reads), pysdmx (SDMX-CSV 1.0 and 2.0; pysdmx has
no SDMX-JSON data reader) and the official SDMX-JSON schemas. A small hand-built DSD pins down exact rows
for labels, timeFormat and detail options.
"""

from __future__ import annotations

import io
import json
import math
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pysdmx.io
import pytest
import sdmx
from pysdmx.errors import NotImplemented as PysdmxNotImplemented

from codelists.loader import HERE as CODELISTS
from codelists.loader import bundled_artefacts
from exchange.formats import data_csv, data_json
from exchange.formats.data_message import DataSetInfo, SeriesBlock, WriteOptions
from exchange.formats.data_readers import read_data_message
from exchange.structures.model import Component, Dataflow, DataStructure, Ref, Representation
from exchange.structures.registry import Registry
from tests.conformance import validate_sdmx_json

TRICKY = 'Côte d\'Ivoire & <Ålesund> "q", semi;colon\nnewline नेपाल'
SDG_FLOW = Ref("dataflow", "IAEG-SDGs", "DF_SDG_GLC", "1.22")
LNOB_FLOW = Ref("dataflow", "LNOB", "DF_LNOB", "1.0")
PREPARED = datetime(2025, 7, 1, 9, 30, tzinfo=timezone(timedelta(hours=5, minutes=45)))
"""Kathmandu time: the offset must survive into ``prepared``."""

Writer = Callable[[DataSetInfo, Iterable[SeriesBlock], WriteOptions], Iterator[bytes]]
WRITERS: dict[str, Writer] = {
    "csv10": data_csv.write_csv_10,
    "csv20": data_csv.write_csv_20,
    "json10": data_json.write_json_10,
    "json20": data_json.write_json_20,
}
JSON_VERSION = {"json10": "1.0", "json20": "2.0"}


def _attrs(**values: str) -> str:
    return json.dumps(values, ensure_ascii=False, sort_keys=True)


def _key(dsd: DataStructure, **codes: str) -> tuple[str, ...]:
    """A series key: the given codes, ``_T`` for every other dimension."""
    return tuple(codes.get(d.id, "_T") for d in dsd.dimensions)


def sdg_blocks(dsd: DataStructure) -> list[SeriesBlock]:
    """Country data in the global SDG DSD: annual, quarterly and monthly series."""
    ok = _attrs(OBS_STATUS="A", UNIT_MULT="0", NATURE="C")
    return [
        SeriesBlock(
            _key(dsd, FREQ="A", REPORTING_TYPE="N", SERIES="SI_POV_DAY1", REF_AREA="384", SEX="F"),
            _attrs(UNIT_MEASURE="PT", COMMENT_TS=TRICKY),
            [
                (("2015",), 12.5, _attrs(OBS_STATUS="A", UNIT_MULT="0", NATURE="C", COMMENT_OBS=TRICKY)),
                (("2016",), None, _attrs(OBS_STATUS="O", UNIT_MULT="0")),
                (("2017",), math.nan, None),
                (("2018",), 1e-05, ok),
            ],
        ),
        SeriesBlock(
            _key(dsd, FREQ="Q", REPORTING_TYPE="N", SERIES="SH_STA_STNT", REF_AREA="524", AGE="Y0T4"),
            _attrs(UNIT_MEASURE="PT"),
            [
                (("2020-Q1",), 30.0, _attrs(OBS_STATUS="E", UNIT_MULT="0", NATURE="E", UPPER_BOUND="33.1")),
                (("2020-Q2",), 31.25, ok),
                (("2020-Q3",), 1234567.5, ok),
            ],
        ),
        SeriesBlock(
            _key(dsd, FREQ="M", REPORTING_TYPE="N", SERIES="VC_VOV_PHYL", REF_AREA="404", SEX="M"),
            _attrs(UNIT_MEASURE="NUMBER", GEO_INFO_TYPE="GeoJSON_1_1", CUST_BREAKDOWN_LB="Dalit women (दलित महिला)"),
            [
                (
                    ("2021-01",),
                    -4.0,
                    _attrs(OBS_STATUS="A", UNIT_MULT="3", SOURCE_DETAIL='Women\'s Forum & "scorecard"'),
                ),
                (("2021-02",), 0.0, ok),
            ],
        ),
    ]


def lnob_blocks(dsd: DataStructure) -> list[SeriesBlock]:
    """Citizen-generated data in the partnership DSD: Nepal, Kenya and India, three frequencies."""

    def cg(**extra: str) -> str:
        return _attrs(OBS_STATUS="A", UNIT_MULT="0", NATURE="CG", CONF_STATUS="F", **extra)

    return [
        SeriesBlock(
            _key(
                dsd,
                FREQ="A",
                REPORTING_TYPE="N",
                SERIES="SP_ACS_BSRVH2O",
                REF_AREA="524",
                SEX="F",
                POP_GROUP="NP_DALIT",
                SUBNATIONAL="NP-P2",
            ),
            _attrs(UNIT_MEASURE="PT", COMMENT_TS="स्थानीय स्कोरकार्ड (community scorecard), ward 5"),
            [
                (
                    ("2022",),
                    41.7,
                    cg(
                        SAMPLE_SIZE="312",
                        SAMPLE_SIZE_BAND="B100_499",
                        COMMENT_OBS=TRICKY,
                        PROV_REF="urn:lnob:release:np-2023-01",
                    ),
                ),
                (("2023",), 45.0, cg(SAMPLE_SIZE="298", SAMPLE_SIZE_BAND="B100_499")),
            ],
        ),
        SeriesBlock(
            _key(
                dsd,
                FREQ="Q",
                REPORTING_TYPE="N",
                SERIES="SP_ACS_BSRVH2O",
                REF_AREA="404",
                POP_GROUP="KE_SLUM",
                SUBNATIONAL="KE-30",
            ),
            _attrs(UNIT_MEASURE="PT"),
            [
                (("2023-Q4",), None, _attrs(OBS_STATUS="Q", UNIT_MULT="0", CONF_STATUS="A", SAMPLE_SIZE_BAND="LT10")),
                (("2024-Q1",), 63.2, cg(SAMPLE_SIZE="57", SAMPLE_SIZE_BAND="B50_99")),
            ],
        ),
        SeriesBlock(
            _key(dsd, FREQ="M", REPORTING_TYPE="N", SERIES="VC_VOV_PHYL", REF_AREA="356", POP_GROUP="IN_TG"),
            None,
            [(("2024-03",), 12.0, cg(SOURCE_DETAIL="Mobile survey in 10 hotspots (हॉटस्पॉट)"))],
        ),
    ]


# --- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(bundled_artefacts())


@pytest.fixture(scope="module")
def cases(registry: Registry) -> dict[str, tuple[Dataflow, DataStructure, list[SeriesBlock], dict[str, str]]]:
    """name → (dataflow, DSD, series, data set attributes)."""
    sdg_flow = registry.dataflow(SDG_FLOW)
    sdg = registry.structure_of(sdg_flow)
    lnob_flow = registry.dataflow(LNOB_FLOW)
    lnob = registry.structure_of(lnob_flow)
    # A variant where DATA_LAST_UPDATE is a true data set attribute (neither real DSD has one).
    lnob_ds = msgspec.structs.replace(
        lnob,
        components=[
            msgspec.structs.replace(c, attachment="dataset") if c.id == "DATA_LAST_UPDATE" else c
            for c in lnob.components
        ],
    )
    release = {"DATA_LAST_UPDATE": "2025-06-30T12:00:00"}
    return {
        "sdg": (sdg_flow, sdg, sdg_blocks(sdg), release),
        "lnob": (lnob_flow, lnob, lnob_blocks(lnob), {}),
        "lnob-dataset-attribute": (lnob_flow, lnob_ds, lnob_blocks(lnob_ds), release),
    }


@pytest.fixture(scope="module")
def sdmx1_sdg_dsd() -> Any:
    return sdmx.read_sdmx(CODELISTS / "sdg" / "IAEG-SDGs_SDG_1.14_dsd_with_children.xml").structure["SDG"]


def label_function(registry: Registry, dsd: DataStructure, language: str) -> Callable[[str, str], str]:
    """``label(component, code)`` from the registry's codelists and concepts (the engine's job in the service)."""
    components = {c.id: c for c in dsd.components}

    def text(names: dict[str, str]) -> str:
        return names.get(language) or names.get("en", "")

    def label(component_id: str, code: str) -> str:
        component = components[component_id]
        if not code:
            concept = registry.concept(component.concept)
            return text(concept.name) if concept else ""
        if component.representation and component.representation.enumeration:
            item = registry.codelist(component.representation.enumeration).item(code)
            return text(item.name) if item else ""
        return ""

    return label


# --- shapes and expectations ---------------------------------------------------------------------------


def all_dims(dsd: DataStructure) -> list[str]:
    return [d.id for d in dsd.dimensions] + ["TIME_PERIOD"]


def shaped(
    flow: Dataflow, dsd: DataStructure, blocks: list[SeriesBlock], dataset: dict[str, str], at: str
) -> tuple[DataSetInfo, list[SeriesBlock]]:
    """The data as the query engine hands them over for ``dimensionAtObservation=at``.

    ``AllDimensions`` lists TIME_PERIOD first (not in DSD order) and keeps series attributes on key-less
    blocks; a cross-section moves the series attributes into each observation's attributes.
    """
    series_dims = tuple(d.id for d in dsd.dimensions)
    base = dict(prepared=PREPARED, dataset_attributes=dataset, provider=("LNOB", "NP_NNDSWO"))
    if at == "TIME_PERIOD":
        return DataSetInfo(flow, dsd, series_dims, **base), blocks  # type: ignore[arg-type]
    if at == "AllDimensions":
        order = ("TIME_PERIOD", *series_dims)
        flat = [SeriesBlock((), b.attributes, [((o[0], *b.key), v, a) for o, v, a in b.observations]) for b in blocks]
        return DataSetInfo(flow, dsd, (), order, **base), flat  # type: ignore[arg-type]
    keep = tuple(d for d in all_dims(dsd) if d != at)
    grouped: dict[tuple[str, ...], SeriesBlock] = {}
    for b in blocks:
        for (period,), value, obs_json in b.observations:
            full = dict(zip(series_dims, b.key, strict=True)) | {"TIME_PERIOD": period}
            merged = {**json.loads(b.attributes or "{}"), **json.loads(obs_json or "{}")}
            key = tuple(full[d] for d in keep)
            block = grouped.setdefault(key, SeriesBlock(key, None))
            block.observations.append(((full[at],), value, _attrs(**merged) if merged else None))
    return DataSetInfo(flow, dsd, keep, (at,), **base), list(grouped.values())  # type: ignore[arg-type]


Record = tuple[dict[str, str], str | None, float | None, dict[str, str], dict[str, str]]


def expected_records(dsd: DataStructure, blocks: list[SeriesBlock], dataset: dict[str, str]) -> list[Record]:
    """(key, period, value, observation attributes, series attributes) as a reader routes them by DSD."""
    attachment = {a.id: a.attachment for a in dsd.attributes}
    dims = [d.id for d in dsd.dimensions]
    records: list[Record] = []
    for b in blocks:
        for (period,), value, obs in b.observations:
            merged = {**dataset, **json.loads(b.attributes or "{}"), **json.loads(obs or "{}")}
            number = None if value is None or math.isnan(value) else value
            records.append(
                (
                    dict(zip(dims, b.key, strict=True)),
                    period,
                    number,
                    {k: v for k, v in merged.items() if attachment[k] == "observation"},
                    {k: v for k, v in merged.items() if attachment[k] not in ("observation", "dataset")},
                )
            )
    return records


def write(fmt: str, info: DataSetInfo, blocks: Iterable[SeriesBlock], **options: Any) -> bytes:
    data = b"".join(WRITERS[fmt](info, blocks, WriteOptions(**options)))
    if fmt in JSON_VERSION:
        validate_sdmx_json(data, "data", JSON_VERSION[fmt])  # type: ignore[arg-type]
    return data


# --- read-back by our own readers ----------------------------------------------------------------------


@pytest.mark.parametrize("at", ["TIME_PERIOD", "REF_AREA", "AllDimensions"])
@pytest.mark.parametrize("case", ["sdg", "lnob", "lnob-dataset-attribute"])
@pytest.mark.parametrize("fmt", list(WRITERS))
def test_our_readers_read_back_exactly(cases: dict, fmt: str, case: str, at: str) -> None:
    flow, dsd, blocks, dataset = cases[case]
    info, shaped_blocks = shaped(flow, dsd, blocks, dataset, at)
    message = read_data_message(io.BytesIO(write(fmt, info, shaped_blocks)), dsd)
    got = [
        (r.key, r.time_period, None if r.value is None else float(r.value), r.obs_attributes, r.series_attributes)
        for r in message.observations
    ]
    want = expected_records(dsd, blocks, dataset)
    assert sorted(got, key=repr) == sorted(want, key=repr)
    assert message.structure_id == flow.urn
    assert message.action == ("Information" if fmt != "csv10" else None)
    dataset_level = {k: v for k, v in dataset.items() if dsd.component(k).attachment == "dataset"}  # type: ignore[union-attr]
    assert message.dataset_attributes == dataset_level


@pytest.mark.parametrize(("fmt", "labels"), [("csv10", "both"), ("csv20", "both"), ("csv20", "name")])
def test_our_csv_reader_reads_labelled_messages(cases: dict, registry: Registry, fmt: str, labels: str) -> None:
    flow, dsd, blocks, dataset = cases["lnob"]
    info, _ = shaped(flow, dsd, blocks, dataset, "TIME_PERIOD")
    data = write(fmt, info, blocks, labels=labels, label=label_function(registry, dsd, "ne"), language="ne")
    assert "दलित" in data.decode()  # the Nepali name of NP_DALIT
    got = [(r.key, r.time_period, r.obs_attributes) for r in read_data_message(io.BytesIO(data), dsd).observations]
    assert got == [(k, t, o) for k, t, _, o, _ in expected_records(dsd, blocks, dataset)]


# --- read-back by sdmx1 and pysdmx ------------------------------------------------------------------------


def test_sdmx1_reads_sdmx_csv_20(cases: dict, sdmx1_sdg_dsd: Any) -> None:
    flow, dsd, blocks, dataset = cases["sdg"]
    info, _ = shaped(flow, dsd, blocks, dataset, "TIME_PERIOD")
    message = sdmx.read_sdmx(io.BytesIO(write("csv20", info, blocks)), structure=sdmx1_sdg_dsd, format="CSV")
    assert len(message.data) == 1
    got = [
        (
            {k: v.value for k, v in o.key.values.items()},
            None if o.value == "" else float(o.value),
            {k: str(v.value) for k, v in o.attached_attribute.items() if v.value},
        )
        for o in message.data[0].obs
    ]
    want = []
    for key, period, value, obs, series in expected_records(dsd, blocks, dataset):
        attributes = {k: v.replace("\n", "") for k, v in {**obs, **series}.items()}
        want.append((key | {"TIME_PERIOD": period}, value, attributes))
    # sdmx1 2.28 splits the message into lines before parsing the CSV: a line break inside a quoted value
    # is lost ("semi;colon\nnewline" comes back as "semi;colonnewline"); everything else is exact.
    assert got == want


@pytest.mark.parametrize("case", ["sdg", "lnob"])
@pytest.mark.parametrize(("fmt", "labels"), [("csv10", "id"), ("csv10", "both"), ("csv20", "id"), ("csv20", "name")])
def test_pysdmx_reads_sdmx_csv(cases: dict, registry: Registry, case: str, fmt: str, labels: str) -> None:
    flow, dsd, blocks, dataset = cases[case]
    info, _ = shaped(flow, dsd, blocks, dataset, "TIME_PERIOD")
    data = write(fmt, info, blocks, labels=labels, label=label_function(registry, dsd, "en"))
    message = pysdmx.io.read_sdmx(data.decode())
    (read,) = message.data
    assert read.structure == f"Dataflow={flow.agency}:{flow.id}({flow.version})"
    frame = read.data
    want = expected_records(dsd, blocks, dataset)
    assert len(frame) == len(want)
    for (_, row), (key, period, value, obs, series) in zip(frame.iterrows(), want, strict=True):
        assert {k: row[k] for k in key} == key
        assert row["TIME_PERIOD"] == period
        assert (None if row["OBS_VALUE"] in ("", "nan") else float(row["OBS_VALUE"])) == value
        attributes = {a.id: row[a.id] for a in dsd.attributes if row[a.id] != ""}
        assert attributes == {**obs, **series}


def test_sdmx1_reads_sdmx_json_10_content(cases: dict) -> None:
    """sdmx1 2.28 reads only the pre-standard layout (``header``/``structure``/``dataSets`` at the top), not
    SDMX-JSON 1.0's ``meta``/``data``; it drops attributes without values, which shifts the indexes of
    the ones after them, and gives every series the data set's attribute array. So it reads our structure
    and data sets re-nested, for attributes that all have values: keys, periods, values and observation
    attributes come back exactly."""
    flow, dsd, blocks, _ = cases["sdg"]
    info, _ = shaped(flow, dsd, blocks, {}, "TIME_PERIOD")
    used = ("OBS_STATUS", "UNIT_MULT", "NATURE", "UNIT_MEASURE")
    doc = json.loads(write("json10", info, blocks, attributes=used))
    with pytest.raises(KeyError):
        sdmx.read_sdmx(io.BytesIO(json.dumps(doc).encode()), format="JSON")
    draft = {"header": doc["meta"], "structure": doc["data"]["structure"], "dataSets": doc["data"]["dataSets"]}
    message = sdmx.read_sdmx(io.BytesIO(json.dumps(draft).encode()), format="JSON")
    got = [
        (
            {k: v.value for k, v in o.key.values.items()},
            o.value,
            {k: v.value.id for k, v in o.attached_attribute.items()},
        )
        for o in message.data[0].obs
    ]
    want = [
        (key | {"TIME_PERIOD": period}, value, {k: v for k, v in obs.items() if k in used})
        for key, period, value, obs, _ in expected_records(dsd, blocks, {})
    ]
    assert got == want


def test_pysdmx_has_no_sdmx_json_data_reader(cases: dict) -> None:
    """pysdmx 1.20 reads SDMX-JSON structure and metadata messages only. When this fails, pysdmx has learnt
    to read SDMX-JSON data: replace this test by a read-back test."""
    flow, dsd, blocks, dataset = cases["sdg"]
    info, _ = shaped(flow, dsd, blocks, dataset, "TIME_PERIOD")
    with pytest.raises(PysdmxNotImplemented, match="not supported"):
        pysdmx.io.read_sdmx(write("json20", info, blocks).decode())


# --- SDMX-JSON: schemas and content ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json10", "json20"])
@pytest.mark.parametrize("at", ["TIME_PERIOD", "REF_AREA", "AllDimensions"])
@pytest.mark.parametrize(
    "options",
    [
        {"detail": "dataonly"},
        {"detail": "serieskeysonly"},
        {"detail": "nodata"},
        {"measures": False},
        {"attributes": ("OBS_STATUS", "COMMENT_TS")},
        {"labels": "both"},
    ],
    ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()),
)
def test_json_options_are_schema_valid(cases: dict, registry: Registry, fmt: str, at: str, options: dict) -> None:
    flow, dsd, blocks, dataset = cases["lnob-dataset-attribute"]
    info, shaped_blocks = shaped(flow, dsd, blocks, dataset, at)
    if options.get("labels"):
        options = options | {"label": label_function(registry, dsd, "en")}
    doc = json.loads(write(fmt, info, shaped_blocks, **options))
    data = doc["data"]
    structure = data["structures"][0] if fmt == "json20" else data["structure"]
    (dataset_doc,) = data["dataSets"]
    container = dataset_doc.get("series") if at != "AllDimensions" else dataset_doc.get("observations")
    detail = options.get("detail", "full")
    attributes = [a["id"] for level in structure["attributes"].values() for a in level]
    if detail in ("dataonly", "serieskeysonly"):
        assert attributes == []
    if detail in ("serieskeysonly", "nodata"):
        assert not structure["dimensions"]["observation"]
        assert all("observations" not in s for s in (container or {}).values() if isinstance(s, dict))
    if options.get("attributes"):
        # A series attribute goes to observation level when an observation dimension is among its dimensions.
        levels = {level: [a["id"] for a in components] for level, components in structure["attributes"].items()}
        if at == "TIME_PERIOD":
            assert (levels["series"], levels["observation"]) == (["COMMENT_TS"], ["OBS_STATUS"])
        else:
            assert levels["observation"] == ["OBS_STATUS", "COMMENT_TS"]
    if options.get("measures") is False and fmt == "json20":
        assert structure["measures"] == {}
    if options.get("label"):
        sex = next(d for level in structure["dimensions"].values() for d in level if d["id"] == "SEX")
        assert sex["name"] == "Sex"
        assert {"id": "F", "name": "Female", "names": {"en": "Female"}} in sex["values"]


@pytest.mark.parametrize("fmt", ["json10", "json20"])
def test_json_header_structure_and_data_set(cases: dict, registry: Registry, fmt: str) -> None:
    flow, dsd, blocks, dataset = cases["lnob-dataset-attribute"]
    info, _ = shaped(flow, dsd, blocks, dataset, "TIME_PERIOD")
    doc = json.loads(write(fmt, info, blocks, label=label_function(registry, dsd, "en")))
    assert doc["meta"]["prepared"] == "2025-07-01T09:30:00+05:45"
    assert doc["meta"]["schema"] == (data_json.SCHEMA_20 if fmt == "json20" else data_json.SCHEMA_10)
    data = doc["data"]
    structure = data["structures"][0] if fmt == "json20" else data["structure"]
    assert {"rel": "dataflow", "urn": flow.urn} in structure["links"]
    assert structure["names"] == flow.name
    (ds,) = data["dataSets"]
    assert ds["action"] == "Information"
    assert ds["links"] == [{"rel": "dataflow", "urn": flow.urn}]
    attributes = structure["attributes"]
    (last_update,) = attributes["dataSet"]
    assert last_update["values"] == [
        {"value": "2025-06-30T12:00:00"} if fmt == "json20" else {"name": "2025-06-30T12:00:00"}
    ]
    assert last_update["relationship"] == ({"dataflow": {}} if fmt == "json20" else {"none": {}})
    assert ds["attributes"] == [0]
    status = next(a for a in attributes["observation"] if a["id"] == "OBS_STATUS")
    assert status["relationship"] == ({"observation": {}} if fmt == "json20" else {"primaryMeasure": "OBS_VALUE"})
    assert {"id": "Q", "name": "Missing value; suppressed", "names": {"en": "Missing value; suppressed"}} in status[
        "values"
    ]
    time = structure["dimensions"]["observation"][0]
    assert time["keyPosition"] == len(dsd.dimensions)
    assert {"id": "2023-Q4", "name": "2023-Q4", "start": "2023-10-01T00:00:00Z", "end": "2023-12-31T23:59:59Z"} in time[
        "values"
    ]
    series = structure["dimensions"]["series"]
    dalit = series[[d["id"] for d in series].index("POP_GROUP")]["values"]
    assert {"id": "NP_DALIT", "name": "Dalits (Nepal)", "names": {"en": "Dalits (Nepal)"}} in dalit
    comment = next(a for a in attributes["observation"] if a["id"] == "COMMENT_OBS")
    first = next(iter(ds["series"].values()))
    observation = next(iter(first["observations"].values()))
    if fmt == "json20":
        assert structure["measures"]["observation"][0]["id"] == "OBS_VALUE"
        assert "values" not in comment  # uncoded observation attributes are written inline in 2.0
        assert TRICKY in observation
    else:
        assert {"name": TRICKY} in comment["values"]
    assert observation[0] == 41.7


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_empty_result(cases: dict, fmt: str) -> None:
    flow, dsd, _, _ = cases["sdg"]
    info, _ = shaped(flow, dsd, [], {}, "TIME_PERIOD")
    data = write(fmt, info, [])
    if fmt.startswith("csv"):
        assert data.count(b"\r\n") == 1 and data.endswith(b"\r\n")
    else:
        assert json.loads(data)["data"]["dataSets"][0]["series"] == {}


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_first_chunk_leaves_before_any_series_is_read(fmt: str) -> None:
    """The CSV header row and the SDMX-JSON ``meta`` object are sent before the query yields a series."""
    read: list[SeriesBlock] = []

    def blocks() -> Iterator[SeriesBlock]:
        for block in SMALL_BLOCKS:
            read.append(block)
            yield block

    chunks = WRITERS[fmt](
        DataSetInfo(SMALL_FLOW, SMALL, ("FREQ", "REF_AREA"), prepared=PREPARED), blocks(), WriteOptions()
    )
    first = next(chunks)
    assert first.startswith(
        b'{"meta":' if fmt.startswith("json") else b"DATAFLOW," if fmt == "csv10" else b"STRUCTURE,"
    )
    assert read == []
    assert b"".join([first, *chunks]).endswith(b"}}]}}" if fmt.startswith("json") else b"\r\n")
    assert read == SMALL_BLOCKS


@pytest.mark.parametrize("fmt", ["json10", "json20"])
def test_json_data_set_validity_and_action(cases: dict, fmt: str) -> None:
    """includeHistory data sets: action and validity period reach the data set."""
    flow, dsd, blocks, _ = cases["sdg"]
    info = DataSetInfo(
        flow,
        dsd,
        tuple(d.id for d in dsd.dimensions),
        action="Delete",
        valid_from="2025-01-01T00:00:00+00:00",
        valid_to="2025-03-31T12:00:00+05:45",
        reporting_begin="2015",
        reporting_end="2021-02",
    )
    (dataset,) = json.loads(write(fmt, info, blocks))["data"]["dataSets"]
    assert {k: dataset[k] for k in ("action", "validFrom", "validTo", "reportingBegin", "reportingEnd")} == {
        "action": "Delete",
        "validFrom": "2025-01-01T00:00:00+00:00",
        "validTo": "2025-03-31T12:00:00+05:45",
        "reportingBegin": "2015",
        "reportingEnd": "2021-02",
    }


def test_naive_prepared_time_is_utc(cases: dict) -> None:
    flow, dsd, blocks, _ = cases["sdg"]
    info = DataSetInfo(flow, dsd, tuple(d.id for d in dsd.dimensions), prepared=datetime(2025, 1, 2, 3, 4, 5))
    assert json.loads(write("json20", info, blocks))["meta"]["prepared"] == "2025-01-02T03:04:05+00:00"


# --- SDMX-CSV: exact rows for labels, timeFormat and detail ------------------------------------------------


def _component(cid: str, role: str, codelist: str | None = None, **kw: Any) -> Component:
    rep = Representation(enumeration=Ref("codelist", "LNOB", codelist, "1.0")) if codelist else None
    return Component(cid, role, Ref("conceptscheme", "LNOB", "CS_TEST", "1.0", item=cid), rep, **kw)  # type: ignore[arg-type]


SMALL = DataStructure(
    agency="LNOB",
    id="DSD_SMALL",
    version="1.0",
    components=[
        _component("FREQ", "dimension", "CL_FREQ", position=1),
        _component("REF_AREA", "dimension", "CL_AREA", position=2),
        _component("TIME_PERIOD", "time_dimension", position=3),
        _component("UNIT_MEASURE", "attribute", "CL_UNIT", usage="mandatory", attachment="series"),
        _component("OBS_STATUS", "attribute", "CL_OBS_STATUS", usage="mandatory", attachment="observation"),
        _component("COMMENT_OBS", "attribute", usage="conditional", attachment="observation"),
        _component("OBS_VALUE", "measure"),
    ],
)
SMALL_FLOW = Dataflow(agency="LNOB", id="DF_SMALL", version="1.0", name={"en": "Small, test flow"}, structure=SMALL.ref)
SMALL_NAMES = {
    ("FREQ", ""): "Frequency",
    ("FREQ", "A"): "Annual",
    ("FREQ", "Q"): "Quarterly",
    ("REF_AREA", ""): "Reference area",
    ("REF_AREA", "384"): "Côte d'Ivoire",
    ("REF_AREA", "524"): "नेपाल",
    ("TIME_PERIOD", ""): "Time period",
    ("OBS_VALUE", ""): "Observation value",
    ("UNIT_MEASURE", ""): "Unit of measure",
    ("UNIT_MEASURE", "KG_OE"): "kg oil equivalent per USD1,000",
    ("OBS_STATUS", ""): "Observation status",
    ("OBS_STATUS", "A"): "Normal value",
    ("COMMENT_OBS", ""): "Comment",
}
SMALL_BLOCKS = [
    SeriesBlock(
        ("A", "384"), _attrs(UNIT_MEASURE="KG_OE"), [(("2014",), 12.4, _attrs(OBS_STATUS="A", COMMENT_OBS="x, y"))]
    ),
    SeriesBlock(
        ("Q", "524"),
        _attrs(UNIT_MEASURE="PT"),
        [(("2014-Q2",), 10.8, _attrs(OBS_STATUS="A")), (("2014-Q3",), None, _attrs(OBS_STATUS="O"))],
    ),
]


def small_csv(fmt: str, blocks: list[SeriesBlock] = SMALL_BLOCKS, **options: Any) -> list[str]:
    info = DataSetInfo(SMALL_FLOW, SMALL, ("FREQ", "REF_AREA"), prepared=PREPARED)
    options.setdefault("label", lambda c, code: SMALL_NAMES.get((c, code), ""))
    data = b"".join(WRITERS[fmt](info, blocks, WriteOptions(**options))).decode()
    assert data.endswith("\r\n")
    return data.split("\r\n")[:-1]


def test_csv_10_labels_both() -> None:
    assert small_csv("csv10", labels="both") == [
        "DATAFLOW,FREQ: Frequency,REF_AREA: Reference area,TIME_PERIOD: Time period,OBS_VALUE,"
        "UNIT_MEASURE: Unit of measure,OBS_STATUS: Observation status,COMMENT_OBS: Comment",
        '"LNOB:DF_SMALL(1.0): Small, test flow",A: Annual,384: Côte d\'Ivoire,2014,12.4,'
        '"KG_OE: kg oil equivalent per USD1,000",A: Normal value,"x, y"',
        '"LNOB:DF_SMALL(1.0): Small, test flow",Q: Quarterly,524: नेपाल,2014-Q2,10.8,PT,A: Normal value,',
        '"LNOB:DF_SMALL(1.0): Small, test flow",Q: Quarterly,524: नेपाल,2014-Q3,,PT,O,',
    ]


def test_csv_20_labels_both_time_normalized() -> None:
    flow = '"LNOB:DF_SMALL(1.0): Small, test flow"'
    assert small_csv("csv20", labels="both", time_format="normalized") == [
        "STRUCTURE,STRUCTURE_ID,ACTION,FREQ: Frequency,REF_AREA: Reference area,TIME_PERIOD: Time period,"
        "OBS_VALUE: Observation value,UNIT_MEASURE: Unit of measure,OBS_STATUS: Observation status,"
        "COMMENT_OBS: Comment",
        f'dataflow,{flow},I,A: Annual,384: Côte d\'Ivoire,2014-01-01,12.4,"KG_OE: kg oil equivalent per USD1,000",'
        'A: Normal value,"x, y"',
        f"dataflow,{flow},I,Q: Quarterly,524: नेपाल,2014-04-01,10.8,PT,A: Normal value,",
        f"dataflow,{flow},I,Q: Quarterly,524: नेपाल,2014-07-01,,PT,O,",
    ]


def test_csv_20_labels_name() -> None:
    assert small_csv("csv20", labels="name") == [
        "STRUCTURE,STRUCTURE_ID,STRUCTURE_NAME,ACTION,FREQ,Frequency,REF_AREA,Reference area,TIME_PERIOD,"
        "Time period,OBS_VALUE,Observation value,UNIT_MEASURE,Unit of measure,OBS_STATUS,Observation status,"
        "COMMENT_OBS,Comment",
        'dataflow,LNOB:DF_SMALL(1.0),"Small, test flow",I,A,Annual,384,Côte d\'Ivoire,2014,,12.4,,KG_OE,'
        '"kg oil equivalent per USD1,000",A,Normal value,"x, y",',
        'dataflow,LNOB:DF_SMALL(1.0),"Small, test flow",I,Q,Quarterly,524,नेपाल,2014-Q2,,10.8,,PT,,A,Normal value,,',
        'dataflow,LNOB:DF_SMALL(1.0),"Small, test flow",I,Q,Quarterly,524,नेपाल,2014-Q3,,,,PT,,O,,,',
    ]


def test_csv_10_has_no_labels_name() -> None:
    with pytest.raises(ValueError, match="labels=name"):
        data_csv.write_csv_10(DataSetInfo(SMALL_FLOW, SMALL, ("FREQ", "REF_AREA")), [], WriteOptions(labels="name"))


@pytest.mark.parametrize(
    ("period", "normalized"),
    [
        ("2014", "2014-01-01"),
        ("2014-S2", "2014-07-01"),
        ("2014-Q3", "2014-07-01"),
        ("2014-07", "2014-07-01"),
        ("2014-M07", "2014-07-01"),
        ("2020-W01", "2019-12-30"),
        ("2014-07-15", "2014-07-15"),
        ("2014-D100", "2014-04-10"),
        ("2014-07-15T10:30:00+02:00", "2014-07-15T10:30:00+02:00"),
        ("2014-01-01/P6M", "2014-01-01"),
    ],
)
def test_csv_time_normalized(period: str, normalized: str) -> None:
    blocks = [SeriesBlock(("A", "384"), None, [((period,), 1.0, None)])]
    assert small_csv("csv20", blocks, time_format="normalized")[1].split(",")[5] == normalized


@pytest.mark.parametrize(
    ("fmt", "options", "rows"),
    [
        (
            "csv20",
            {"detail": "dataonly"},
            [
                "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,TIME_PERIOD,OBS_VALUE",
                "dataflow,LNOB:DF_SMALL(1.0),I,A,384,2014,12.4",
            ],
        ),
        (
            "csv20",
            {"detail": "serieskeysonly"},
            [
                "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,TIME_PERIOD",
                "dataflow,LNOB:DF_SMALL(1.0),I,A,384,",
                "dataflow,LNOB:DF_SMALL(1.0),I,Q,524,",
            ],
        ),
        (
            "csv20",
            {"detail": "nodata"},
            [
                "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,TIME_PERIOD,UNIT_MEASURE",
                "dataflow,LNOB:DF_SMALL(1.0),I,A,384,,KG_OE",
                "dataflow,LNOB:DF_SMALL(1.0),I,Q,524,,PT",
            ],
        ),
        (
            "csv10",
            {"detail": "nodata"},
            [
                "DATAFLOW,FREQ,REF_AREA,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE",
                "LNOB:DF_SMALL(1.0),A,384,,,KG_OE",
                "LNOB:DF_SMALL(1.0),Q,524,,,PT",
            ],
        ),
        (
            "csv20",
            {"measures": False, "attributes": ("OBS_STATUS",)},
            [
                "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,TIME_PERIOD,OBS_STATUS",
                "dataflow,LNOB:DF_SMALL(1.0),I,A,384,2014,A",
            ],
        ),
        (
            "csv10",
            {"measures": False, "attributes": ("OBS_STATUS",)},
            [
                "DATAFLOW,FREQ,REF_AREA,TIME_PERIOD,OBS_VALUE,OBS_STATUS",
                "LNOB:DF_SMALL(1.0),A,384,2014,,A",
            ],
        ),
        (
            "csv20",
            {"labels": "name", "detail": "nodata"},
            [
                "STRUCTURE,STRUCTURE_ID,STRUCTURE_NAME,ACTION,FREQ,Frequency,REF_AREA,Reference area,TIME_PERIOD,"
                "Time period,UNIT_MEASURE,Unit of measure",
                'dataflow,LNOB:DF_SMALL(1.0),"Small, test flow",I,A,Annual,384,Côte d\'Ivoire,,,KG_OE,'
                '"kg oil equivalent per USD1,000"',
                'dataflow,LNOB:DF_SMALL(1.0),"Small, test flow",I,Q,Quarterly,524,नेपाल,,,PT,',
            ],
        ),
    ],
)
def test_csv_detail_measures_and_attributes(fmt: str, options: dict, rows: list[str]) -> None:
    assert small_csv(fmt, **options)[: len(rows)] == rows


def test_csv_action_and_cross_section_columns_stay_in_dsd_order() -> None:
    info = DataSetInfo(SMALL_FLOW, SMALL, ("FREQ", "TIME_PERIOD"), ("REF_AREA",), action="Replace")
    blocks = [SeriesBlock(("A", "2014"), None, [(("384",), 1.5, None), (("524",), 2.0, None)])]
    rows = b"".join(data_csv.write_csv_20(info, blocks, WriteOptions(detail="dataonly"))).decode().split("\r\n")
    assert rows[1:3] == ["dataflow,LNOB:DF_SMALL(1.0),R,A,384,2014,1.5", "dataflow,LNOB:DF_SMALL(1.0),R,A,524,2014,2"]


# --- memory and chunking -------------------------------------------------------------------------------------


def _many_blocks(dsd: DataStructure, series: int, periods: int) -> Iterator[SeriesBlock]:
    statuses = [_attrs(OBS_STATUS=s, UNIT_MULT="0", NATURE=n) for s, n in (("A", "C"), ("E", "E"), ("A", "CA"))]
    for s in range(series):
        key = _key(
            dsd,
            FREQ="A",
            REPORTING_TYPE="N",
            SERIES="SI_POV_DAY1",
            REF_AREA=str(4 + s % 800),
            SEX="F",
            CUST_BREAKDOWN=f"C{s // 800:02d}",
        )
        yield SeriesBlock(
            key,
            _attrs(UNIT_MEASURE="PT"),
            [((str(1990 + p),), s * 0.37 + p if p % 7 else None, statuses[(s + p) % 3]) for p in range(periods)],
        )


@pytest.mark.parametrize(
    ("fmt", "flat", "spool_mb", "limit_mb"),
    [
        ("csv10", False, 0, 2),
        ("csv20", True, 0, 2),
        ("json10", False, 16, 16),
        ("json20", True, 16, 16),
        ("json10", True, 1, 4),
        ("json20", False, 1, 4),
    ],
)
def test_memory_stays_bounded(
    cases: dict, monkeypatch: pytest.MonkeyPatch, fmt: str, flat: bool, spool_mb: int, limit_mb: int
) -> None:
    """200,000 observations: CSV holds a chunk or two; JSON holds its value tables and the rendered data set,
    in memory up to the spool size and on disk beyond (a 1 MB spool here). Time series come from a
    generator; the flat table is one key-less block of all observations (as the engine pivots it), made
    before measuring."""
    flow, dsd, _, _ = cases["sdg"]
    dims = tuple(d.id for d in dsd.dimensions)
    if flat:
        info = DataSetInfo(flow, dsd, (), (*dims, "TIME_PERIOD"), prepared=datetime.now(UTC))
        rows = [((*b.key, k[0]), v, a) for b in _many_blocks(dsd, 10_000, 20) for k, v, a in b.observations]
        blocks: Iterable[SeriesBlock] = [SeriesBlock((), None, rows)]
    else:
        info = DataSetInfo(flow, dsd, dims, prepared=datetime.now(UTC))
        blocks = _many_blocks(dsd, 10_000, 20)
    monkeypatch.setattr(data_json, "SPOOL_BYTES", spool_mb * 2**20)
    tracemalloc.start()
    try:
        sizes = [len(chunk) for chunk in WRITERS[fmt](info, blocks, WriteOptions())]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    total = sum(sizes)
    assert total > 5 * 2**20
    assert peak < limit_mb * 2**20, f"peak {peak / 2**20:.1f} MB for {total / 2**20:.1f} MB of output"
    assert max(sizes) < 2 * data_csv.CHUNK_BYTES
    assert len(sizes) > total // (2 * data_csv.CHUNK_BYTES)
