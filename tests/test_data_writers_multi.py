"""Data messages holding several data sets, in all nine formats (``data_writers.write_message``).

Two answers of the query engine, on the partnership dataflow LNOB:DF_LNOB(1.0) (the test DSD of
:mod:`tests.test_data_writers_ml`, with its dataset-level attribute CONSENT_SCOPE):

- updatedAfter: a ``Replace`` data set (revised and added observations) and a ``Delete`` data set (deleted
  observations: key only, no value, no attributes);
- includeHistory over three releases, as in the REST specification's example: ``Replace`` (release 1,
  validFrom T1), ``Replace`` (release 2, validFrom T2), ``Delete`` (what release 2 deleted, validTo T2),
  ``Replace`` (release 3, validFrom T3).

Each message must be schema-valid (official XSDs with DSD-specific schemas, official JSON schemas) and read
back data set by data set with the right action, validity dates and observations: SDMX-ML by pysdmx (actions
and data) and sdmx1 (data: sdmx1 2.28 does not read the action of XML data sets), validity dates from the
XML; SDMX-CSV 2.0 by sdmx1 (one data set per action) and row by row; SDMX-JSON by our reader, one data set at
a time. Our readers refuse data sets with different actions in one message, so they read all-``Replace``
histories whole. SDMX-CSV 1.0 refuses these messages (406 in the API).
"""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import pytest
import sdmx
from lxml import etree
from pysdmx.io import read_sdmx as pysdmx_read

from exchange.formats import data_json
from exchange.formats.data_csv import UnrepresentableMessage
from exchange.formats.data_message import DataSetInfo, SeriesBlock, WriteOptions
from exchange.formats.data_readers import read_data_message
from exchange.formats.data_writers import MESSAGE_WRITERS, WRITERS, write_message
from tests.conformance import validate_sdmx_json
from tests.test_data_writers_ml import (
    CONSENT,
    LNOB_FLOW,
    MULTILINE,
    TRICKY,
    Observation,
    data_set,
    sdmx1_structure,
    structure,
    validate,
)

ML = {
    "generic21": "generic-2.1",
    "generic21ts": "generic-ts-2.1",
    "ss21": "ss-2.1",
    "ss21ts": "ss-ts-2.1",
    "ml30": "ss-3.0",
}
"""Format keys → names of the SDMX-ML formats in tests.test_data_writers_ml."""
TIME_SERIES = {"generic21ts", "ss21ts"}
GENERIC = {"generic21", "generic21ts"}
JSON_VERSION = {"json10": "1.0", "json20": "2.0"}
LAYOUTS = ("TIME_PERIOD", "REF_AREA", "AllDimensions")
ML_CASES = [(k, layout) for k in ML for layout in LAYOUTS if layout == "TIME_PERIOD" or k not in TIME_SERIES]
T1, T2, T3 = "2012-02-15T10:00:00+01:00", "2012-03-15T10:00:00+01:00", "2012-04-16T10:00:00+02:00"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


# -- the two answers ---------------------------------------------------------------------------------------


def _key(area: str, freq: str, period: str, group: str, place: str) -> dict[str, str]:
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


def _kenya(period: str) -> dict[str, str]:
    return _key("404", "M", period, "KE_PWD_REG", "KE-47")


def _nepal(period: str) -> dict[str, str]:
    return _key("524", "A", period, "NP_DALIT", "NP-P2")


CITIZEN = {"UNIT_MULT": "0", "OBS_STATUS": "A", "NATURE": "CG"}
KENYA = {"UNIT_MEASURE": "NUMBER"}
NEPAL = {"UNIT_MEASURE": "PT", "COMMENT_TS": "Community scorecards, wards 5 & 7 — दलित महिला 'hotspot' sample"}


def _deleted(key: dict[str, str]) -> Observation:
    """An observation of a Delete data set: its key only."""
    return Observation(key, None, {}, {})


