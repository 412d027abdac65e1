"""Streaming data writers by format key (the keys of ``api.data.DATA_OPTIONS``).

:func:`write_message` writes one message holding one or more data sets (a plain query: one ``Information``
data set; updatedAfter: ``Replace`` + ``Delete``; includeHistory: ``Replace`` and ``Delete`` per release).
It checks everything before returning the stream: a message it cannot write raises at once, so the API can
answer with an error status instead of a broken body. :class:`UnrepresentableMessage` (a ValueError) means
the format cannot carry the message and another one can (SDMX-CSV 1.0 has no ACTION column: HTTP 406); any
other ValueError is a programming error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from exchange.formats import data_csv, data_json, data_ml21, data_ml30
from exchange.formats.data_csv import UnrepresentableMessage
from exchange.formats.data_message import DataSetInfo, SeriesBlock, WriteOptions

__all__ = ["MESSAGE_WRITERS", "WRITERS", "UnrepresentableMessage", "write_message"]

DataSets = Sequence[tuple[DataSetInfo, Iterable[SeriesBlock]]]
Writer = Callable[[DataSetInfo, Iterable[SeriesBlock], WriteOptions], Iterator[bytes]]
MessageWriter = Callable[[DataSets, WriteOptions], Iterator[bytes]]

WRITERS: dict[str, Writer] = {
    "generic21": data_ml21.write_generic,
    "generic21ts": data_ml21.write_generic_time_series,
    "ss21": data_ml21.write_structure_specific,
    "ss21ts": data_ml21.write_structure_specific_time_series,
    "ml30": data_ml30.write_structure_specific,
    "json10": data_json.write_json_10,
    "json20": data_json.write_json_20,
    "csv10": data_csv.write_csv_10,
    "csv20": data_csv.write_csv_20,
}
"""Single-data-set writers."""

MESSAGE_WRITERS: dict[str, MessageWriter] = {
    "generic21": data_ml21.write_generic_message,
    "generic21ts": data_ml21.write_generic_time_series_message,
    "ss21": data_ml21.write_structure_specific_message,
    "ss21ts": data_ml21.write_structure_specific_time_series_message,
    "ml30": data_ml30.write_structure_specific_message,
    "json10": data_json.write_json_10_message,
    "json20": data_json.write_json_20_message,
    "csv10": data_csv.write_csv_10_message,
    "csv20": data_csv.write_csv_20_message,
}
"""Writers of messages holding one or more data sets."""


def write_message(key: str, datasets: DataSets, options: WriteOptions) -> Iterator[bytes]:
    """One message holding the data sets, in order, in the format ``key``.

    The data sets must share the dataflow, the structure and the dimension layout; the header (message id,
    preparation time, sender) comes from the first. Raises :class:`UnrepresentableMessage` when the format
    cannot carry them (SDMX-CSV 1.0: several data sets or an action other than ``Information``), ValueError
    for no data set or data sets that do not fit in one message.
    """
    if not datasets:
        raise ValueError("a data message needs at least one data set")
    first = datasets[0][0]
    layout = (first.dataflow.urn, first.structure.urn, first.series_dimensions, first.observation_dimensions)
    for info, _ in datasets[1:]:
        if (info.dataflow.urn, info.structure.urn, info.series_dimensions, info.observation_dimensions) != layout:
            raise ValueError("the data sets of one message must share the dataflow, structure and dimension layout")
    return MESSAGE_WRITERS[key](datasets, options)
