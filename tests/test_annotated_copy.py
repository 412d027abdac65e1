"""Annotated copies of refused uploads: the user's rows plus what is wrong, never executable formulas."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from tests.test_uploads_api import HEADER, KEY, csv_body

SPEC = """spec_version: 1
id: test-annotated
version: "1.0"
dataflow: LNOB:DF_LNOB(1.0)
constants: {FREQ: A, REPORTING_TYPE: N, SERIES: SI_COV_DISAB, REF_AREA: "404", UNIT_MEASURE: PT, UNIT_MULT: "0",
            OBS_STATUS: A, NATURE: CG, POP_GROUP: PWD, SUBNATIONAL: KE-30}
columns:
  Jinsia: {component: SEX, codes: {Mwanamke: F, Mwanaume: M}}
  Mwaka: {component: TIME_PERIOD}
  Asilimia: {component: OBS_VALUE, transform: {percent: true}}
defaults: _T
"""


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sdmx_csv_upload_annotated(client, make_token) -> None:
    token = make_token(role="coalition", provider="KEN", name="ken-annotate")
    body = csv_body(f"{KEY},2020,31.5,A,0,PT,CG", f"{KEY.replace(',F,', ',X,')},2021,=1+2,A,0,PT,CG")
    refused = client.post(
        "/api/v1/uploads", params={"dataflow": "DF_LNOB", "filename": "k.csv"}, content=body, headers=auth(token)
    )
    assert refused.status_code == 422
    upload = refused.json()["upload"]
    copy = client.get(f"/api/v1/uploads/{upload}/annotated", headers=auth(token))
    assert copy.status_code == 200
    assert copy.headers["content-disposition"] == 'attachment; filename="k-annotated.csv"'
    rows = list(csv.reader(io.StringIO(copy.content.decode("utf-8-sig"))))
    assert rows[0] == [*HEADER.split(","), "Problems (Voices Exchange)"]
    assert rows[1][-1] == ""
    assert "SEX" in rows[2][-1] and "'X'" in rows[2][-1]
    assert "'=1+2" in rows[2]  # neutralised formula text
    xlsx = client.get(f"/api/v1/uploads/{upload}/annotated", params={"format": "xlsx"}, headers=auth(token))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[2][-1] == rows[2][-1]
    assert all(not str(v).startswith("=") for row in values for v in row if v is not None)
    other = make_token(role="coalition", provider="NPL", name="npl-annotate")
    assert client.get(f"/api/v1/uploads/{upload}/annotated", headers=auth(other)).status_code == 403


def test_mapped_table_upload_annotated(client, make_token) -> None:
    token = make_token(role="coalition", provider="KEN", name="ken-table")
    table = b"Jinsia,Mwaka,Asilimia\nMwanamke,2020,45%\nMwanamme,2021,47%\n"
    files = {"file": ("survey.csv", table, "text/csv"), "spec": ("spec.yaml", SPEC.encode(), "application/yaml")}
    refused = client.post("/api/v1/uploads", files=files, headers=auth(token))
    assert refused.status_code == 422, refused.text
    problems = refused.json()["report"]["problems"]
    label = next(p for p in problems if p["rule"] == "unmapped-label")
    assert label["location"]["row"] == 3 and "Mwanamme" in label["message"]
    copy = client.get(f"/api/v1/uploads/{refused.json()['upload']}/annotated", headers=auth(token))
    rows = list(csv.reader(io.StringIO(copy.content.decode("utf-8-sig"))))
    assert rows[1][-1] == "" and "Mwanamme" in rows[2][-1]
    fixed = table.replace(b"Mwanamme", b"Mwanaume")
    files["file"] = ("survey.csv", fixed, "text/csv")
    stored = client.post("/api/v1/uploads", files=files, headers=auth(token))
    assert stored.status_code == 201, stored.text
    assert stored.json()["report"]["observations"] == 2
