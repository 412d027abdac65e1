"""A realistic, synthetic demo dataset: one published release per coalition in LNOB:DF_LNOB(1.0).

The figures are invented (no public machine-readable community datasets exist) but shaped like the
pilots' (BRIEF §5): the groups each coalition works with, sub-national areas for Kenya and Nepal,
percentages with gaps against the national total, missing values that were not collected, and small
bases flagged as low reliability. Every record goes through the same validation as an upload.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select

from exchange.db import session_scope
from exchange.formats.records import DataMessage, Location, ObservationRecord
from exchange.ingest import store_validated
from exchange.store.releases import ReleaseSource
from exchange.store.schema import Dataset, Release
from exchange.structures.model import Ref
from exchange.structures.store import load_registry
from exchange.validation.validator import Validator

DEMO_FLOW = Ref("dataflow", "LNOB", "DF_LNOB", "1.0")
YEARS = [str(y) for y in range(2016, 2026)]
UNITS = {"SH_ACS_UNHC": "IX"}
"""UNIT_MEASURE per series where it is not a percentage (the UHC service coverage index)."""
KENYA_COUNTIES = ["_T"] + [f"KE-{n:02d}" for n in range(1, 48)]
NEPAL_PROVINCES = ["_T"] + [f"NP-P{n}" for n in range(1, 8)]


@dataclass(frozen=True)
class Coalition:
    provider: str
    ref_area: str
    series: dict[str, float]
    """SERIES code → national level (percent) around which the figures vary."""
    groups: dict[str, float]
    """POP_GROUP code → gap in percentage points against the total."""
    areas: list[str] = field(default_factory=lambda: ["_T"])
    ages: list[str] = field(default_factory=lambda: ["_T"])
    urbanisation: list[str] = field(default_factory=lambda: ["_T"])
    quarterly: list[str] = field(default_factory=list)
    source: str = ""


COALITIONS = [
    Coalition(
        "KEN",
        "404",
        {"SI_COV_DISAB": 22, "SP_ACS_BSRVH2O": 61, "SE_TOT_CPLR": 78, "EN_LND_SLUM": 47},
        {"_T": 0, "PWD": -14, "YOUTH": -6, "KE_SLUM": -11},
        areas=KENYA_COUNTIES,
        ages=["_T", "Y15T24"],
        source="Kenya LNOB coalition household survey of persons with disabilities, youth and slum dwellers",
    ),
    Coalition(
        "NPL",
        "524",
        {"SH_ACS_UNHC": 53, "SE_TOT_CPLR": 71, "SP_ACS_BSRVSAN": 62},
        {"_T": 0, "NP_DALIT": -17, "NP_MADHESI": -9, "NP_JANAJATI": -7, "LGBTIQ": -12},
        areas=NEPAL_PROVINCES,
        source="Nepal ward-level community scorecards (community, official and agreed scores)",
    ),
    Coalition(
        "IND",
        "356",
        {"SP_ACS_BSRVH2O": 88, "SP_ACS_BSRVSAN": 59, "SG_REG_BRTH": 80, "IT_MOB_OWN": 54},
        {"_T": 0, "IN_SC": -12, "IN_ST": -18, "IN_NT": -25, "IN_TG": -20, "IN_BONDED": -30},
        ages=["_T", "Y15T24", "Y_GE60"],
        source="India 1,000-household mobile survey in 10 hotspots",
    ),
    Coalition(
        "BGD",
        "50",
        {"SH_ACS_UNHC": 51, "SP_ACS_BSRVH2O": 97, "SP_ACS_BSRVSAN": 64, "SG_REG_BRTH": 56},
        {"_T": 0, "BD_DALIT": -15, "BD_STREET": -33, "BD_TG": -24, "BD_SEXWORK": -21},
        urbanisation=["_T", "U", "R"],
        source="Bangladesh service-access community scorecards",
    ),
    Coalition(
        "VNM",
        "704",
        {"SP_ACS_BSRVSAN": 84, "SE_TOT_CPLR": 86, "IT_MOB_OWN": 72, "EG_ACS_ELEC": 99},
        {
            "_T": 0,
            "VN_EM": -10,
            "VN_HMONG": -28,
            "VN_KHMER": -12,
            "VN_DAO": -19,
            "VN_TAY": -6,
            "VN_THAI": -9,
            "VN_MUONG": -8,
        },
        source="Viet Nam survey of 3,100 ethnic-minority participants",
    ),
    Coalition(
        "MWI",
        "454",
        {"SE_TOT_CPLR": 51, "SI_COV_SOCAST": 27, "SP_ACS_BSRVH2O": 70},
        {"_T": 0, "MW_ALBINISM": -19, "MW_REFUGEE": -23},
        urbanisation=["_T", "U", "R"],
        source="Malawi community survey of persons with albinism and refugees",
    ),
    Coalition(
        "DNK",
        "208",
        {"IT_MOB_OWN": 97, "SI_COV_SOCAST": 93},
        {"_T": 0, "DK_OLDER_ALONE": -21, "DK_REFUGEE": -8},
        ages=["_T", "Y_GE65"],
        quarterly=["IT_MOB_OWN"],
        source="Denmark panel of older people living alone and refugees",
    ),
]


def demo_records(coalition: Coalition, rng: random.Random) -> Iterator[ObservationRecord]:
    """The coalition's observations, in series order."""
    row = 0
    for series, level in coalition.series.items():
        periods = [f"{y}-Q{q}" for y in YEARS[-6:] for q in range(1, 5)] if series in coalition.quarterly else YEARS
        freq = "Q" if series in coalition.quarterly else "A"
        for area in coalition.areas:
            area_shift = 0.0 if area == "_T" else rng.uniform(-12, 8)
            for group, gap in coalition.groups.items():
                for sex in ("_T", "F", "M"):
                    sex_shift = {"_T": 0.0, "F": -2.5, "M": 2.0}[sex]
                    for age in coalition.ages:
                        for urban in coalition.urbanisation:
                            key = {
                                "FREQ": freq,
                                "REPORTING_TYPE": "N",
                                "SERIES": series,
                                "REF_AREA": coalition.ref_area,
                                "SEX": sex,
                                "AGE": age,
                                "URBANISATION": urban,
                                "INCOME_WEALTH_QUANTILE": "_T",
                                "EDUCATION_LEV": "_T",
                                "OCCUPATION": "_T",
                                "CUST_BREAKDOWN": "_T",
                                "COMPOSITE_BREAKDOWN": "_T",
                                "DISABILITY_STATUS": "PD" if group == "PWD" else "_T",
                                "ACTIVITY": "_T",
                                "PRODUCT": "_T",
                                "POP_GROUP": group,
                                "SUBNATIONAL": area,
                            }
                            base = level + gap + area_shift + sex_shift
                            for index, period in enumerate(periods):
                                row += 1
                                yield _observation(
                                    key, period, base + index * 0.6, group, rng, coalition, row, UNITS.get(series, "PT")
                                )


