"""``voices load`` accepts SDMX-CSV 1.0/2.0 and SDMX-JSON 1.0/2.0 as well as SDMX-ML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from exchange.db import get_engine, session_scope
from exchange.store.schema import Dataset, Observation, Release, Series
from tests.test_load import GLOBAL_FLOW, voices

DIMS = [
    "FREQ",
    "REPORTING_TYPE",
    "SERIES",
    "REF_AREA",
    "SEX",
    "AGE",
    "URBANISATION",
    "INCOME_WEALTH_QUANTILE",
    "EDUCATION_LEV",
    "OCCUPATION",
    "CUST_BREAKDOWN",
    "COMPOSITE_BREAKDOWN",
    "DISABILITY_STATUS",
    "ACTIVITY",
    "PRODUCT",
]
ROWS = [
    # SEX, TIME_PERIOD, OBS_VALUE, OBS_STATUS, COMMENT_OBS
    ("F", "2021", "45.5", "A", "Wards 5 & 7 — Dalit women's groups; दलित महिला"),
    ("F", "2022", "", "L", "Not collected: ward offices closed"),
    ("M", "2021", "51.25", "A", ""),
]


def key(sex: str) -> list[str]:
    return ["A", "N", "SI_POV_NAHC", "524", sex, *["_T"] * 10]


def csv_message(version: str, separator: str = ",") -> str:
    attrs = ["OBS_STATUS", "UNIT_MULT", "UNIT_MEASURE", "COMMENT_OBS"]
    lead = ["DATAFLOW"] if version == "1.0" else ["STRUCTURE", "STRUCTURE_ID", "ACTION"]
    lines = [separator.join([*lead, *DIMS, "TIME_PERIOD", "OBS_VALUE", *attrs])]
    for sex, period, value, status, comment in ROWS:
        first = [GLOBAL_FLOW] if version == "1.0" else ["dataflow", GLOBAL_FLOW, "I"]
        cells = [*first, *key(sex), period, value, status, "0", "PT", comment]
        lines.append(separator.join(f'"{c}"' if separator in c or '"' in c else c for c in cells))
    return "\n".join(lines) + "\n"


def json_message(version: str) -> str:
    series_dims = [
        {"id": d, "values": [{"id": v} for v in dict.fromkeys(key(s)[i] for s, *_ in ROWS)]} for i, d in enumerate(DIMS)
    ]
    periods = sorted({p for _, p, *_ in ROWS})
    statuses, comments = ["A", "L"], [c for *_, c in ROWS]
    structure = {
        "dimensions": {
            "dataSet": [],
            "series": series_dims,
            "observation": [{"id": "TIME_PERIOD", "values": [{"id": p} for p in periods]}],
        },
        "attributes": {
            "dataSet": [],
            "series": [{"id": "UNIT_MEASURE", "values": [{"id": "PT"}]}],
            "observation": [
                {"id": "OBS_STATUS", "values": [{"id": s} for s in statuses]},
                {"id": "UNIT_MULT", "values": [{"id": "0"}]},
                {"id": "COMMENT_OBS", "values": [{"value": c} for c in comments]},
            ],
        },
    }
    series: dict[str, dict] = {}
    for index, (sex, period, value, status, _comment) in enumerate(ROWS):
        sex_index = 0 if sex == "F" else 1
        series_key = ":".join(["0"] * 4 + [str(sex_index)] + ["0"] * 10)
        entry = series.setdefault(series_key, {"attributes": [0], "observations": {}})
        entry["observations"][str(periods.index(period))] = [
            float(value) if value else None,
            statuses.index(status),
            0,
            index,
        ]
    if version == "1.0":
        structure["dimensions"].pop("dataSet")
        structure["attributes"].pop("dataSet")
        return json.dumps(
            {
                "meta": {"id": "T", "prepared": "2026-01-01T00:00:00Z", "sender": {"id": "LNOB"}},
                "data": {
                    "structure": {"name": "test", **structure},
                    "dataSets": [{"action": "Information", "series": series}],
                },
            },
            ensure_ascii=False,
        )
    structure["measures"] = {"observation": [{"id": "OBS_VALUE"}]}
    return json.dumps(
        {
            "meta": {
                "id": "T",
                "prepared": "2026-01-01T00:00:00Z",
                "sender": {"id": "LNOB"},
                "schema": "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/v2.0.0/data-message/tools/"
                "schemas/2.0.0/sdmx-json-data-schema.json",
            },
            "data": {
                "structures": [structure],
                "dataSets": [{"structure": 0, "action": "Information", "series": series}],
            },
        },
        ensure_ascii=False,
    )


@pytest.mark.parametrize(
    ("name", "content", "provider"),
    [
        ("data.csv", csv_message("1.0"), "KEN"),
        ("data-20.csv", csv_message("2.0"), "NPL"),
        ("data-semicolon.csv", "\ufeff" + csv_message("2.0", ";"), "IND"),
        ("data-10.json", json_message("1.0"), "BGD"),
        ("data-20.json", json_message("2.0"), "VNM"),
    ],
)
def test_csv_and_json_messages_load(db_url: str, tmp_path: Path, name: str, content: str, provider: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = voices(db_url, "load", str(path), "--dataflow", GLOBAL_FLOW, "--provider", provider)
    assert result.returncode == 0, result.stderr
    with session_scope(get_engine(db_url)) as session:
        rows = session.execute(
            select(Series.series_key, Observation.time_period, Observation.obs_value, Observation.attributes)
            .join(Observation, Observation.series_id == Series.id)
            .join(Dataset, Dataset.id == Series.dataset_id)
            .where(Dataset.provider_id == provider)
            .order_by(Series.series_key, Observation.time_period)
        ).all()
        release = session.scalar(select(Release).join(Dataset).where(Dataset.provider_id == provider))
    assert [(r.series_key.split(".")[4], r.time_period, r.obs_value) for r in rows] == [
        ("F", "2021", 45.5),
        ("F", "2022", None),
        ("M", "2021", 51.25),
    ]
    assert "दलित महिला" in rows[0].attributes
    assert release.source_format.startswith(("SDMX-CSV", "SDMX-JSON"))
