"""SDMX REST data queries (1.5 and 2.x) on the demo data: keys, periods, options, caching and errors."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime

import pytest
from lxml import etree

from exchange.db import get_engine
from exchange.demo import load_demo
from tests.test_load import voices

CSV20 = "application/vnd.sdmx.data+csv;version=2.0.0"
KEN_PWD_NAIROBI = "A.N.SI_COV_DISAB.404.F._T._T._T._T._T._T._T.PD._T._T.PWD.KE-30"
DIMS = 17


@pytest.fixture(scope="module")
def demo(settings) -> None:  # type: ignore[no-untyped-def]
    load_demo(get_engine(settings.db_url))


def rows(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text[:500]
    return list(csv.DictReader(io.StringIO(response.text)))


def get_csv(client, path: str, **params: str):  # type: ignore[no-untyped-def]
    return client.get(path, params=params, headers={"Accept": CSV20})


def test_one_series_by_full_key(client, demo) -> None:
    result = rows(get_csv(client, f"/sdmx/v1/data/LNOB,DF_LNOB,1.0/{KEN_PWD_NAIROBI}/LNOB,KEN"))
    assert [r["TIME_PERIOD"] for r in result] == [str(y) for y in range(2016, 2026)]
    assert {r["SUBNATIONAL"] for r in result} == {"KE-30"}
    assert all(r["NATURE"] == "CG" and r["UNIT_MEASURE"] == "PT" for r in result)
    values = [r["OBS_VALUE"] for r in result]
    assert all(v == "" or 0 <= float(v) <= 100 for v in values)


def test_wildcards_and_or(client, demo) -> None:
    key = "A.N.SI_COV_DISAB.404.F+M._T._T._T._T._T._T._T.PD._T._T.PWD.KE-01+KE-30"
    result = rows(get_csv(client, f"/sdmx/v1/data/DF_LNOB/{key}", startPeriod="2025"))
    assert {(r["SEX"], r["SUBNATIONAL"]) for r in result} == {
        ("F", "KE-01"),
        ("F", "KE-30"),
        ("M", "KE-01"),
        ("M", "KE-30"),
    }
    wildcard = rows(get_csv(client, "/sdmx/v1/data/DF_LNOB/..SI_COV_DISAB.404.F............KE-30", startPeriod="2025"))
    assert {r["POP_GROUP"] for r in wildcard} == {"_T", "PWD", "YOUTH", "KE_SLUM"}


def test_period_semantics_across_frequencies(client, demo) -> None:
    quarterly = rows(
        get_csv(
            client,
            "/sdmx/v1/data/DF_LNOB/Q.N.IT_MOB_OWN.208._T._T._T._T._T._T._T._T._T._T._T._T._T",
            startPeriod="2021-Q2",
            endPeriod="2021-11",
        )
    )
    assert sorted({r["TIME_PERIOD"] for r in quarterly}) == ["2021-Q2", "2021-Q3", "2021-Q4"]
    annual = rows(
        get_csv(client, f"/sdmx/v1/data/DF_LNOB/{KEN_PWD_NAIROBI}", startPeriod="2020-Q2", endPeriod="2021-05-31")
    )
    assert [r["TIME_PERIOD"] for r in annual] == ["2020", "2021"]


def test_first_and_last_n(client, demo) -> None:
    last = rows(get_csv(client, f"/sdmx/v1/data/DF_LNOB/{KEN_PWD_NAIROBI}", lastNObservations="2"))
    assert [r["TIME_PERIOD"] for r in last] == ["2024", "2025"]
    first = rows(get_csv(client, f"/sdmx/v1/data/DF_LNOB/{KEN_PWD_NAIROBI}", firstNObservations="3"))
    assert [r["TIME_PERIOD"] for r in first] == ["2016", "2017", "2018"]


def test_provider_filter(client, demo) -> None:
    result = rows(get_csv(client, "/sdmx/v1/data/DF_LNOB/all/NPL", startPeriod="2025", endPeriod="2025"))
    assert {r["REF_AREA"] for r in result} == {"524"}
    assert client.get("/sdmx/v1/data/DF_LNOB/all/NOBODY").status_code == 404


def test_detail_and_dimension_at_observation(client, demo) -> None:
    keys = rows(get_csv(client, f"/sdmx/v1/data/DF_LNOB/{KEN_PWD_NAIROBI}", detail="serieskeysonly"))
    assert len(keys) == 1 and not keys[0].get("OBS_VALUE") and not keys[0].get("TIME_PERIOD")
    data_only = rows(get_csv(client, f"/sdmx/v1/data/DF_LNOB/{KEN_PWD_NAIROBI}", detail="dataonly"))
    assert "OBS_STATUS" not in data_only[0]
    cross = client.get(
        f"/sdmx/v1/data/DF_LNOB/{KEN_PWD_NAIROBI.replace('KE-30', 'KE-01+KE-30')}",
        params={"dimensionAtObservation": "SUBNATIONAL", "startPeriod": "2025"},
        headers={"Accept": "application/vnd.sdmx.genericdata+xml;version=2.1"},
    )
    assert cross.status_code == 200
    root = etree.fromstring(cross.content)
    obs_dims = {e.get("value") for e in root.iter("{*}ObsDimension")}
    assert obs_dims == {"KE-01", "KE-30"}


def test_v2_filters_and_paging(client, demo) -> None:
    path = "/sdmx/v2/data/dataflow/LNOB/DF_LNOB/1.0/A.N.SI_COV_DISAB.404.*.*.*.*.*.*.*.*.*.*.*.PWD.KE-30"
    result = rows(
        client.get(path, params={"c[TIME_PERIOD]": "ge:2023+le:2024", "c[SEX]": "F,M"}, headers={"Accept": CSV20})
    )
    assert {r["SEX"] for r in result} == {"F", "M"}
    assert {r["TIME_PERIOD"] for r in result} == {"2023", "2024"}
    page = rows(client.get(path, params={"offset": "2", "limit": "3"}, headers={"Accept": CSV20}))
    assert len(page) == 3
    everything = "/sdmx/v2/data/dataflow/LNOB/DF_LNOB/1.0/*"
    low = {"c[OBS_STATUS]": "U", "c[REF_AREA]": "404", "c[POP_GROUP]": "PWD", "c[OBS_VALUE]": "lt:50"}
    status = rows(client.get(everything, params=low, headers={"Accept": CSV20}))
    assert client.get(path, params={"reportingYearStartDay": "--01-01", "limit": "1"}).status_code == 200
    assert client.get(path, params={"reportingYearStartDay": "--07-01"}).status_code == 501
    assert status and all(r["OBS_STATUS"] == "U" and float(r["OBS_VALUE"]) < 50 for r in status)
    assert {r["REF_AREA"] for r in status} == {"404"} and {r["POP_GROUP"] for r in status} == {"PWD"}


def test_empty_results(client, demo) -> None:
    key = KEN_PWD_NAIROBI.replace("KE-30", "KE-99")
    v1 = client.get(f"/sdmx/v1/data/DF_LNOB/{key}")
    assert v1.status_code == 404
    assert etree.fromstring(v1.content).find("{*}ErrorMessage").get("code") == "100"
    assert client.get(f"/sdmx/v2/data/dataflow/LNOB/DF_LNOB/1.0/{key}").status_code == 204


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("/sdmx/v1/data/DF_LNOB/A.N", "key"),
        ("/sdmx/v1/data/DF_LNOB/all?startPeriod=2020-13", "startPeriod"),
        ("/sdmx/v1/data/DF_LNOB/all?lastNObservations=0", "lastNObservations"),
        ("/sdmx/v1/data/DF_LNOB/all?detail=everything", "detail"),
        ("/sdmx/v1/data/DF_LNOB/all?dimensionAtObservation=COLOUR", "dimensionAtObservation"),
        ("/sdmx/v1/data/DF_LNOB/all?updatedAfter=yesterday", "updatedAfter"),
        ("/sdmx/v1/data/DF_LNOB/all?colour=blue", "colour"),
        ("/sdmx/v2/data/dataflow/LNOB/DF_LNOB/1.0/*?c[COLOUR]=red", "COLOUR"),
        ("/sdmx/v2/data/dataflow/LNOB/DF_LNOB/1.0/*?c[SEX]=xx:F", "operator"),
    ],
)
def test_syntax_errors_name_the_bad_part(client, demo, path: str, needle: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert needle in response.text


def test_unknown_dataflow_is_404(client, demo) -> None:
    assert client.get("/sdmx/v1/data/NO_SUCH_FLOW").status_code == 404
    assert client.get("/sdmx/v2/data/dataflow/LNOB/NO_SUCH_FLOW/1.0").status_code == 404


def test_406_for_unknown_media_type(client, demo) -> None:
    assert client.get(f"/sdmx/v1/data/DF_LNOB/{KEN_PWD_NAIROBI}", headers={"Accept": "image/png"}).status_code == 406


def test_response_size_limit(client, demo, settings) -> None:
    original = settings.max_response_observations
    object.__setattr__(settings, "max_response_observations", 1000)
    try:
        response = client.get("/sdmx/v1/data/DF_LNOB/all")
        assert response.status_code == 413
        assert etree.fromstring(response.content).find("{*}ErrorMessage").get("code") == "510"
        assert "Narrow" in response.text
    finally:
        object.__setattr__(settings, "max_response_observations", original)


def test_caching_gzip_and_csv_download(client, demo) -> None:
    path = f"/sdmx/v1/data/DF_LNOB/{KEN_PWD_NAIROBI}"
    first = client.get(path, headers={"Accept": CSV20})
    assert first.headers["content-disposition"] == 'attachment; filename="LNOB-DF_LNOB-1.0.csv"'
    etag = first.headers["etag"]
    assert client.get(path, headers={"Accept": CSV20, "If-None-Match": etag}).status_code == 304
    modified = first.headers["last-modified"]
    assert client.get(path, headers={"Accept": CSV20, "If-Modified-Since": modified}).status_code == 304
    big = client.get(
        "/sdmx/v1/data/DF_LNOB/all/KEN",
        headers={"Accept": CSV20, "Accept-Encoding": "gzip"},
        params={"startPeriod": "2025"},
    )
    assert big.headers["content-encoding"] == "gzip"
    assert len(big.text.splitlines()) > 1000


def test_updated_after_returns_only_the_new_release(client, demo, settings, tmp_path) -> None:
    before = datetime.now(UTC)
    time.sleep(1.1)
    update = tmp_path / "update.csv"
    header = (
        "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REPORTING_TYPE,SERIES,REF_AREA,SEX,AGE,URBANISATION,"
        "INCOME_WEALTH_QUANTILE,EDUCATION_LEV,OCCUPATION,CUST_BREAKDOWN,COMPOSITE_BREAKDOWN,DISABILITY_STATUS,"
        "ACTIVITY,PRODUCT,POP_GROUP,SUBNATIONAL,TIME_PERIOD,OBS_VALUE,OBS_STATUS,UNIT_MULT,UNIT_MEASURE,NATURE"
    )
    key = ",".join(KEN_PWD_NAIROBI.split("."))
    update.write_text(f"{header}\ndataflow,LNOB:DF_LNOB(1.0),I,{key},2025,77.7,A,0,PT,CG\n")
    loaded = voices(
        settings.db_url,
        "load",
        str(update),
        "--dataflow",
        "LNOB:DF_LNOB(1.0)",
        "--provider",
        "KEN",
        "--action",
        "merge",
    )
    assert loaded.returncode == 0, loaded.stderr
    changed = rows(get_csv(client, "/sdmx/v1/data/DF_LNOB/all", updatedAfter=before.isoformat()))
    assert [(r["SUBNATIONAL"], r["TIME_PERIOD"], r["OBS_VALUE"]) for r in changed] == [("KE-30", "2025", "77.7")]
    as_of = rows(
        client.get(
            f"/sdmx/v2/data/dataflow/LNOB/DF_LNOB/1.0/{KEN_PWD_NAIROBI}",
            params={"asOf": before.isoformat(), "c[TIME_PERIOD]": "2025"},
            headers={"Accept": CSV20},
        )
    )
    assert as_of[0]["OBS_VALUE"] != "77.7"


def test_drafts_are_not_visible(client, demo, settings, tmp_path) -> None:
    draft = tmp_path / "draft.csv"
    header = (
        "DATAFLOW,FREQ,REPORTING_TYPE,SERIES,REF_AREA,SEX,AGE,URBANISATION,INCOME_WEALTH_QUANTILE,"
        "EDUCATION_LEV,OCCUPATION,CUST_BREAKDOWN,COMPOSITE_BREAKDOWN,DISABILITY_STATUS,ACTIVITY,PRODUCT,"
        "POP_GROUP,SUBNATIONAL,TIME_PERIOD,OBS_VALUE,OBS_STATUS,UNIT_MULT,UNIT_MEASURE"
    )
    draft.write_text(
        f"{header}\nLNOB:DF_LNOB(1.0),A,N,SI_COV_DISAB,454,F,_T,_T,_T,_T,_T,_T,_T,_T,_T,_T,"
        "MW_ALBINISM,_T,2030,12.5,A,0,PT\n"
    )
    loaded = voices(
        settings.db_url,
        "load",
        str(draft),
        "--dataflow",
        "DF_LNOB",
        "--provider",
        "MWI",
        "--draft",
        "--action",
        "merge",
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "(draft)" in loaded.stdout
    response = client.get("/sdmx/v1/data/DF_LNOB/all/MWI", params={"startPeriod": "2030"})
    assert response.status_code == 404


def test_csv_labels(client, demo) -> None:
    both = client.get(
        f"/sdmx/v1/data/DF_LNOB/{KEN_PWD_NAIROBI}",
        params={"lastNObservations": "1"},
        headers={"Accept": "application/vnd.sdmx.data+csv;version=2.0.0;labels=both"},
    )
    assert both.status_code == 200
    assert both.headers["content-type"].startswith("application/vnd.sdmx.data+csv; version=2.0.0; labels=both")
    header, row = list(csv.reader(io.StringIO(both.text)))[:2]
    cells = dict(zip(header, row, strict=True))
    assert any(h.startswith("SEX: ") for h in header)
    sex = next(v for h, v in cells.items() if h.startswith("SEX"))
    assert sex == "F: Female"
    refused = client.get(
        f"/sdmx/v1/data/DF_LNOB/{KEN_PWD_NAIROBI}",
        headers={"Accept": "application/vnd.sdmx.data+csv;version=1.0.0;labels=name"},
    )
    assert refused.status_code == 406