@dataclass(frozen=True)
class Spec:
    """One data set of a message: its action, validity dates, dataset attributes, provider and observations."""

    action: str
    observations: list[Observation]
    valid_from: str | None = None
    valid_to: str | None = None
    provider: tuple[str, str] = ("LNOB", "NPL")

    @property
    def dataset_attributes(self) -> dict[str, str]:
        return dict([CONSENT]) if self.action != "Delete" else {}


def updated_after() -> list[Spec]:
    """updatedAfter: what changed (revised 2024-11, added 2025-01 and 2025) and what was deleted."""
    return [
        Spec(
            "Replace",
            [
                Observation(_kenya("2024-11"), 121.5, {**CITIZEN, "OBS_STATUS": "E", "COMMENT_OBS": TRICKY}, KENYA),
                Observation(_kenya("2025-01"), 0.0001, {**CITIZEN, "COMMENT_OBS": "Kenya's 'informal'"}, KENYA),
                Observation(_nepal("2025"), 47.0, {**CITIZEN, "COMMENT_OBS": MULTILINE}, NEPAL),
                Observation(_nepal("2026"), None, {**CITIZEN, "OBS_STATUS": "Q", "CONF_STATUS": "C"}, NEPAL),
            ],
        ),
        Spec("Delete", [_deleted(_kenya("2024-12")), _deleted(_nepal("2023"))]),
    ]


def include_history() -> list[Spec]:
    """includeHistory over three releases (the REST specification's example): release 1 publishes 2011-12 and
    2012-01, release 2 deletes 2011-12 and adds 2012-02, release 3 revises 2012-02 and adds 2012-03."""
    return [
        Spec(
            "Replace",
            [
                Observation(_kenya("2011-12"), 120.0, CITIZEN, KENYA),
                Observation(_kenya("2012-01"), 118.5, CITIZEN, KENYA),
                Observation(_nepal("2011"), 45.5, {**CITIZEN, "COMMENT_OBS": TRICKY}, NEPAL),
            ],
            valid_from=T1,
        ),
        Spec(
            "Replace",
            [Observation(_kenya("2012-02"), 119.0, {**CITIZEN, "OBS_STATUS": "E"}, KENYA)],
            valid_from=T2,
            provider=("LNOB", "KEN"),
        ),
        Spec("Delete", [_deleted(_kenya("2011-12"))], valid_to=T2, provider=("LNOB", "KEN")),
        Spec(
            "Replace",
            [
                Observation(_kenya("2012-02"), 119.25, CITIZEN, KENYA),
                Observation(_kenya("2012-03"), None, {**CITIZEN, "OBS_STATUS": "Q"}, KENYA),
            ],
            valid_from=T3,
            provider=("LNOB", "KEN"),
        ),
    ]


SCENARIOS = {"updatedAfter": updated_after, "includeHistory": include_history}


def datasets(specs: list[Spec], layout: str = "TIME_PERIOD") -> list[tuple[DataSetInfo, list[SeriesBlock]]]:
    """The data sets as the query engine hands them to ``write_message``."""
    return [
        data_set(
            LNOB_FLOW,
            layout,
            spec.observations,
            action=spec.action,
            valid_from=spec.valid_from,
            valid_to=spec.valid_to,
            provider=spec.provider,
            dataset_attributes=spec.dataset_attributes,
        )
        for spec in specs
    ]


def write(key: str, specs: list[Spec], layout: str = "TIME_PERIOD", **options: Any) -> bytes:
    return b"".join(write_message(key, datasets(specs, layout), WriteOptions(**options)))


# -- records -----------------------------------------------------------------------------------------------

Record = tuple[tuple[tuple[str, str], ...], float | None, tuple[tuple[str, str], ...]]
"""(sorted key with TIME_PERIOD, value, sorted observation and series attributes)."""


