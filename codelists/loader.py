"""The structure artefacts bundled with the service, and loading them into the registry."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import Session

from exchange.structures.model import Artefact, Ref
from exchange.structures.readers import read_structures
from exchange.structures.registry import Registry
from exchange.structures.series_constraints import read_series_constraints_csv
from exchange.structures.store import SaveResult, save_artefacts
from mappings.global_view import global_view_artefacts

HERE = Path(__file__).parent

BUNDLED_FILES = (
    "sdg/IAEG-SDGs_SDG_1.14_dsd_with_children.xml",
    "sdg/IAEG-SDGs_SDG_MSD_0.3_sdmxml21.xml",
    "sdg/IAEG-SDGs_SDG_MSD_1.0_sdmxml30.xml",
    "sdg/IAEG-SDGs_SDG_MSD_1.0_with_concepts.sdmx-json2.json",
    "partnership/organisations.xml",
    "partnership/codelists.xml",
    "partnership/concepts.xml",
    "partnership/datastructures.xml",
    "partnership/dataflows.xml",
    "partnership/iaeg_sdgs_dataflows.xml",
    "sdg/IAEG-SDGs_CN_SDG_GLC_1.22.sdmx-json2.json",
    "sdg/IAEG-SDGs_CN_SERIES_SDG_GLH_1.22.sdmx-json2.json",
)
"""Loaded in this order; the first copy of an artefact wins. SDG_MSD 1.0 comes from the registry's
SDMX-ML 3.0 export; the SDMX-JSON 2.0 file adds its concept scheme SDG_META_CONCEPTS 1.0 (its own copy of
the MSD, from pysdmx's test samples, points COLL_METHOD at a BIS.MEDIT codelist and is not used)."""

SERIES_CONSTRAINTS = "sdg/sdg-build_sdmx_global_content_constraints.csv"
SERIES_CONSTRAINT_TARGET = Ref("dataflow", "LNOB", "DF_SDG_LNOB", "1.0")


@lru_cache(maxsize=1)
def bundled_artefacts() -> tuple[Artefact, ...]:
    """Every bundled artefact, parsed once per process (the first occurrence wins on duplicates).

    Besides the files: the per-series constraints from sdg-build's CSV and the published mapping from
    the partnership view to the global SDG view (mappings/global_view.py).
    """
    found: dict[Ref, Artefact] = {}
    for name in BUNDLED_FILES:
        for artefact in read_structures((HERE / name).read_bytes()):
            found.setdefault(artefact.ref, artefact)
    series = read_series_constraints_csv((HERE / SERIES_CONSTRAINTS).read_bytes(), attach_to=SERIES_CONSTRAINT_TARGET)
    found.setdefault(series.ref, series)
    for artefact in global_view_artefacts(Registry(found.values())):
        found.setdefault(artefact.ref, artefact)
    return tuple(found.values())


def load_bundled(session: Session) -> SaveResult:
    """Store the bundled structures (idempotent: unchanged artefacts are left as they are)."""
    return save_artefacts(session, list(bundled_artefacts()))
