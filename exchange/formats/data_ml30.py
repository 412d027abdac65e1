"""Streaming SDMX-ML 3.0 StructureSpecificData writer (shared machinery in :mod:`data_ml`).

The body is that of SDMX-ML 2.1 structure-specific data; references (dataflow, data provider) are URNs and
the data set has no ``dataScope``. ``data_provider=True`` adds the DataProvider (off by default: sdmx1 2.28
cannot read data messages holding one). ``write_structure_specific_message`` writes several data sets in one
message, as SDMX-ML 2.1 does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from exchange.formats.data_message import DataSetInfo, SeriesBlock, WriteOptions
from exchange.formats.data_ml import (
    DataSets,
    Plan,
    chunked,
    document,
    escape,
    header,
    plans,
    provider_urn,
    set_attributes,
    structure_id,
    structure_namespace,
    structure_specific_series,
    xml_attributes,
)

STRUCTURE_SPECIFIC = "application/vnd.sdmx.data+xml;version=3.0.0"

_NS = "http://www.sdmx.org/resources/sdmxml/schemas/v3_0"


def write_structure_specific(
    info: DataSetInfo, blocks: Iterable[SeriesBlock], options: WriteOptions, *, data_provider: bool = False
) -> Iterator[bytes]:
    """SDMX-ML 3.0 StructureSpecificData (:data:`STRUCTURE_SPECIFIC`): any dimension at observation level,
    or AllDimensions."""
    return write_structure_specific_message([(info, blocks)], options, data_provider=data_provider)


def write_structure_specific_message(
    datasets: DataSets, options: WriteOptions, *, data_provider: bool = False
) -> Iterator[bytes]:
    """:func:`write_structure_specific` for a message of one or more data sets (header from the first)."""
    found = plans(datasets, options)
    info, plan = datasets[0][0], found[0]
    namespace = structure_namespace(info, plan)
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?><message:StructureSpecificData xmlns:message="{_NS}/message"'
        f' xmlns:common="{_NS}/common" xmlns:ss="{_NS}/data/structurespecific" xmlns:ns1="{namespace}"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        + header(info, plan, f' namespace="{namespace}"', escape(info.dataflow.urn))
    )

    def opening(info: DataSetInfo, plan: Plan) -> str:
        provider = provider_urn(info) if data_provider else None
        return (
            f'<message:DataSet ss:structureRef="{structure_id(info)}"{set_attributes(info, "ss:")}'
            f' xsi:type="ns1:DataSetType"{xml_attributes(plan.dataset_attributes)}>'
            + (f"<DataProvider>{provider}</DataProvider>" if provider else "")
        )

    sets = ((opening(i, p), structure_specific_series(b, p)) for (i, b), p in zip(datasets, found, strict=True))
    return chunked(document(head, sets, "</message:StructureSpecificData>"))