def _missing(value: object) -> bool:
    if value is None or (isinstance(value, str) and value in ("", "NaN", "nan")):
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def record(key: dict[str, str], value: object, attributes: dict[str, Any]) -> Record:
    number = None if _missing(value) else float(value)  # type: ignore[arg-type]
    cleaned = {k: str(v) for k, v in attributes.items() if not _missing(v)}
    return tuple(sorted(key.items())), number, tuple(sorted(cleaned.items()))


def expected(spec: Spec) -> list[Record]:
    return sorted(
        (record(o.key, o.value, {**o.series_attributes, **o.attributes}) for o in spec.observations), key=repr
    )


def _dimensions() -> set[str]:
    return {d.id for d in structure(LNOB_FLOW).dimensions} | {"TIME_PERIOD"}


def read_pysdmx(data: bytes) -> list[tuple[str, list[Record], dict[str, str]]]:
    """(action, records, dataset attributes) of each data set, as pysdmx reads them."""
    dims = _dimensions()
    found = []
    for dataset in pysdmx_read(data.decode(), validate=True).data:
        records = []
        for row in dataset.data.to_dict("records"):
            value = row.pop("OBS_VALUE", None)
            key = {k: str(v) for k, v in row.items() if k in dims}
            records.append(record(key, value, {k: v for k, v in row.items() if k not in dims}))
        attributes = {k: str(v) for k, v in dataset.attributes.items()}
        found.append((dataset.action.value, sorted(records, key=repr), attributes))
    return found


def validity(spec: Spec) -> dict[str, str]:
    """What pysdmx adds to the dataset attributes of a structure-specific data set: its validity dates (it
    lists the data set's XML attributes it does not know there; generic data sets: nothing)."""
    pairs = (("validFromDate", spec.valid_from), ("validToDate", spec.valid_to))
    return {k: v for k, v in pairs if v}


def read_sdmx1(data: bytes) -> list[tuple[Any, list[Record], dict[str, str]]]:
    """(action, records, dataset attributes) of each data set, as sdmx1 reads them."""
    found = []
    for dataset in sdmx.read_sdmx(io.BytesIO(data), structure=sdmx1_structure(LNOB_FLOW)).data:
        records = []
        for o in dataset.obs:
            key = {k: str(v.value) for k, v in o.dimension.values.items()}
            attributes = {k: v.value for k, v in o.attached_attribute.items()}
            if o.series_key is not None:
                key |= {k: str(v.value) for k, v in o.series_key.values.items()}
                attributes |= {k: v.value for k, v in o.series_key.attrib.items()}
            records.append(record(key, o.value, attributes))
        attributes = {k: str(v.value) for k, v in getattr(dataset, "attrib", {}).items()}
        found.append((dataset.action, sorted(records, key=repr), attributes))
    return found


def read_ours(data: bytes) -> tuple[str | None, list[Record], dict[str, str]]:
    """(action, records, dataset attributes) of a message, as our readers read it."""
    message = read_data_message(io.BytesIO(data), structure(LNOB_FLOW))
    records = [
        record({**r.key, "TIME_PERIOD": r.time_period or ""}, r.value, {**r.series_attributes, **r.obs_attributes})
        for r in message.observations
    ]
    return message.action, sorted(records, key=repr), message.dataset_attributes


# -- SDMX-ML -----------------------------------------------------------------------------------------------


def _data_sets(data: bytes) -> list[etree._Element]:
    return [e for e in etree.fromstring(data) if etree.QName(e).localname == "DataSet"]


def _xml_attribute(element: etree._Element, name: str) -> str | None:
    """An XML attribute of a DataSet, qualified (structure-specific) or not (generic)."""
    return next((v for k, v in element.attrib.items() if etree.QName(k).localname == name), None)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize(("key", "layout"), ML_CASES)
