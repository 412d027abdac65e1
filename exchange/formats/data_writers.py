"""Streaming data writers by format key (the keys of ``api.data.DATA_OPTIONS``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from exchange.formats.data_message import DataSetInfo, SeriesBlock, WriteOptions

Writer = Callable[[DataSetInfo, Iterable[SeriesBlock], WriteOptions], Iterator[bytes]]

WRITERS: dict[str, Writer] = {}


def write_message(
    key: str, datasets: list[tuple[DataSetInfo, Iterable[SeriesBlock]]], options: WriteOptions
) -> Iterator[bytes]:
    """One message holding the data sets, in the format ``key``."""
    if len(datasets) != 1:
        raise NotImplementedError("multi-dataset messages")
    info, blocks = datasets[0]
    return WRITERS[key](info, blocks, options)
