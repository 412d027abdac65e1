"""The global-DSD dataflow LNOB:DF_SDG_LNOB serves the partnership data through the published mapping."""

from __future__ import annotations

import csv
import io

import pytest

from exchange.db import get_engine
from exchange.demo import load_demo
from exchange.formats.data_readers import read_data_message
from exchange.structures.model import Ref
from exchange.validation.validator import Validator
from tests.conformance import validate_sdmx_ml

CSV20 = "application/vnd.sdmx.data+csv;version=2.0.0"
SDG_DIMS = 15


@pytest.fixture(scope="module")
def demo(settings) -> None:  # type: ignore[no-untyped-def]
    load_demo(get_engine(settings.db_url))


def test_mapping_artefacts_are_published(client, demo) -> None:
    response = client.get("/sdmx/v2/structure/structuremap/LNOB/SM_LNOB_TO_SDG/1.0", params={"references": "children"})
    assert response.status_code == 200
    validate_sdmx_ml(response.content, "3.0")
    text = response.text
    assert "RM_POP_GROUP_TO_CUST_BREAKDOWN" in text and "DF_SDG_LNOB" in text and "DF_LNOB" in text


def test_global_view_keys_codes_and_attributes(client, demo) -> None:
    key = ".".join(["A", "N", "SI_COV_DISAB", "404", "F", "_T", "_T", "_T", "_T", "_T", "*", "_T", "*", "_T", "_T"])
    response = client.get(
        f"/sdmx/v2/data/dataflow/LNOB/DF_SDG_LNOB/1.0/{key}",
        params={"c[TIME_PERIOD]": "2024"},
        headers={"Accept": CSV20},
    )
    assert response.status_code == 200, response.text[:300]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert "POP_GROUP" not in rows[0] and "SUBNATIONAL" not in rows[0]
    breakdowns = {r["CUST_BREAKDOWN"]: r.get("CUST_BREAKDOWN_LB", "") for r in rows}
    assert breakdowns["_T"] == ""
    assert {label for code, label in breakdowns.items() if code != "_T"} >= {"Persons with disabilities"}
    assert all(r["NATURE"] == "_X" for r in rows)
    assert {r["OBS_STATUS"] for r in rows} <= {"G", "U", "L"}
    assert all(r["SOURCE_DETAIL"].startswith("Citizen-generated data: ") for r in rows)
    assert "LNOB release 1" in rows[0]["SOURCE_DETAIL"]


def test_global_view_output_validates_against_the_sdg_dsd(client, demo, settings) -> None:
    response = client.get(
        "/sdmx/v1/data/LNOB,DF_SDG_LNOB,1.0/all", params={"startPeriod": "2025"}, headers={"Accept": CSV20}
    )
    assert response.status_code == 200
    registry = client.app.state.service.registry()
    for flow in (Ref("dataflow", "IAEG-SDGs", "DF_SDG_GLC", "1.22"), Ref("dataflow", "LNOB", "DF_SDG_LNOB", "1.0")):
        validator = Validator(registry, registry.dataflow(flow))
        message = read_data_message(io.BytesIO(response.content), validator.dsd)
        report = validator.validate(message).report
        assert report.ok, report.summary()
        assert report.observations > 300


def test_cust_breakdown_key_selects_a_population_group(client, demo) -> None:
    everything = client.get(
        "/sdmx/v1/data/DF_SDG_LNOB/A.N.SE_TOT_CPLR.524" + "." * 11,
        params={"startPeriod": "2025"},
        headers={"Accept": CSV20},
    )
    codes = {r["CUST_BREAKDOWN"]: r["CUST_BREAKDOWN_LB"] for r in csv.DictReader(io.StringIO(everything.text))}
    code, label = next((c, lb) for c, lb in codes.items() if c != "_T")
    one = client.get(
        "/sdmx/v1/data/DF_SDG_LNOB/A.N.SE_TOT_CPLR.524" + "." * 7 + code + "." * 4,
        params={"startPeriod": "2025"},
        headers={"Accept": CSV20},
    )
    rows = list(csv.DictReader(io.StringIO(one.text)))
    assert rows and {r["CUST_BREAKDOWN"] for r in rows} == {code}
    assert {r["CUST_BREAKDOWN_LB"] for r in rows} == {label}