def test_sdmx_ml(key: str, layout: str, scenario: str) -> None:
    specs = SCENARIOS[scenario]()
    data = write(key, specs, layout)
    validate(ML[key], data, LNOB_FLOW, layout)
    root = etree.fromstring(data)
    assert len(root.findall("{*}Header")) == 1
    elements = _data_sets(data)
    assert [_xml_attribute(e, "action") for e in elements] == [s.action for s in specs]
    assert [_xml_attribute(e, "validFromDate") for e in elements] == [s.valid_from for s in specs]
    assert [_xml_attribute(e, "validToDate") for e in elements] == [s.valid_to for s in specs]
    assert [len(e.findall(".//{*}Obs")) for e in elements] == [len(s.observations) for s in specs]
    if key not in GENERIC:
        assert len({e.get(XSI_TYPE) for e in elements}) == 1
    for element, spec in zip(elements, specs, strict=True):
        if spec.action == "Delete":  # key only: no value (not even NaN), no attribute
            assert not [e for e in element.iter() if etree.QName(e).localname in ("ObsValue", "Attributes")]
            assert not [e for e in element.iter("Obs", "Series") if set(e.attrib) - _dimensions()]

    read = read_pysdmx(data)
    assert [action for action, _, _ in read] == [s.action for s in specs]
    assert [records for _, records, _ in read] == [expected(s) for s in specs]
    extra = (lambda spec: {}) if key in GENERIC else validity
    assert [attributes for _, _, attributes in read] == [s.dataset_attributes | extra(s) for s in specs]

    if key != "ml30" and layout == "TIME_PERIOD":  # sdmx1 2.28: no attributes on SDMX 3.0 data sets
        read = read_sdmx1(data)
        assert [action for action, _, _ in read] == [None] * len(specs)  # sdmx1 2.28 ignores XML actions
        assert [records for _, records, _ in read] == [expected(s) for s in specs]
        assert [attributes for _, _, attributes in read] == [s.dataset_attributes for s in specs]


@pytest.mark.parametrize("key", ML)
def test_sdmx_ml_data_providers(key: str) -> None:
    """With ``data_provider``, each data set names its own provider."""
    specs = include_history()
    data = b"".join(MESSAGE_WRITERS[key](datasets(specs), WriteOptions(), data_provider=True))  # type: ignore[call-arg]
    validate(ML[key], data, LNOB_FLOW, "TIME_PERIOD")
    providers = [e[0].text if key == "ml30" else e[0].findtext("URN") for e in _data_sets(data)]
    urn = "urn:sdmx:org.sdmx.infomodel.base.DataProvider=LNOB:DATA_PROVIDERS(1.0)."
    assert providers == [urn + s.provider[1] for s in specs]
    assert [len(records) for _, records, _ in read_pysdmx(data)] == [len(s.observations) for s in specs]


# -- SDMX-CSV ----------------------------------------------------------------------------------------------


def _csv_rows(data: bytes) -> tuple[list[str], list[list[str]]]:
    header, *rows = csv.reader(io.StringIO(data.decode(), newline=""))
    return header, rows


