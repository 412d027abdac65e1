"""Import Open SDG sdg-build's SDMX mapping CSVs as a mapping spec.

sdg-build (``OutputSdmxMl``) renames the columns Year, Value, Units and Series to TIME_PERIOD,
OBS_VALUE, UNIT_MEASURE and SERIES, then applies the column map (``Text,Value``: column → concept
id) and the code map (``Text,Dimension,Value``: label of a component → code); dimensions it has no
value for get ``FREQ=A``, ``REPORTING_TYPE=N`` or ``_T``, attributes ``UNIT_MULT=0``,
``UNIT_MEASURE=NUMBER`` and ``OBS_STATUS=A``, unless the site's ``default_values`` say otherwise.
The imported spec says the same: the four built-in columns plus every column of the column map
(optional, since one map serves every indicator of a site), the code map as shared label maps per
component, and the defaults. Unlike sdg-build, codes that are not in the codelists and rows that do
not map are reported (``apply_mapping``/``check_spec``), not silently dropped.
"""

from __future__ import annotations

import csv
import io

from mappings.spec import ALL_DIMENSIONS, Column, MappingSpec, SpecError, SpecIssue

BUILT_IN_COLUMNS = {"Year": "TIME_PERIOD", "Value": "OBS_VALUE", "Units": "UNIT_MEASURE", "Series": "SERIES"}
"""Columns sdg-build renames itself; Year and Value must be in every table."""
REQUIRED_COLUMNS = ("Year", "Value")
DEFAULTS = {
    ALL_DIMENSIONS: "_T",
    "FREQ": "A",
    "REPORTING_TYPE": "N",
    "UNIT_MULT": "0",
    "UNIT_MEASURE": "NUMBER",
    "OBS_STATUS": "A",
}
"""sdg-build's own defaults for dimensions and attributes with no value."""


def import_sdg_build(
    column_map_csv: bytes,
    code_map_csv: bytes,
    dataflow: str,
    constants: dict[str, str],
    *,
    spec_id: str = "sdg-build-import",
) -> MappingSpec:
    """A spec equivalent to an sdg-build column map and code map; ``constants`` are its ``default_values``.

    Raises :class:`SpecError` when a file is not an sdg-build map (wrong columns, empty cells).
    """
    column_rows = _read(column_map_csv, "column_map", ("Text", "Value"))
    code_rows = _read(code_map_csv, "code_map", ("Text", "Dimension", "Value"))
    columns = {
        header: Column(component=component, optional=header not in REQUIRED_COLUMNS)
        for header, component in BUILT_IN_COLUMNS.items()
    }
    for row in column_rows:
        columns.setdefault(row["Text"], Column(component=row["Value"], optional=True))
    codes: dict[str, dict[str, str]] = {}
    for row in code_rows:
        codes.setdefault(row["Dimension"], {})[row["Text"]] = row["Value"]
    mapped = {c.component for c in columns.values()}
    defaults = {**DEFAULTS, **{k: v for k, v in constants.items() if k in mapped}}
    fixed = {k: str(v) for k, v in constants.items() if k not in mapped}
    return MappingSpec(
        spec_version=1,
        id=spec_id,
        version="1.0",
        dataflow=dataflow,
        description="Imported from an sdg-build column map and code map",
        constants=fixed,
        columns=columns,
        codes=codes,
        defaults={k: v for k, v in defaults.items() if k not in fixed},
    )


def _read(content: bytes, name: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of an sdg-build map CSV, every cell stripped; every bad row is reported."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError([SpecIssue(name, f"not UTF-8 text: {exc}")]) from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [f for f in fields if f not in (reader.fieldnames or [])]
    if missing:
        raise SpecError([SpecIssue(name, f"expected the columns {', '.join(fields)}; missing {', '.join(missing)}")])
    rows, issues = [], []
    for row in reader:
        values = {f: (row.get(f) or "").strip() for f in fields}
        if not any(values.values()):
            continue
        empty = [f for f in fields if not values[f]]
        if empty:
            issues.append(SpecIssue(f"{name} line {reader.line_num}", f"empty {', '.join(empty)}"))
        rows.append(values)
    if issues:
        raise SpecError(issues)
    return rows
