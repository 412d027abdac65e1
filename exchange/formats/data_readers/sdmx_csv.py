"""SDMX-CSV 1.0 and 2.x data messages, read row by row with the csv module.

The delimiter is the character after the first header field (``DATAFLOW`` in 1.0, ``STRUCTURE`` or
``STRUCTURE[x]`` in 2.x), as both specifications define it. UTF-8 with or without BOM. ``labels=both``
cells (``ID: Name``) are cut to the id for dimensions and coded attributes, and ``labels=name`` label
columns are skipped. Every attribute is on every row: it goes where the DSD's attachment says.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from itertools import chain
from operator import itemgetter
from typing import IO, Protocol

from exchange.formats.data_readers._common import (
    DATASET_ATTR,
    KEY,
    MEASURE,
    OBS_ATTR,
    SERIES_ATTR,
    TIME,
    Layout,
    set_dataset_attribute,
    structure_urn,
)
from exchange.formats.records import DataMessage, Location, MessageError, ObservationRecord
from exchange.structures.model import DataStructure

_STANDARD_COLUMNS = {
    "1.0": frozenset({"DATAFLOW"}),
    "2.0": frozenset({"STRUCTURE", "STRUCTURE_ID", "STRUCTURE_NAME", "ACTION", "SERIES_KEY", "OBS_KEY"}),
}
ACTIONS = {"I": "Information", "A": "Append", "R": "Replace", "D": "Delete", "M": "Merge"}
"""SDMX-CSV 2.x action letters."""
_NOT_DELIMITERS = frozenset('_"\r\n[]():.-')


def _sniff(line: str) -> tuple[str, str]:
    """(SDMX-CSV version, delimiter) from the header line."""
    quoted = line.startswith('"')
    body = line[1:] if quoted else line
    for name, version in (("DATAFLOW", "1.0"), ("STRUCTURE", "2.0")):
        if not body.startswith(name):
            continue
        pos = len(name)
        if version == "2.0" and body[pos : pos + 1] == "[":
            pos = body.find("]", pos) + 1
        if quoted and body[pos : pos + 1] == '"':
            pos += 1
        delimiter = body[pos : pos + 1]
        if pos and delimiter and not delimiter.isalnum() and delimiter not in _NOT_DELIMITERS:
            return version, delimiter
    raise MessageError(
        "Not an SDMX-CSV message: the first header field must be DATAFLOW (SDMX-CSV 1.0) or STRUCTURE "
        "(SDMX-CSV 2.x), followed by the delimiter.",
        Location(line=1, row=0),
    )


def _column_id(header: str) -> str:
    """Component id of a header field: drops a ``: Name`` label and a ``[...]`` multi-value suffix."""
    cid = header.partition(": ")[0].strip()
    return cid.partition("[")[0]


class _CsvReader(Protocol):
    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...


def _getter(indexes: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    if len(indexes) > 1:
        return itemgetter(*indexes)
    if indexes:
        i = indexes[0]
        return lambda row: (row[i],)
    return lambda row: ()


class _Columns:
    """What each header column holds."""

    def __init__(self, header: list[str], version: str, layout: Layout) -> None:
        self.count = len(header)
        ids = [_column_id(h) for h in header]
        standard = _STANDARD_COLUMNS[version]
        location = Location(line=1, row=0)
        self.standard: dict[str, int] = {}
        self.components: dict[str, int] = {}
        unknown: list[str] = []
        label_columns: set[int] = set()
        labels_name = "STRUCTURE_NAME" in ids
        for i, cid in enumerate(ids):
            if i in label_columns:
                continue
            if cid in self.standard or cid in self.components:
                raise MessageError(f"Column {cid} appears twice in the header.", Location(line=1, row=0, column=cid))
            if cid in standard:
                self.standard[cid] = i
            elif cid in layout.roles:
                self.components[cid] = i
                if labels_name:
                    label_columns.add(i + 1)
            else:
                unknown.append(header[i])
        if unknown:
            location.column = unknown[0]
            raise layout.unknown(unknown, "Header", location)
        self.labels_both = any(": " in header[i] for i in self.components.values())
        """``labels=both``: coded cells hold ``ID: Name``."""


class _Reader:
    def __init__(self, layout: Layout, version: str, columns: _Columns) -> None:
        self.layout = layout
        self.version = version
        self.columns = columns
        self.structure_id: str | None = None
        self.action: str | None = None
        self.dataset_attributes: dict[str, str] = {}

    def first_row(self, fields: list[str], location: Location) -> None:
        """Structure and action from the first data row; then check the header's dimension columns."""
        std = self.columns.standard
        if self.version == "1.0":
            reference = fields[std["DATAFLOW"]].partition(": ")[0]
            self.structure_id = structure_urn("dataflow", reference, location)
        else:
            if "STRUCTURE_ID" not in std:
                raise MessageError("SDMX-CSV 2.x needs a STRUCTURE_ID column.", Location(line=1, row=0))
            reference = fields[std["STRUCTURE_ID"]].partition(": ")[0]
            self.structure_id = structure_urn(fields[std["STRUCTURE"]], reference, location)
            if "ACTION" in std and fields[std["ACTION"]]:
                letter = fields[std["ACTION"]]
                if letter not in ACTIONS:
                    raise MessageError(
                        f"ACTION '{letter}' is not one of I, A, M, R, D.",
                        Location(location.line, location.row, "ACTION"),
                    )
                self.action = ACTIONS[letter]
        self.check_columns()

    def check_columns(self) -> None:
        """Every dimension needs a column (except in Delete messages, where missing ones are wildcards)."""
        required = [*self.layout.dimension_ids, *([self.layout.time_id] if self.layout.time_id else [])]
        missing = [d for d in required if d not in self.columns.components]
        if missing and self.action != "Delete":
            raise MessageError(
                f"The header has no column for {', '.join(missing)}: every dimension of {self.layout.name} "
                "needs a column (only Delete messages may leave dimensions out).",
                Location(line=1, row=0, column=missing[0]),
            )

    def records(self, reader: _CsvReader) -> Iterator[ObservationRecord]:
        layout, columns = self.layout, self.columns
        by_role: dict[int, list[tuple[str, int]]] = {role: [] for role in range(6)}
        for cid, i in columns.components.items():
            by_role[layout.roles[cid]].append((cid, i))
        key_ids = [c for c, _ in by_role[KEY]]
        series_ids = [c for c, _ in by_role[SERIES_ATTR]]
        # Rows of one series repeat its key and series attributes: build those dicts once per series.
        series_part_get = _getter([i for _, i in by_role[KEY] + by_role[SERIES_ATTR]])
        nkey = len(key_ids)
        obs_ids = [c for c, _ in by_role[OBS_ATTR]]
        obs_get = _getter([i for _, i in by_role[OBS_ATTR]])
        dataset_cols = by_role[DATASET_ATTR]
        time_idx = by_role[TIME][0][1] if by_role[TIME] else None
        value_idx = by_role[MEASURE][0][1] if by_role[MEASURE] else None
        strip = [i for cid, i in columns.components.items() if cid in layout.coded or layout.roles[cid] in (KEY, TIME)]
        strip = strip if columns.labels_both else []
        ident_idx = [
            columns.standard[c] for c in ("DATAFLOW", "STRUCTURE", "STRUCTURE_ID", "ACTION") if c in columns.standard
        ]
        ident_get = _getter(ident_idx)
        ident: tuple[str, ...] | None = None
        ncols = columns.count
        dataset_attributes = self.dataset_attributes
        wildcards = False
        part: tuple[str, ...] | None = None
        key: dict[str, str] = {}
        series: dict[str, str] = {}
        row = 0
        previous_line = 1
        try:
            for fields in reader:
                line = previous_line + 1
                previous_line = reader.line_num + 1
                if len(fields) != ncols:
                    if not fields:
                        continue
                    raise MessageError(
                        f"Row {row + 1} has {len(fields)} fields but the header has {ncols}"
                        f"{' (is a value with the delimiter not quoted?)' if len(fields) > ncols else ''}.",
                        Location(line, row + 1),
                    )
                row += 1
                location = Location(line, row)
                if ident is None:
                    self.first_row(fields, location)
                    ident = ident_get(fields)
                    wildcards = self.action == "Delete"
                elif ident_get(fields) != ident:
                    raise MessageError(
                        f"Row {row} refers to {' '.join(ident_get(fields))} but the first row to "
                        f"{' '.join(ident)}: one message must have one structure and one action.",
                        location,
                    )
                for i in strip:
                    fields[i] = fields[i].partition(": ")[0]
                values = series_part_get(fields)
                if values != part:
                    part = values
                    if wildcards:
                        key = {k: v for k, v in zip(key_ids, values, strict=False) if v}
                    else:
                        key = dict(zip(key_ids, values, strict=False))
                    series = {k: v for k, v in zip(series_ids, values[nkey:], strict=True) if v}
                for cid, i in dataset_cols:
                    if fields[i]:
                        set_dataset_attribute(dataset_attributes, cid, fields[i], location)
                yield ObservationRecord(
                    key.copy(),
                    fields[time_idx] or None if time_idx is not None else None,
                    fields[value_idx] or None if value_idx is not None else None,
                    {k: v for k, v in zip(obs_ids, obs_get(fields), strict=False) if v},
                    series.copy(),
                    location,
                )
            if ident is None:
                self.check_columns()
        except csv.Error as exc:
            raise MessageError(f"Malformed CSV: {exc}.", Location(line=previous_line + 1)) from exc