def _runs(specs: list[Spec]) -> list[tuple[str, list[Record]]]:
    """The data sets as SDMX-CSV shows them: consecutive data sets with the same action run together."""
    runs: list[tuple[str, list[Record]]] = []
    for spec in specs:
        if runs and runs[-1][0] == spec.action:
            runs[-1] = (spec.action, sorted(runs[-1][1] + expected(spec), key=repr))
        else:
            runs.append((spec.action, expected(spec)))
    return runs


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_sdmx_csv_20(scenario: str, layout: str) -> None:
    specs = SCENARIOS[scenario]()
    data = write("csv20", specs, layout)
    header, rows = _csv_rows(data)
    assert data.count(b"STRUCTURE,") == 1
    letters = {"Replace": "R", "Delete": "D"}
    assert [row[2] for row in rows] == [letters[s.action] for s in specs for _ in s.observations]

    dims = _dimensions()
    consent = header.index(CONSENT[0])
    for row in rows:
        if row[2] == "D":  # key only: no value, no attribute (not even the dataset attribute)
            assert not [c for h, c in zip(header[3:], row[3:], strict=True) if h not in dims and c]
        else:
            assert row[consent] == CONSENT[1]

    # Our reader takes one action per message: read each run of rows with the same action on its own.
    lines = data.decode().split("\r\n")
    runs: list[list[str]] = []
    for line in lines[1:-1]:
        action = line.split(",")[2]
        if runs and runs[-1][0].split(",")[2] == action:
            runs[-1].append(line)
        else:
            runs.append([line])
    read = [read_ours("\r\n".join([lines[0], *run, ""]).encode()) for run in runs]
    assert [(action, records) for action, records, _ in read] == _runs(specs)

    if layout == "TIME_PERIOD":  # sdmx1 makes one data set per action (so releases run together)
        message = sdmx.read_sdmx(io.BytesIO(data), structure=sdmx1_structure(LNOB_FLOW), format="CSV")
        got = {ds.action.name: len(ds.obs) for ds in message.data}
        assert got == {a.lower(): sum(len(s.observations) for s in specs if s.action == a) for a in letters}
        # pysdmx 1.20 reads one data set per message and silently drops the D rows of a message with others.
        (dataset,) = pysdmx_read(data.decode()).data
        assert dataset.action.value == "Replace"
        assert len(dataset.data) == sum(len(s.observations) for s in specs if s.action == "Replace")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_sdmx_csv_10_refuses_actions_and_several_data_sets(scenario: str) -> None:
    specs = SCENARIOS[scenario]()
    for message in (datasets(specs), datasets(specs[:1])):
        with pytest.raises(UnrepresentableMessage, match=r"use SDMX-CSV 2\.0 or SDMX-ML") as raised:
            write_message("csv10", message, WriteOptions())  # raised at once, before anything is streamed
        assert isinstance(raised.value, ValueError)
        assert "updatedAfter" in str(raised.value) and "includeHistory" in str(raised.value)
    info, blocks = datasets(specs[:1])[0]
    information = replace(info, action="Information")
    data = b"".join(write_message("csv10", [(information, blocks)], WriteOptions()))
    assert data.startswith(b"DATAFLOW,") and data.count(b"\r\n") == 1 + len(specs[0].observations)
    with pytest.raises(UnrepresentableMessage, match="action Replace"):
        WRITERS["csv10"](info, blocks, WriteOptions())
    with pytest.raises(UnrepresentableMessage, match="labels=name"):
        write_message("csv10", [(information, blocks)], WriteOptions(labels="name"))


# -- SDMX-JSON ---------------------------------------------------------------------------------------------


def _split(doc: dict[str, Any], index: int) -> bytes:
    """The message with only its ``index``-th data set (the structure as it is)."""
    data = dict(doc["data"], dataSets=[doc["data"]["dataSets"][index]])
    if "structures" in data:
        data["structures"] = [dict(data["structures"][0], dataSets=[0])]
    return json.dumps(dict(doc, data=data)).encode()


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("key", JSON_VERSION)
def test_sdmx_json(key: str, scenario: str, layout: str) -> None:
    specs = SCENARIOS[scenario]()
    data = write(key, specs, layout)
    validate_sdmx_json(data, "data", JSON_VERSION[key])  # type: ignore[arg-type]
    doc = json.loads(data)
    entries = doc["data"]["dataSets"]
    assert [e["action"] for e in entries] == [s.action for s in specs]
    assert [e.get("validFrom") for e in entries] == [s.valid_from for s in specs]
    assert [e.get("validTo") for e in entries] == [s.valid_to for s in specs]
    structure_doc = doc["data"]["structures"][0] if key == "json20" else doc["data"]["structure"]
    if key == "json20":
        assert [e["structure"] for e in entries] == [0] * len(specs)
        assert structure_doc["dataSets"] == list(range(len(specs)))
    # One structure for all: each value listed once, the periods of every data set among them.
    for level in structure_doc["dimensions"].values():
        for dimension in level:
            ids = [v.get("id", v.get("value")) for v in dimension["values"]]
            assert len(ids) == len(set(ids))
    periods = [d for level in structure_doc["dimensions"].values() for d in level if d["id"] == "TIME_PERIOD"]
    assert {v["id"] for v in periods[0]["values"]} == {o.key["TIME_PERIOD"] for s in specs for o in s.observations}
    # The structure's provider link only when all data sets share the provider.
    providers = {s.provider for s in specs}
    assert any(link["rel"] == "dataProvider" for link in structure_doc["links"]) is (len(providers) == 1)

    read = [read_ours(_split(doc, i)) for i in range(len(specs))]
    assert [action for action, _, _ in read] == [s.action for s in specs]
    assert [records for _, records, _ in read] == [expected(s) for s in specs]
    assert [attributes for _, _, attributes in read] == [s.dataset_attributes for s in specs]


