"""Coalition uploads over HTTP: tokens and providers, drafts and publication, reports, duplicates."""

from __future__ import annotations

from sqlalchemy import func, select

from exchange.db import get_engine, session_scope
from exchange.store.schema import AuditEntry, Observation, Release
from tests.conftest import SDG_SAMPLES

HEADER = (
    "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REPORTING_TYPE,SERIES,REF_AREA,SEX,AGE,URBANISATION,"
    "INCOME_WEALTH_QUANTILE,EDUCATION_LEV,OCCUPATION,CUST_BREAKDOWN,COMPOSITE_BREAKDOWN,DISABILITY_STATUS,"
    "ACTIVITY,PRODUCT,POP_GROUP,SUBNATIONAL,TIME_PERIOD,OBS_VALUE,OBS_STATUS,UNIT_MULT,UNIT_MEASURE,NATURE"
)
KEY = "A,N,SI_COV_DISAB,404,F,_T,_T,_T,_T,_T,_T,_T,PD,_T,_T,PWD,KE-30"


def csv_body(*rows: str) -> bytes:
    return ("\n".join([HEADER, *(f"dataflow,LNOB:DF_LNOB(1.0),I,{r}" for r in rows)]) + "\n").encode()


def counts(settings) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with session_scope(get_engine(settings.db_url)) as session:
        return (
            session.scalar(select(func.count()).select_from(Release)),
            session.scalar(select(func.count()).select_from(Observation)),
        )


def upload(client, token: str | None, body: bytes, **params: str):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "text/csv"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(
        "/api/v1/uploads", params={"dataflow": "LNOB:DF_LNOB(1.0)", **params}, content=body, headers=headers
    )


def test_tokens_and_providers(client, settings, make_token) -> None:
    body = csv_body(f"{KEY},2020,31.5,A,0,PT,CG")
    before = counts(settings)
    assert upload(client, None, body).status_code == 401
    assert upload(client, make_token(role="nso", name="nso"), body).status_code == 403
    kenya = make_token(role="coalition", provider="KEN", name="ken")
    response = upload(client, kenya, body, provider="LNOB:NPL")
    assert response.status_code == 403
    assert "LNOB:KEN only" in response.json()["errors"][0]["detail"]
    assert upload(client, make_token(), body).status_code == 400  # admin must name the provider
    assert counts(settings) == before


def test_draft_then_publish(client, settings, make_token) -> None:
    token = make_token(role="coalition", provider="KEN", name="ken-publisher")
    stored = upload(
        client, token, csv_body(f"{KEY},2021,33.0,A,0,PT,CG", f"{KEY},2022,,L,0,PT,CG"), filename="kenya.csv"
    )
    assert stored.status_code == 201, stored.text
    result = stored.json()
    assert result["status"] == "stored" and result["release_status"] == "draft"
    number = result["release"]
    path = "/sdmx/v1/data/DF_LNOB/" + KEY.replace(",", ".") + "/KEN"
    assert client.get(path).status_code == 404  # drafts are invisible to anonymous users
    published = client.post(
        f"/api/v1/releases/DF_LNOB/KEN/{number}/publish", headers={"Authorization": f"Bearer {token}"}
    )
    assert published.status_code == 200, published.text
    assert client.get(path).status_code == 200
    again = client.post(f"/api/v1/releases/DF_LNOB/KEN/{number}/publish", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 409
    listing = client.get("/api/v1/releases/DF_LNOB/KEN", headers={"Authorization": f"Bearer {token}"}).json()
    assert listing["releases"][0]["number"] == number and listing["releases"][0]["source"] == "kenya.csv"
    with session_scope(get_engine(settings.db_url)) as session:
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.actor.like("%ken-publisher"))))
    assert {"load-data", "publish"} <= actions


def test_publishing_out_of_order_is_refused(client, make_token) -> None:
    token = make_token(role="coalition", provider="MWI", name="mwi")
    key = KEY.replace("404", "454").replace("KE-30", "_T").replace("PWD", "MW_ALBINISM").replace(",PD,", ",_T,")
    first = upload(client, token, csv_body(f"{key},2020,20.0,A,0,PT,CG")).json()["release"]
    second = upload(client, token, csv_body(f"{key},2020,21.0,A,0,PT,CG")).json()["release"]
    response = client.post(
        f"/api/v1/releases/DF_LNOB/MWI/{second}/publish", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 409
    assert f"draft release(s) {first}" in response.text


def test_dry_run_and_invalid_uploads_store_nothing(client, settings, make_token) -> None:
    token = make_token(role="coalition", provider="KEN", name="ken-dry")
    before = counts(settings)
    dry = upload(client, token, csv_body(f"{KEY},2023,35.0,A,0,PT,CG"), dry_run="true")
    assert dry.status_code == 200 and dry.json()["status"] == "validated"
    assert dry.json()["preview"][0]["OBS_VALUE"] == "35.0"
    bad = upload(
        client,
        token,
        csv_body(f"{KEY.replace(',F,', ',Female,')},2023,35.0,A,0,PT,CG", f"{KEY},2023-Q1,36.0,A,0,PT,CG"),
    )
    assert bad.status_code == 422
    problems = bad.json()["report"]["problems"]
    sex = next(p for p in problems if p["component"] == "SEX")
    assert sex["location"]["row"] == 1 and "F" in sex["hint"]
    assert any(p["rule"] == "time-frequency" and p["location"]["row"] == 2 for p in problems)
    unreadable = upload(client, token, b"<not-sdmx>")
    assert unreadable.status_code == 400
    too_big = upload(client, token, b"x" * (6 * 1024 * 1024))
    assert too_big.status_code == 413
    assert counts(settings) == before
    report = client.get(f"/api/v1/uploads/{bad.json()['upload']}", headers={"Authorization": f"Bearer {token}"})
    assert report.status_code == 200 and report.json()["status"] == "refused"
    other = make_token(role="coalition", provider="NPL", name="npl-reader")
    assert (
        client.get(f"/api/v1/uploads/{bad.json()['upload']}", headers={"Authorization": f"Bearer {other}"}).status_code
        == 403
    )


def test_identical_reupload_creates_no_release(client, settings, make_token) -> None:
    token = make_token(role="coalition", provider="DNK", name="dnk")
    body = (SDG_SAMPLES / "sample_structspecific_SDG1.8_1-1-1.xml").read_bytes()
    params = {"dataflow": "IAEG-SDGs:DF_SDG_GLC(1.22)"}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
    first = client.post("/api/v1/uploads", params=params, content=body, headers=headers)
    assert first.status_code == 201, first.text
    before = counts(settings)
    second = client.post("/api/v1/uploads", params=params, content=body, headers=headers)
    assert second.status_code == 200
    assert second.json()["status"] == "duplicate" and second.json()["release"] == first.json()["release"]
    assert counts(settings) == before