def _observation(
    key: dict[str, str],
    period: str,
    mean: float,
    group: str,
    rng: random.Random,
    coalition: Coalition,
    row: int,
    unit: str,
) -> ObservationRecord:
    sample = rng.randint(30, 900) if group != "_T" else rng.randint(400, 3000)
    attrs = {
        "UNIT_MULT": "0",
        "NATURE": "CG",
        "SAMPLE_SIZE": str(sample),
        "CONF_STATUS": "F",
        "SOURCE_DETAIL": coalition.source,
    }
    if rng.random() < 0.03:
        return ObservationRecord(
            key,
            period,
            None,
            {**attrs, "OBS_STATUS": "L", "COMMENT_OBS": "Not collected in this round"},
            {"UNIT_MEASURE": unit},
            Location(row=row),
        )
    status = "U" if sample < 50 else "A"
    value = round(min(100.0, max(0.0, mean + rng.gauss(0, 2.5))), 1)
    return ObservationRecord(
        key, period, str(value), {**attrs, "OBS_STATUS": status}, {"UNIT_MEASURE": unit}, Location(row=row)
    )


def load_demo(engine: Engine, seed: int = 2030) -> str:
    """Load every coalition's demo release that is not loaded yet; returns a summary."""
    with session_scope(engine) as session:
        registry = load_registry(session)
    validator = Validator(registry, registry.dataflow(DEMO_FLOW))
    rng = random.Random(seed)
    lines: list[str] = []
    total = 0
    for coalition in COALITIONS:
        records = list(demo_records(coalition, rng))
        if _has_release(engine, coalition.provider):
            lines.append(f"{coalition.provider}: demo release already loaded")
            continue
        validated = validator.validate(DataMessage(iter(records), format="demo"))
        result = store_validated(
            engine,
            validated,
            provider=("LNOB", coalition.provider),
            action="replace",
            publish=True,
            source=ReleaseSource(name="demo", format="demo", created_by="demo"),
        )
        total += validated.report.observations
        lines.append(
            f"{coalition.provider}: release {result.release_number}, {validated.report.observations} "
            f"observations in {result.series} series"
        )
    lines.append(f"Demo data: {total} observations loaded into {DEMO_FLOW}")
    return "\n".join(lines)


def _has_release(engine: Engine, provider: str) -> bool:
    with session_scope(engine) as session:
        count = session.scalar(
            select(func.count(Release.id))
            .join(Dataset, Dataset.id == Release.dataset_id)
            .where(Dataset.dataflow_id == DEMO_FLOW.id, Dataset.provider_id == provider)
        )
    return bool(count)
