"""Availability queries answer an actual content constraint with values, time range and counts."""

from __future__ import annotations

import io

import pytest
import sdmx
from lxml import etree

from exchange.db import get_engine
from exchange.demo import load_demo
from tests.conformance import validate_sdmx_json, validate_sdmx_ml

NS = {
    "str": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure",
    "com": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common",
}


@pytest.fixture(scope="module")
def demo(settings) -> None:  # type: ignore[no-untyped-def]
    load_demo(get_engine(settings.db_url))


def key(**codes: str) -> str:
    """A 17-position DSD_LNOB key with the given codes and wildcards elsewhere."""
    positions = {"SERIES": 2, "REF_AREA": 3}
    parts = [""] * 17
    for dim, code in codes.items():
        parts[positions[dim]] = code
    return ".".join(parts)


def members(content: bytes) -> dict[str, list[str]]:
    root = etree.fromstring(content)
    region = root.find(".//str:CubeRegion", NS)
    return {kv.get("id"): [v.text for v in kv.findall("com:Value", NS)] for kv in region.findall("com:KeyValue", NS)}


def annotation(content: bytes, annotation_id: str) -> int:
    root = etree.fromstring(content)
    found = root.find(f".//com:Annotation[@id='{annotation_id}']/com:AnnotationTitle", NS)
    return int(found.text)


def test_exact_availability_for_a_provider(client, demo) -> None:
    response = client.get("/sdmx/v1/availableconstraint/DF_LNOB/all/NPL")
    assert response.status_code == 200
    validate_sdmx_ml(response.content, "2.1")
    found = members(response.content)
    assert found["REF_AREA"] == ["524"]
    assert found["SUBNATIONAL"] == ["NP-P1", "NP-P2", "NP-P3", "NP-P4", "NP-P5", "NP-P6", "NP-P7", "_T"]
    assert set(found["POP_GROUP"]) == {"_T", "NP_DALIT", "NP_MADHESI", "NP_JANAJATI", "LGBTIQ"}
    assert annotation(response.content, "obs_count") == 3600
    assert annotation(response.content, "series_count") == 360
    time_range = etree.fromstring(response.content).find(".//com:KeyValue[@id='TIME_PERIOD']", NS)
    assert time_range.find(".//com:StartPeriod", NS).text.startswith("2016-01-01")
    assert time_range.find(".//com:EndPeriod", NS).text.startswith("2025-12-31")
    message = sdmx.read_sdmx(io.BytesIO(response.content))
    assert list(message.constraint)


def test_component_and_time_restriction(client, demo) -> None:
    response = client.get(
        f"/sdmx/v1/availableconstraint/DF_LNOB/{key(SERIES='SE_TOT_CPLR')}/all/REF_AREA", params={"startPeriod": "2024"}
    )
    assert response.status_code == 200
    found = members(response.content)
    assert list(found) == ["REF_AREA"]
    assert found["REF_AREA"] == ["404", "454", "524", "704"]


def test_available_mode_keeps_alternatives_of_selected_dimensions(client, demo) -> None:
    exact = members(client.get(f"/sdmx/v1/availableconstraint/DF_LNOB/{key(REF_AREA='524')}").content)
    available = members(
        client.get(f"/sdmx/v1/availableconstraint/DF_LNOB/{key(REF_AREA='524')}", params={"mode": "available"}).content
    )
    assert exact["REF_AREA"] == ["524"]
    assert {"404", "524", "356", "50", "704", "454", "208"} == set(available["REF_AREA"])
    assert available["SUBNATIONAL"] == exact["SUBNATIONAL"]


def test_v2_availability_with_references_and_json(client, demo) -> None:
    path = "/sdmx/v2/availability/dataflow/LNOB/DF_LNOB/1.0/" + ".".join(["*"] * 3 + ["208"] + ["*"] * 13)
    response = client.get(
        path, params={"references": "codelist"}, headers={"Accept": "application/vnd.sdmx.structure+json;version=2.0.0"}
    )
    assert response.status_code == 200
    validate_sdmx_json(response.content, "structure", "2.0")
    codelists = response.json()["data"]["codelists"]
    pop_groups = next(c for c in codelists if c["id"] == "CL_POP_GROUP")
    assert {c["id"] for c in pop_groups["codes"]} >= {"_T", "DK_OLDER_ALONE", "DK_REFUGEE"}
    assert len(pop_groups["codes"]) < 10
    xml = client.get(path)
    assert xml.status_code == 200
    validate_sdmx_ml(xml.content, "3.0")


def test_empty_and_bad_availability_queries(client, demo) -> None:
    assert client.get(f"/sdmx/v1/availableconstraint/DF_LNOB/{key(REF_AREA='999')}").status_code == 404
    assert (
        client.get(
            "/sdmx/v2/availability/dataflow/LNOB/DF_LNOB/1.0/" + ".".join(["*"] * 3 + ["999"] + ["*"] * 13)
        ).status_code
        == 204
    )
    assert client.get("/sdmx/v1/availableconstraint/DF_LNOB/all/all/COLOUR").status_code == 400
    assert client.get("/sdmx/v1/availableconstraint/DF_LNOB", params={"mode": "maybe"}).status_code == 400
    assert client.get("/sdmx/v1/availableconstraint/DF_LNOB", params={"references": "cousins"}).status_code == 400