# -- every format ------------------------------------------------------------------------------------------


def replace_only_history() -> list[Spec]:
    """The three releases without the deletion: data sets with one action, which our readers read whole."""
    return [s for s in include_history() if s.action == "Replace"]


@pytest.mark.parametrize("key", [k for k in MESSAGE_WRITERS if k != "csv10"])
def test_our_readers_read_a_replace_history_whole(key: str) -> None:
    specs = replace_only_history()
    data = write(key, specs)
    if key in ML:
        validate(ML[key], data, LNOB_FLOW, "TIME_PERIOD")
    if key in JSON_VERSION:
        validate_sdmx_json(data, "data", JSON_VERSION[key])  # type: ignore[arg-type]
    action, records, attributes = read_ours(data)
    assert action == "Replace"
    assert records == sorted((r for s in specs for r in expected(s)), key=repr)
    assert attributes == dict([CONSENT])


@pytest.mark.parametrize("key", [k for k in MESSAGE_WRITERS if k != "csv10"])
def test_empty_data_sets(key: str) -> None:
    """Empty data sets (an empty Delete after a release that deleted nothing) are written as such."""
    first, deletion, second = include_history()[0], include_history()[2], include_history()[3]
    specs = [first, replace(deletion, observations=[]), second, replace(deletion, observations=[], valid_to=T3)]
    data = write(key, specs)
    if key in ML:
        validate(ML[key], data, LNOB_FLOW, "TIME_PERIOD")
        elements = _data_sets(data)
        assert [_xml_attribute(e, "action") for e in elements] == [s.action for s in specs]
        assert [len(e.findall(".//{*}Obs")) for e in elements] == [3, 0, 2, 0]
        assert [len(records) for _, records, _ in read_pysdmx(data)] == [3, 0, 2, 0]
    elif key in JSON_VERSION:
        validate_sdmx_json(data, "data", JSON_VERSION[key])  # type: ignore[arg-type]
        entries = json.loads(data)["data"]["dataSets"]
        assert [(e["action"], e.get("validTo"), len(e["series"])) for e in entries] == [
            ("Replace", None, 2),
            ("Delete", T2, 0),
            ("Replace", None, 1),
            ("Delete", T3, 0),
        ]
    else:
        _, rows = _csv_rows(data)
        assert [row[2] for row in rows] == ["R"] * 5
    for only_empty in ([specs[1]], [specs[1], specs[3]]):
        data = write(key, only_empty)
        if key in ML:
            validate(ML[key], data, LNOB_FLOW, "TIME_PERIOD")
            assert len(_data_sets(data)) == len(only_empty)
        elif key in JSON_VERSION:
            validate_sdmx_json(data, "data", JSON_VERSION[key])  # type: ignore[arg-type]
            assert [e["series"] for e in json.loads(data)["data"]["dataSets"]] == [{}] * len(only_empty)
        else:
            assert data.count(b"\r\n") == 1


