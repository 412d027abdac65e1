"""Streaming data writers by format key (the keys of ``api.data.DATA_OPTIONS``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from exchange.formats.data_message import DataSetInfo, SeriesBlock, WriteOptions

Writer = Callable[[DataSetInfo, Iterable[SeriesBlock], WriteOptions], Iterator[bytes]]

WRITERS: dict[str, Writer] = {}
