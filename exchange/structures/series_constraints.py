"""sdg-build's per-series global content constraints CSV → an allowed :class:`ContentConstraint`."""

from __future__ import annotations

import csv
import io

from exchange.formats.records import Location, MessageError
from exchange.structures.model import ContentConstraint, CubeRegion, Ref

_IGNORED_COLUMNS = {"SERIES", "Name"}


def read_series_constraints_csv(
    data: bytes,
    agency: str = "LNOB",
    id: str = "CN_SDG_SERIES",
    version: str = "1.0",
    attach_to: Ref | None = None,
) -> ContentConstraint:
    """One include cube region per series row of ``sdmx_global_content_constraints.csv``.

    Each region holds ``SERIES=[code]`` plus every other column (``Name`` excepted) whose cell is not
    ``ALL``: one code or a ``;``-separated list. Empty cells (a few draft rows have nothing but the
    series) are read like ``ALL``: no restriction.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MessageError(f"The series constraints CSV is not UTF-8: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    if "SERIES" not in columns:
        raise MessageError("The series constraints CSV has no SERIES column.", Location(line=1))
    regions = []
    for row_number, row in enumerate(reader, start=1):
        series = (row.get("SERIES") or "").strip()
        if not series:
            raise MessageError("Empty SERIES code.", Location(row=row_number, column="SERIES"))
        members = {"SERIES": [series]}
        for column in columns:
            cell = (row.get(column) or "").strip()
            if column in _IGNORED_COLUMNS or cell in ("", "ALL"):
                continue
            members[column] = [code.strip() for code in cell.split(";") if code.strip()]
        regions.append(CubeRegion(include=True, members=members))
    return ContentConstraint(
        agency=agency,
        id=id,
        version=version,
        name={"en": "SDG series-level content constraints (from sdg-build)"},
        role="allowed",
        attachments=[attach_to] if attach_to else [],
        cube_regions=regions,
    )
