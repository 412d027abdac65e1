"""Partial-key, wildcard and time-range queries are answered through indexes, not table scans.

The demo data (56,000 observations) are loaded and statistics gathered so the planners see realistic
selectivities; bench/query_plans.py shows the same plans on 10 million observations.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite

from exchange.db import get_engine, session_scope
from exchange.demo import load_demo
from exchange.store.queries import matching_series, observations_in_snapshot
from exchange.store.schema import Dataset


@pytest.fixture(scope="module")
def engine(db_url: str):  # type: ignore[no-untyped-def]
    engine = get_engine(db_url)
    load_demo(engine)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return engine


def explain(engine, query) -> str:  # type: ignore[no-untyped-def]
    dialect = postgresql.dialect() if engine.dialect.name == "postgresql" else sqlite.dialect()
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))
        rows = conn.execute(text(prefix + sql)).all()
    return "\n".join(str(row[-1]) for row in rows)


def demo_datasets(engine) -> list[int]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return list(session.scalars(select(Dataset.id).where(Dataset.dataflow_id == "DF_LNOB")))


def test_partial_key_uses_the_series_dimension_index(engine) -> None:
    # SERIES=SI_COV_DISAB (position 2), SEX=F or M (position 4), POP_GROUP=PWD (position 15); rest wildcards.
    query = matching_series(demo_datasets(engine), {2: ["SI_COV_DISAB"], 4: ["F", "M"], 15: ["PWD"]}, 17)
    plan = explain(engine, query)
    assert "ix_series_dimension_lookup" in plan, plan
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    assert rows and all(".SI_COV_DISAB." in r.series_key and ".PWD." in r.series_key for r in rows)


def test_time_range_reads_observations_by_series_index(engine) -> None:
    with engine.connect() as conn:
        series_ids = [r.id for r in conn.execute(matching_series(demo_datasets(engine), {2: ["SE_TOT_CPLR"]}, 17))]
    query = observations_in_snapshot(series_ids[:50], release=1, start=datetime(2020, 1, 1), end=datetime(2023, 1, 1))
    plan = explain(engine, query)
    assert "ix_observation_series" in plan, plan
    assert "SCAN observation" not in plan and "Seq Scan on observation" not in plan
    with engine.connect() as conn:
        periods = {r.time_period for r in conn.execute(query)}
    assert periods == {"2020", "2021", "2022"}
