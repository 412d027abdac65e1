"""Format-neutral records that every data-message reader yields and validation consumes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(slots=True)
class Location:
    """Where a record came from in its source file (whatever is known)."""

    line: int | None = None
    """1-based line in a text or XML file."""
    row: int | None = None
    """1-based data row in a CSV (header excluded) or spreadsheet."""
    column: str | None = None

    def describe(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)


@dataclass(slots=True)
class ObservationRecord:
    """One observation as read from a message, before validation.

    ``key`` holds every dimension except the time dimension (dimension id → code); values are the raw
    strings from the file. ``value`` is None when the message carries no measure value.
    """

    key: dict[str, str]
    time_period: str | None
    value: str | None
    obs_attributes: dict[str, str] = field(default_factory=dict)
    series_attributes: dict[str, str] = field(default_factory=dict)
    location: Location = field(default_factory=Location)
    lineage: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Mapped tables only: component → (source column, text as written in the cell or header) it came from."""


@dataclass(slots=True)
class DataMessage:
    """A parsed data message: header facts plus a one-pass iterator of observations."""

    observations: Iterator[ObservationRecord]
    structure_id: str | None = None
    """The structure (dataflow or DSD) the message says it conforms to, as the message names it."""
    dataset_attributes: dict[str, str] = field(default_factory=dict)
    action: str | None = None
    """SDMX dataset action (``Replace``, ``Append``/``Merge``, ``Delete``) when the message states one."""
    format: str = ""


class MessageError(ValueError):
    """A data message cannot be read at all (malformed, wrong format, unsafe)."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.location = location or Location()
