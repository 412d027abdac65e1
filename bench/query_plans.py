"""Query plans and timings of key queries on a dataflow with 10 million observations (PostgreSQL).

Creates a scratch database, fills one dataset of LNOB:DF_LNOB with synthetic series
(FREQ × SERIES × REF_AREA × SEX × AGE × POP_GROUP × SUBNATIONAL) and 22 annual periods each via COPY,
then prints EXPLAIN ANALYZE for partial-key, wildcard and time-range queries built by
exchange.store.queries, plus the same queries' median times. Writes docs/query-plans.md.

    python bench/query_plans.py [--url postgresql://postgres@127.0.0.1:5432/test] [--observations 10000000]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from exchange.config import Settings
from exchange.store.queries import matching_series, observations_in_snapshot

SERIES = [
    "SI_COV_DISAB",
    "SP_ACS_BSRVH2O",
    "SE_TOT_CPLR",
    "EN_LND_SLUM",
    "SH_ACS_UNHC",
    "SP_ACS_BSRVSAN",
    "SG_REG_BRTH",
    "IT_MOB_OWN",
    "SI_COV_SOCAST",
    "EG_ACS_ELEC",
]
AREAS = ["404", "524", "356", "50", "704", "454", "208"]
SEXES = ["_T", "F", "M"]
AGES = ["_T", "Y15T24", "Y_GE60", "Y_GE65"]
GROUPS = ["_T", "PWD", "YOUTH", "KE_SLUM", "NP_DALIT", "IN_SC", "IN_ST", "BD_STREET", "VN_HMONG", "MW_ALBINISM"]
SUBNATIONAL = ["_T"] + [f"KE-{n:02d}" for n in range(1, 48)] + [f"NP-P{n}" for n in range(1, 8)]
YEARS = list(range(2004, 2026))


def build(url: str, observations: int) -> int:
    """Fill the scratch database; returns the dataset id."""
    from exchange.cli import prepare_database

    prepare_database(Settings(database_url=url))
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    series_needed = observations // len(YEARS)
    keys = [
        ["A", "N", series, area, sex, age, *["_T"] * 9, group, sub]
        for series, area, sex, age, group, sub in itertools.islice(
            itertools.product(SERIES, AREAS, SEXES, AGES, GROUPS, SUBNATIONAL), series_needed
        )
    ]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(
            "INSERT INTO dataset (dataflow_agency, dataflow_id, dataflow_version, provider_agency, provider_id, "
            "created_at) VALUES ('LNOB', 'DF_LNOB', '1.0', 'LNOB', 'KEN', now()) RETURNING id"
        )
        dataset_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO release (dataset_id, number, status, action, created_at, published_at, created_by, "
            "source_name, source_format, source_sha256, observation_count, series_count, dataset_attributes) "
            f"VALUES ({dataset_id}, 1, 'published', 'replace', now(), now(), 'bench', '', '', '', 0, 0, '{{}}')"
        )
        started = time.perf_counter()
        with cursor.copy("COPY series (id, dataset_id, series_key) FROM STDIN") as copy:
            for sid, key in enumerate(keys, start=1):
                copy.write_row((sid, dataset_id, ".".join(key)))
        with cursor.copy("COPY series_dimension (series_id, position, dataset_id, value) FROM STDIN") as copy:
            for sid, key in enumerate(keys, start=1):
                for position, value in enumerate(key):
                    copy.write_row((sid, position, dataset_id, value))
        attrs = '{"OBS_STATUS":"A","UNIT_MULT":"0"}'
        with cursor.copy(
            "COPY observation (series_id, time_period, period_start, period_end, obs_value, attributes, "
            "from_release) FROM STDIN"
        ) as copy:
            for sid in range(1, series_needed + 1):
                for year in YEARS:
                    copy.write_row(
                        (
                            sid,
                            str(year),
                            datetime(year, 1, 1),
                            datetime(year + 1, 1, 1),
                            (sid * 7 + year) % 1000 / 10,
                            attrs,
                            1,
                        )
                    )
        raw.commit()
        print(
            f"loaded {series_needed * len(YEARS):,} observations in {series_needed:,} series "
            f"in {time.perf_counter() - started:.0f} s"
        )
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return dataset_id


def explain(engine, query) -> tuple[str, float]:  # type: ignore[no-untyped-def]
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = "\n".join(r[0] for r in conn.execute(text("EXPLAIN (ANALYZE, COSTS OFF) " + sql)))
        times = []
        for _ in range(7):
            started = time.perf_counter()
            conn.execute(text(sql)).all()
            times.append(time.perf_counter() - started)
    return plan, statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--observations", type=int, default=10_000_000)
    parser.add_argument("--output", type=Path, default=Path("docs/query-plans.md"))
    args = parser.parse_args()
    admin = create_engine(make_url(args.url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    name = f"voices_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.url).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    try:
        dataset = build(url, args.observations)
        engine = create_engine(url)
        with engine.connect() as conn:
            total = conn.execute(text("SELECT count(*) FROM observation")).scalar()
        cases = [
            (
                "One series by full key",
                {
                    0: ["A"],
                    1: ["N"],
                    2: ["SE_TOT_CPLR"],
                    3: ["404"],
                    4: ["F"],
                    5: ["Y15T24"],
                    **{p: ["_T"] for p in range(6, 15)},
                    15: ["PWD"],
                    16: ["KE-30"],
                },
                None,
            ),
            (
                "Partial key: SERIES=SI_COV_DISAB, SEX=F+M, POP_GROUP=PWD, rest wildcard",
                {2: ["SI_COV_DISAB"], 4: ["F", "M"], 15: ["PWD"]},
                None,
            ),
            (
                "Partial key with time range 2020–2022: REF_AREA=524, SUBNATIONAL=NP-P2",
                {3: ["524"], 16: ["NP-P2"]},
                (datetime(2020, 1, 1), datetime(2023, 1, 1)),
            ),
        ]
        lines = [
            "# Key queries on 10 million observations",
            "",
            f"Generated by `python bench/query_plans.py` on PostgreSQL: {total:,} observations in one dataset of",
            "LNOB:DF_LNOB(1.0), 22 annual periods per series. Each query is the two-step plan the service uses:",
            "series through `ix_series_dimension_lookup`, then observations through `ix_observation_series_period`.",
            "Times are medians of 7 runs on the 2-core development machine.",
            "",
        ]
        for title, key, period in cases:
            series_plan, series_ms = explain(engine, matching_series([dataset], key, 17))
            with engine.connect() as conn:
                ids = [r.id for r in conn.execute(matching_series([dataset], key, 17))]
            start, end = period or (None, None)
            obs_plan, obs_ms = explain(engine, observations_in_snapshot(ids, 1, start, end))
            print(f"{title}: {len(ids)} series, series {series_ms:.1f} ms, observations {obs_ms:.1f} ms")
            lines += [
                f"## {title}",
                "",
                f"{len(ids):,} series; median {series_ms:.1f} ms (series) + {obs_ms:.1f} ms (observations).",
                "",
                "```",
                series_plan,
                "```",
                "",
                "```",
                obs_plan,
                "```",
                "",
            ]
        args.output.write_text("\n".join(lines))
        print(f"wrote {args.output}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
