"""Streaming data writers by format key (the keys of ``api.data.DATA_OPTIONS``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from exchange.formats import data_csv, data_json, data_ml21, data_ml30
from exchange.formats.data_message import DataSetInfo, SeriesBlock, WriteOptions

Writer = Callable[[DataSetInfo, Iterable[SeriesBlock], WriteOptions], Iterator[bytes]]

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


def write_message(
    key: str, datasets: list[tuple[DataSetInfo, Iterable[SeriesBlock]]], options: WriteOptions
) -> Iterator[bytes]:
    """One message holding the data sets, in the format ``key``."""
    if len(datasets) != 1:
        raise NotImplementedError("multi-dataset messages")
    info, blocks = datasets[0]
    return WRITERS[key](info, blocks, options)