def test_write_message_checks_before_streaming() -> None:
    assert set(MESSAGE_WRITERS) == set(WRITERS)
    specs = updated_after()
    (replace_set, replace_blocks), (delete_set, delete_blocks) = datasets(specs)
    for key in MESSAGE_WRITERS:
        with pytest.raises(ValueError, match="at least one data set"):
            write_message(key, [], WriteOptions())
        other_layout = replace(
            delete_set, series_dimensions=(), observation_dimensions=(*delete_set.series_dimensions, "TIME_PERIOD")
        )
        with pytest.raises(ValueError, match="share the dataflow, structure and dimension layout"):
            write_message(key, [(replace_set, replace_blocks), (other_layout, delete_blocks)], WriteOptions())
    for key in ML:  # SDMX-ML checks every data set's header facts up front
        with pytest.raises(ValueError, match="action"):
            write_message(key, [(replace_set, []), (replace(delete_set, action="Merge"), [])], WriteOptions())


@pytest.mark.parametrize("key", ["ss21", "generic21", "csv20", "json20", "json10"])
def test_data_sets_are_read_one_after_the_other(key: str) -> None:
    """A data set's series are read only once the previous data set has been written; the first chunk leaves
    before any series is read in SDMX-CSV and SDMX-JSON (whose structure comes after every data set is read)."""
    log: list[str] = []

    def blocks(name: str, source: list[SeriesBlock]) -> Iterator[SeriesBlock]:
        log.append(f"start {name}")
        yield from source
        log.append(f"end {name}")

    sets = [(info, blocks(str(i), b)) for i, (info, b) in enumerate(datasets(include_history()))]
    chunks = write_message(key, sets, WriteOptions())
    if key not in ML:  # SDMX-ML sends its header with the first ~64 KB of data
        next(chunks)
        assert log == []
    list(chunks)
    assert log == [f"{event} {i}" for i in range(4) for event in ("start", "end")]


def _many(info: DataSetInfo, n_series: int, periods: int, action: str) -> Iterator[SeriesBlock]:
    """Generated series of the history layout (Delete: keys only)."""
    statuses = ['{"NATURE":"CG","OBS_STATUS":"A","UNIT_MULT":"0"}', '{"NATURE":"CG","OBS_STATUS":"E","UNIT_MULT":"0"}']
    dims = info.series_dimensions
    base = _kenya("2000")
    for i in range(n_series):
        key = {**base, "SUBNATIONAL": f"KE-{i % 47 + 1:02d}", "AGE": "_T", "SEX": "FM"[i // 47 % 2]}
        key["POP_GROUP"] = ["KE_PWD_REG", "KE_SLUM"][i // 94 % 2]
        key["REF_AREA"] = str(404 + i // 188)
        observations: list[tuple[tuple[str, ...], float | None, str | None]] = [
            ((f"{1900 + p}-{m:02d}",), None, None)
            if action == "Delete"
            else ((f"{1900 + p}-{m:02d}",), i * 0.5 + p + m / 100, statuses[(p + m) % 2])
            for p in range(periods // 12)
            for m in range(1, 13)
        ]
        yield SeriesBlock(
            tuple(key[d] for d in dims), None if action == "Delete" else '{"UNIT_MEASURE":"PT"}', observations
        )


@pytest.mark.parametrize(
    ("key", "limit_mb"), [("ss21", 2), ("generic21", 2), ("csv20", 2), ("json20", 3), ("json10", 3)]
)
def test_memory_stays_bounded_over_data_sets(monkeypatch: pytest.MonkeyPatch, key: str, limit_mb: int) -> None:
    """Four data sets of 48,000 observations each (generated): memory does not grow with the data sets
    (SDMX-JSON spools them, here to disk beyond 1 MB)."""
    monkeypatch.setattr(data_json, "SPOOL_BYTES", 2**20)
    infos = [info for info, _ in datasets(include_history())]
    tracemalloc.start()
    try:
        sets = [(info, _many(info, 2000, 24, info.action)) for info in infos]
        sizes = [len(chunk) for chunk in write_message(key, sets, WriteOptions())]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(sizes) > 4 * 2**20
    assert peak < limit_mb * 2**20, f"peak {peak / 2**20:.1f} MB"
    assert max(sizes) < 200_000