def _lines(stream: IO[bytes]) -> Iterator[str]:
    """Decoded lines (UTF-8, BOM dropped), so that an encoding error is reported on its own line."""
    for number, raw in enumerate(stream, 1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise MessageError(
                f"Line {number} is not UTF-8 text ({exc.reason} at byte {exc.start + 1}): save the file as CSV UTF-8.",
                Location(line=number),
            ) from exc


def read_sdmx_csv(stream: IO[bytes], dsd: DataStructure) -> DataMessage:
    """Read an SDMX-CSV 1.0 or 2.x data message; the first row is read before returning."""
    lines = _lines(stream)
    header_line = next(lines, "")
    version, delimiter = _sniff(header_line)
    try:
        header = next(csv.reader([header_line], delimiter=delimiter))
    except csv.Error as exc:
        raise MessageError(f"Malformed CSV header: {exc}.", Location(line=1, row=0)) from exc
    layout = Layout(dsd)
    reader = _Reader(layout, version, _Columns(header, version, layout))
    observations = reader.records(csv.reader(lines, delimiter=delimiter))
    first = next(observations, None)
    return DataMessage(
        observations=observations if first is None else chain([first], observations),
        structure_id=reader.structure_id,
        dataset_attributes=reader.dataset_attributes,
        action=reader.action,
        format=f"SDMX-CSV {version}",
    )
