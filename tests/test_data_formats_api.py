"""Every data format served over HTTP is schema-valid and reads back to exactly the stored values.

Dataset: the demo releases of Denmark (annual and quarterly series) and Nepal (provinces; missing values
with OBS_STATUS L; low-reliability U flags), i.e. several frequencies, missing values and attributes at
series and observation level.
"""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest
import sdmx
from pysdmx.io import read_sdmx as pysdmx_read
from sqlalchemy import select

from exchange.db import get_engine, session_scope
from exchange.demo import load_demo
from exchange.formats.data_readers import read_data_message
from exchange.store.schema import Dataset, Observation, Series, SeriesAttributes
from exchange.structures.model import Ref
from tests.conformance import assert_xml_valid, validate_sdmx_json, validate_sdmx_ml
from tests.dsd_xsd import structure_specific_schema

FLOW = Ref("dataflow", "LNOB", "DF_LNOB", "1.0")
FORMATS = {
    "generic21": "application/vnd.sdmx.genericdata+xml;version=2.1",
    "generic21ts": "application/vnd.sdmx.generictimeseriesdata+xml;version=2.1",
    "ss21": "application/vnd.sdmx.structurespecificdata+xml;version=2.1",
    "ss21ts": "application/vnd.sdmx.structurespecifictimeseriesdata+xml;version=2.1",
    "ml30": "application/vnd.sdmx.data+xml;version=3.0.0",
    "json10": "application/vnd.sdmx.data+json;version=1.0.0",
    "json20": "application/vnd.sdmx.data+json;version=2.0.0",
    "csv10": "application/vnd.sdmx.data+csv;version=1.0.0",
    "csv20": "application/vnd.sdmx.data+csv;version=2.0.0",
}
QUERY = "/sdmx/v1/data/LNOB,DF_LNOB,1.0/all/DNK+NPL"
PARAMS = {"startPeriod": "2023"}


@pytest.fixture(scope="module")
def stored(settings) -> dict[tuple[str, str], tuple[float | None, dict[str, str]]]:  # type: ignore[no-untyped-def]
    """(series key, period) → (value, all attributes) as stored, for the query's providers and periods."""
    engine = get_engine(settings.db_url)
    load_demo(engine)
    with session_scope(engine) as session:
        rows = session.execute(
            select(
                Series.series_key,
                Observation.time_period,
                Observation.obs_value,
                Observation.attributes,
                SeriesAttributes.attributes,
            )
            .join(Observation, Observation.series_id == Series.id)
            .join(SeriesAttributes, SeriesAttributes.series_id == Series.id)
            .join(Dataset, Dataset.id == Series.dataset_id)
            .where(
                Dataset.provider_id.in_(["DNK", "NPL"]),
                Observation.to_release.is_(None),
                SeriesAttributes.to_release.is_(None),
                Observation.period_start >= datetime(2023, 1, 1),
            )
        ).all()
    return {
        (key, period): (value, {**json.loads(series or "{}"), **json.loads(obs or "{}")})
        for key, period, value, obs, series in rows
    }


def fetch(client, fmt: str) -> bytes:  # type: ignore[no-untyped-def]
    response = client.get(QUERY, params=PARAMS, headers={"Accept": FORMATS[fmt]})
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith(FORMATS[fmt].replace(";version=", "; version="))
    return response.content


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_valid_and_exact(client, stored, fmt: str) -> None:
    body = fetch(client, fmt)
    registry = client.app.state.service.registry()
    dsd = registry.structure_of(registry.dataflow(FLOW))
    if fmt.startswith("generic"):
        validate_sdmx_ml(body, "2.1")
    elif fmt.startswith(("ss21", "ml30")):
        codes = lambda ref: [i.id for i in registry.codelist(ref).items]  # noqa: E731
        schema = structure_specific_schema(
            dsd, "TIME_PERIOD", "3.0" if fmt == "ml30" else "2.1", codes, time_series=fmt == "ss21ts"
        )
        assert_xml_valid(body, schema)
    elif fmt.startswith("json"):
        validate_sdmx_json(body, "data", "1.0" if fmt == "json10" else "2.0")
    message = read_data_message(io.BytesIO(body), dsd)
    dims = [d.id for d in dsd.dimensions]
    got = {}
    for record in message.observations:
        key = ".".join(record.key[d] for d in dims)
        value = None if record.value in (None, "", "NaN") else float(record.value)
        got[(key, record.time_period)] = (value, {**record.series_attributes, **record.obs_attributes})
    assert got == stored
    assert any(v is None for v, _ in stored.values()) and any(k[1].endswith("-Q1") for k in stored)


def test_sdmx1_reads_structure_specific_and_generic(client, stored) -> None:
    structure = sdmx.read_sdmx(
        io.BytesIO(client.get("/sdmx/v1/datastructure/LNOB/DSD_LNOB/1.0", params={"references": "children"}).content)
    )
    dsd = structure.structure["DSD_LNOB"]
    for fmt in ("ss21", "generic21"):
        message = sdmx.read_sdmx(io.BytesIO(fetch(client, fmt)), structure=dsd)
        values = {}
        for series_key, series in message.data[0].series.items():
            key = ".".join(str(v.value) for v in series_key.values.values())
            for obs in series:
                value = None if obs.value is None else float(obs.value)
                values[(key, str(obs.dimension.values["TIME_PERIOD"].value))] = None if value != value else value
        assert values == {k: v for k, (v, _) in stored.items()}


def test_pysdmx_reads_structure_specific_and_csv(client, stored) -> None:
    for fmt in ("ss21", "csv20", "csv10"):
        text = fetch(client, fmt).decode()
        message = pysdmx_read(text, validate=False)
        frame = message.data[0].data
        assert len(frame) == len(stored)
        assert set(frame["TIME_PERIOD"].astype(str)) == {k[1] for k in stored}
