"""A harvester's session with sdmx1's ``sdmx.Client`` against the running server (uvicorn).

List dataflows, read the DSD, fetch data by key and period, then — after a new release — fetch only the
change with updatedAfter.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sdmx

from exchange.db import get_engine
from exchange.demo import load_demo
from tests.test_load import voices
from tests.test_sdmx_client import server  # noqa: F401  (fixture)

KEY = "A.N.SP_ACS_BSRVSAN.524.F._T._T._T._T._T._T._T._T._T._T.NP_DALIT.NP-P2"


@pytest.fixture(scope="module")
def demo_db(db_url: str) -> str:
    load_demo(get_engine(db_url))
    return db_url


@pytest.fixture(scope="module")
def harvester(demo_db: str, server: str) -> sdmx.Client:  # noqa: F811
    sdmx.add_source(
        {"id": "VOICES_H", "name": "Voices Exchange (harvest)", "url": f"{server}/sdmx/v1",
         "supports": {"preview": False}},
        override=True,
    )
    return sdmx.Client("VOICES_H")


def to_series(message) -> dict[tuple[str, ...], float]:  # type: ignore[no-untyped-def]
    """Observation index (dimension values, TIME_PERIOD, …) → value, as sdmx1's pandas view has them."""
    data = sdmx.to_pandas(message.data[0])
    return {tuple(str(k) for k in index): float(value) for index, value in data.items()}


def test_harvest_then_fetch_only_the_change(harvester: sdmx.Client, demo_db: str, tmp_path: Path) -> None:
    flows = harvester.dataflow(agency_id="all")
    assert "DF_LNOB" in flows.dataflow
    structure = harvester.datastructure("DSD_LNOB", agency_id="LNOB", params={"references": "children"})
    dsd = structure.structure["DSD_LNOB"]
    assert dsd.dimensions.get("POP_GROUP").local_representation.enumerated.id == "CL_POP_GROUP"

    message = harvester.data("DF_LNOB", key=KEY, params={"startPeriod": "2020", "endPeriod": "2023"}, dsd=dsd)
    values = to_series(message)
    assert len(values) == 4
    assert all(0 <= v <= 100 for v in values.values() if v == v)

    before = datetime.now(UTC)
    time.sleep(1.1)
    header = ("DATAFLOW,FREQ,REPORTING_TYPE,SERIES,REF_AREA,SEX,AGE,URBANISATION,INCOME_WEALTH_QUANTILE,"
              "EDUCATION_LEV,OCCUPATION,CUST_BREAKDOWN,COMPOSITE_BREAKDOWN,DISABILITY_STATUS,ACTIVITY,PRODUCT,"
              "POP_GROUP,SUBNATIONAL,TIME_PERIOD,OBS_VALUE,OBS_STATUS,UNIT_MULT,UNIT_MEASURE")
    update = tmp_path / "revision.csv"
    update.write_text(f"{header}\nLNOB:DF_LNOB(1.0),{KEY.replace('.', ',')},2022,41.5,A,0,PT\n")
    loaded = voices(demo_db, "load", str(update), "--dataflow", "DF_LNOB", "--provider", "NPL", "--action", "merge")
    assert loaded.returncode == 0, loaded.stderr

    delta = harvester.data("DF_LNOB", params={"updatedAfter": before.isoformat()}, dsd=dsd)
    changes = to_series(delta)
    assert list(changes.values()) == [41.5]
    index = next(iter(changes))
    assert "2022" in index and "NP_DALIT" in index and "NP-P2" in index
