"""What the data query engine hands to the streaming data writers.

The engine yields :class:`SeriesBlock` objects, one per series, already grouped by the dimensions that
stay at series level; attribute values arrive as the canonical JSON strings stored in the database
(``{"OBS_STATUS":"A","UNIT_MULT":"0"}``), so writers can render each distinct attribute set once and
reuse it (the same few combinations repeat across millions of observations).

Writers are generators of ``bytes`` chunks: ``write(info, blocks, options) -> Iterator[bytes]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from exchange.structures.model import Dataflow, DataStructure

Detail = Literal["full", "dataonly", "serieskeysonly", "nodata"]
ObservationRow = tuple[tuple[str, ...], float | None, str | None]
"""(values of the observation-level dimensions, OBS_VALUE or None, observation attributes JSON or None)."""


@dataclass(slots=True)
class SeriesBlock:
    """One series: its key, its series-level attributes and its observations in order."""

    key: tuple[str, ...]
    """Codes of :attr:`DataSetInfo.series_dimensions`, in that order."""
    attributes: str | None
    """Series-level attributes as canonical JSON, or None."""
    observations: list[ObservationRow] = field(default_factory=list)


@dataclass(slots=True)
class DataSetInfo:
    """Everything about the data set a writer needs besides the series."""

    dataflow: Dataflow
    structure: DataStructure
    series_dimensions: tuple[str, ...]
    """Dimension ids at series level, in DSD order (empty for ``AllDimensions``)."""
    observation_dimensions: tuple[str, ...] = ("TIME_PERIOD",)
    """Dimension ids at observation level: ``("TIME_PERIOD",)`` normally, one other dimension for
    ``dimensionAtObservation=X`` (then TIME_PERIOD is among the series dimensions), or every dimension
    including TIME_PERIOD for ``AllDimensions``."""
    dataset_attributes: dict[str, str] = field(default_factory=dict)
    provider: tuple[str, str] | None = None
    """(agency, id) of the data provider when the data come from a single provider."""
    action: str = "Information"
    message_id: str = "IREF000000"
    prepared: datetime | None = None
    """Timezone-aware preparation time of the message."""
    sender: str = "LNOB"
    reporting_begin: str | None = None
    reporting_end: str | None = None
    valid_from: str | None = None
    """ISO 8601 date-time from which the data set's values are valid (includeHistory ``Replace`` sets)."""
    valid_to: str | None = None
    """ISO 8601 date-time until which the data set's values were valid (``Delete`` sets)."""


@dataclass(slots=True)
class WriteOptions:
    """Query options that change what a writer emits."""

    detail: Detail = "full"
    """``dataonly``: no attributes; ``serieskeysonly``: series keys only, no observations or attributes;
    ``nodata``: series keys and attributes, no observations."""
    labels: Literal["id", "both", "name"] = "id"
    """SDMX-CSV only: ids, ``id: name`` cells, or names."""
    time_format: Literal["original", "normalized"] = "original"
    """SDMX-CSV only: TIME_PERIOD as stored, or normalised to ISO 8601 date-times."""
    language: str = "en"
    label: Callable[[str, str], str] | None = None
    """``label(component_id, code) -> name`` for labels=both/name (None: ids only)."""
    attributes: tuple[str, ...] | None = None
    """REST 2.x ``attributes=``: only these attribute ids (None: all, per ``detail``)."""
    measures: bool = True
    """REST 2.x ``measures=none`` sets this to False."""
