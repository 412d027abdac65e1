"""updatedAfter reports changes and deletions; includeHistory replays every release; asOf travels back."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import SDG_SAMPLES
from tests.test_load import voices

FLOW = "IAEG-SDGs:DF_SDG_GLC(1.22)"
CSV20 = "application/vnd.sdmx.data+csv;version=2.0.0"
PATH = "/sdmx/v1/data/IAEG-SDGs,DF_SDG_GLC,1.22/all/BGD"


@pytest.fixture(scope="module")
def history(settings, tmp_path_factory) -> dict[str, datetime]:  # type: ignore[no-untyped-def]
    """Release 1: the 1-1-1 sample (3 series, 6 observations). Release 2: SEX=M dropped, one value revised."""
    sample = SDG_SAMPLES / "sample_structspecific_SDG1.8_1-1-1.xml"
    first = voices(settings.db_url, "load", str(sample), "--dataflow", FLOW, "--provider", "BGD")
    assert first.returncode == 0, first.stderr
    time.sleep(1.1)
    between = datetime.now(UTC)
    time.sleep(1.1)
    text = sample.read_text()
    start = text.rindex("<Series", 0, text.index('SEX="M"'))
    end = text.index("</Series>", start) + len("</Series>")
    revised = text[:start] + text[end:]
    revised = revised.replace('TIME_PERIOD="2021" OBS_VALUE="120"', 'TIME_PERIOD="2021" OBS_VALUE="125"')
    path = Path(tmp_path_factory.mktemp("history")) / "revised.xml"
    path.write_text(revised)
    second = voices(settings.db_url, "load", str(path), "--dataflow", FLOW, "--provider", "BGD")
    assert second.returncode == 0, second.stderr
    assert ", 3 changed" in second.stdout  # one revised value, two deleted observations
    return {"between": between}


def csv_rows(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text[:300]
    return list(csv.DictReader(io.StringIO(response.text)))


def test_updated_after_lists_changes_and_deletions(client, history) -> None:
    rows = csv_rows(
        client.get(PATH, params={"updatedAfter": history["between"].isoformat()}, headers={"Accept": CSV20})
    )
    replaced = {(r["SEX"], r["TIME_PERIOD"], r["OBS_VALUE"]) for r in rows if r["ACTION"] == "R"}
    deleted = {(r["SEX"], r["TIME_PERIOD"]) for r in rows if r["ACTION"] == "D"}
    assert replaced == {("_T", "2021", "125")}
    assert deleted == {("M", "2020"), ("M", "2021")}


def test_include_history_replays_every_release(client, history) -> None:
    response = client.get(
        PATH, params={"includeHistory": "true"}, headers={"Accept": "application/vnd.sdmx.genericdata+xml;version=2.1"}
    )
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    datasets = root.findall("{*}DataSet")
    summary = [(d.get("action"), len(d.findall(".//{*}Obs"))) for d in datasets]
    assert summary == [("Replace", 6), ("Replace", 1), ("Delete", 2)]
    assert all(d.get("validFromDate") for d in datasets if d.get("action") == "Replace")


def test_as_of_returns_the_earlier_release(client, history) -> None:
    rows = csv_rows(
        client.get(
            "/sdmx/v2/data/dataflow/IAEG-SDGs/DF_SDG_GLC/1.22/*",
            params={"asOf": history["between"].isoformat()},
            headers={"Accept": CSV20},
        )
    )
    values = {(r["SEX"], r["TIME_PERIOD"]): r["OBS_VALUE"] for r in rows if r["REF_AREA"] == "826"}
    assert values[("_T", "2021")] == "120" and ("M", "2020") in values
    current = csv_rows(client.get("/sdmx/v2/data/dataflow/IAEG-SDGs/DF_SDG_GLC/1.22/*", headers={"Accept": CSV20}))
    assert {(r["SEX"], r["TIME_PERIOD"]): r["OBS_VALUE"] for r in current}[("_T", "2021")] == "125"


def test_csv_10_cannot_carry_deletions(client, history) -> None:
    response = client.get(
        PATH,
        params={"updatedAfter": history["between"].isoformat()},
        headers={"Accept": "application/vnd.sdmx.data+csv;version=1.0.0"},
    )
    assert response.status_code == 406
    assert "SDMX-CSV 2.0" in response.text
