"""Streaming SDMX-ML 2.1 data writers: GenericData, GenericTimeSeriesData, StructureSpecificData and
StructureSpecificTimeSeriesData (shared machinery in :mod:`data_ml`).

The header references the dataflow (``common:StructureUsage``). Structure-specific data sets are typed
``ns1:DataSetType`` (``ns1:TimeSeriesDataSetType`` in time-series messages) in the namespace of the
DSD-specific schema, ``urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=AG:ID(V):ObsLevelDim:<dim>``,
declared on the root and in the header; their dataset attributes are XML attributes of the DataSet. Generic
data sets hold theirs in ``generic:Attributes``.

A missing value (None) is ``<generic:ObsValue value="NaN"/>`` in generic data: the SDMX convention for a
missing observation value, which the XSD (xs:string) and every reader accept (sdmx1 and pysdmx give "NaN"),
where an ObsValue left out would read as "not reported" (sdmx1: None, pysdmx: ""). Structure-specific
observations leave OBS_VALUE out, as their schemas type it xs:double. In a ``Delete`` data set an observation
without a value is one deleted as a whole: its ObsValue is left out in generic data too (the XSD makes it
optional), since a value NaN there would ask to delete the value only.

A message may hold several data sets (the ``*_message`` functions): one header, then one DataSet per data
set with its action, validFromDate/validToDate, dataset attributes and (with ``data_provider``) provider.

``data_provider=True`` adds the DataProvider reference to the data set (the schemas allow it); it is off by
default because sdmx1 2.28 cannot read data messages holding one (pysdmx can).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from exchange.formats.data_message import DataSetInfo, SeriesBlock, WriteOptions
from exchange.formats.data_ml import (
    DataSets,
    Memo,
    ObservationWriter,
    Plan,
    attribute_values,
    chunked,
    document,
    escape,
    header,
    plans,
    provider_urn,
    set_attributes,
    slices,
    structure_id,
    structure_namespace,
    structure_specific_series,
    xml_attributes,
)

GENERIC = "application/vnd.sdmx.genericdata+xml;version=2.1"
GENERIC_TIME_SERIES = "application/vnd.sdmx.generictimeseriesdata+xml;version=2.1"
STRUCTURE_SPECIFIC = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
STRUCTURE_SPECIFIC_TIME_SERIES = "application/vnd.sdmx.structurespecifictimeseriesdata+xml;version=2.1"

_NS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1"
_ROOT = f'xmlns:message="{_NS}/message" xmlns:common="{_NS}/common"'
_MISSING = '<generic:ObsValue value="NaN"/>'


def write_generic(
    info: DataSetInfo, blocks: Iterable[SeriesBlock], options: WriteOptions, *, data_provider: bool = False
) -> Iterator[bytes]:
    """SDMX-ML 2.1 GenericData (:data:`GENERIC`): any dimension at observation level, or AllDimensions."""
    return write_generic_message([(info, blocks)], options, data_provider=data_provider)


def write_generic_time_series(
    info: DataSetInfo, blocks: Iterable[SeriesBlock], options: WriteOptions, *, data_provider: bool = False
) -> Iterator[bytes]:
    """SDMX-ML 2.1 GenericTimeSeriesData (:data:`GENERIC_TIME_SERIES`): TIME_PERIOD at observation level."""
    return write_generic_time_series_message([(info, blocks)], options, data_provider=data_provider)


def write_structure_specific(
    info: DataSetInfo, blocks: Iterable[SeriesBlock], options: WriteOptions, *, data_provider: bool = False
) -> Iterator[bytes]:
    """SDMX-ML 2.1 StructureSpecificData (:data:`STRUCTURE_SPECIFIC`): any dimension at observation level,
    or AllDimensions."""
    return write_structure_specific_message([(info, blocks)], options, data_provider=data_provider)


def write_structure_specific_time_series(
    info: DataSetInfo, blocks: Iterable[SeriesBlock], options: WriteOptions, *, data_provider: bool = False
) -> Iterator[bytes]:
    """SDMX-ML 2.1 StructureSpecificTimeSeriesData (:data:`STRUCTURE_SPECIFIC_TIME_SERIES`): TIME_PERIOD at
    observation level."""
    return write_structure_specific_time_series_message([(info, blocks)], options, data_provider=data_provider)


def write_generic_message(datasets: DataSets, options: WriteOptions, *, data_provider: bool = False) -> Iterator[bytes]:
    """:func:`write_generic` for a message of one or more data sets (header from the first)."""
    return _generic(datasets, options, time_series=False, data_provider=data_provider)


def write_generic_time_series_message(
    datasets: DataSets, options: WriteOptions, *, data_provider: bool = False
) -> Iterator[bytes]:
    """:func:`write_generic_time_series` for a message of one or more data sets (header from the first)."""
    return _generic(datasets, options, time_series=True, data_provider=data_provider)


def write_structure_specific_message(
    datasets: DataSets, options: WriteOptions, *, data_provider: bool = False
) -> Iterator[bytes]:
    """:func:`write_structure_specific` for a message of one or more data sets (header from the first)."""
    return _structure_specific(datasets, options, time_series=False, data_provider=data_provider)


def write_structure_specific_time_series_message(
    datasets: DataSets, options: WriteOptions, *, data_provider: bool = False
) -> Iterator[bytes]:
    """:func:`write_structure_specific_time_series` for a message of one or more data sets (header from the
    first)."""
    return _structure_specific(datasets, options, time_series=True, data_provider=data_provider)


def _plans(datasets: DataSets, options: WriteOptions, time_series: bool) -> list[Plan]:
    found = plans(datasets, options)
    if time_series and found[0].dimension_at_observation != "TIME_PERIOD":
        raise ValueError("time-series messages need TIME_PERIOD at observation level")
    return found


def _header(info: DataSetInfo, plan: Plan, structure: str) -> str:
    flow = info.dataflow
    usage = f'<Ref agencyID="{escape(flow.agency)}" id="{escape(flow.id)}" version="{escape(flow.version)}"/>'
    return header(info, plan, structure, usage)


def _provider(info: DataSetInfo, tag: str, data_provider: bool) -> str:
    if not data_provider or info.provider is None:
        return ""
    agency, provider = info.provider
    return (
        f'<{tag}><Ref agencyID="{escape(agency)}" maintainableParentID="DATA_PROVIDERS"'
        f' maintainableParentVersion="1.0" id="{escape(provider)}"/><URN>{provider_urn(info)}</URN></{tag}>'
    )


# -- structure-specific ------------------------------------------------------------------------------------


def _structure_specific(
    datasets: DataSets, options: WriteOptions, time_series: bool, data_provider: bool
) -> Iterator[bytes]:
    found = _plans(datasets, options, time_series)
    info, plan = datasets[0][0], found[0]
    root = "StructureSpecificTimeSeriesData" if time_series else "StructureSpecificData"
    namespace = structure_namespace(info, plan)
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?><message:{root} {_ROOT} xmlns:ss="{_NS}/data/structurespecific"'
        f' xmlns:ns1="{namespace}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        + _header(info, plan, f' namespace="{namespace}"')
    )
    data_set_type = "TimeSeriesDataSetType" if time_series else "DataSetType"

    def opening(info: DataSetInfo, plan: Plan) -> str:
        return (
            f'<message:DataSet ss:structureRef="{structure_id(info)}"{set_attributes(info, "ss:")}'
            f' ss:dataScope="DataStructure" xsi:type="ns1:{data_set_type}"'
            f"{xml_attributes(plan.dataset_attributes)}>{_provider(info, 'DataProvider', data_provider)}"
        )

    sets = ((opening(i, p), structure_specific_series(b, p)) for (i, b), p in zip(datasets, found, strict=True))
    return chunked(document(head, sets, f"</message:{root}>"))


# -- generic -----------------------------------------------------------------------------------------------


def _generic(datasets: DataSets, options: WriteOptions, time_series: bool, data_provider: bool) -> Iterator[bytes]:
    found = _plans(datasets, options, time_series)
    info, plan = datasets[0][0], found[0]
    root = "GenericTimeSeriesData" if time_series else "GenericData"
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?><message:{root} {_ROOT} xmlns:generic="{_NS}/data/generic">'
        + _header(info, plan, "")
    )

    def opening(info: DataSetInfo, plan: Plan) -> str:
        return (
            f'<message:DataSet structureRef="{structure_id(info)}"{set_attributes(info, "")}>'
            + _provider(info, "generic:DataProvider", data_provider)
            + _wrap(_values(plan.dataset_attributes))
        )

    sets = (
        (opening(i, p), _generic_series(b, p, delete=i.action == "Delete"))
        for (i, b), p in zip(datasets, found, strict=True)
    )
    return chunked(document(head, sets, f"</message:{root}>"))


def _value(component: str, escaped: str) -> str:
    return f'<generic:Value id="{component}" value="{escaped}"/>'


def _values(pairs: Iterable[tuple[str, str]]) -> str:
    return "".join(_value(k, escape(v)) for k, v in pairs)


def _wrap(values: str) -> str:
    return f"<generic:Attributes>{values}</generic:Attributes>" if values else ""


def _generic_series(blocks: Iterable[SeriesBlock], plan: Plan, delete: bool = False) -> Iterator[str]:
    """The Series (or, for ``AllDimensions``, Obs) elements of a generic data set (``delete``: of a ``Delete``
    data set, whose observations without a value have no ObsValue)."""
    codes = Memo(escape)
    values = Memo(lambda json_text: _values(plan.select(attribute_values(json_text))))
    wrapped = Memo(lambda json_text: _wrap(values[json_text]))
    series_values = Memo(lambda json_text: tuple(map(_values, plan.split(json_text))))
    if plan.flat:
        last = f'<generic:Value id="{plan.observation_dimensions[-1]}" value="'
        head: str | Memo = ObservationWriter.flat(plan, codes, "<generic:Obs><generic:ObsKey>", _value, last)
        close = '"/></generic:ObsKey>'
    else:
        head, close = '<generic:Obs><generic:ObsDimension value="', '"/>'
    value = ('<generic:ObsValue value="', '"/>')
    missing = _MISSING if plan.with_values and not delete else ""
    observations = ObservationWriter(plan, codes, head, close, value, missing)
    end = "</generic:Obs>"
    for block in blocks:
        own, pushed = series_values[block.attributes]
        attributes = Memo(lambda json_text, pushed=pushed: _wrap(values[json_text] + pushed)) if pushed else wrapped
        if plan.flat:
            for part in slices(block.observations):
                yield observations.render(part, attributes, end)
            continue
        key = "".join([_value(d, codes[c]) for d, c in zip(plan.series_dimensions, block.key, strict=True)])
        start = f"<generic:Series><generic:SeriesKey>{key}</generic:SeriesKey>{_wrap(own)}"
        if not (plan.with_observations and block.observations):
            yield start + "</generic:Series>"
            continue
        yield start
        for part in slices(block.observations):
            yield observations.render(part, attributes, end)
        yield "</generic:Series>"
