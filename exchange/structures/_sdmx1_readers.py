"""sdmx1 SDMX-ML readers with local fixes.

Subclasses with their own parser tables, so the fixes never change sdmx1's own readers:

- no diagnostic dump of sdmx1's internal stacks to stdout when parsing fails;
- SDMX-ML 3.0: ``<str:DataProviderSchemes>`` containers are read (sdmx1 2.28 raises on them);
- SDMX-ML 3.0: ``<str:AttributeRelationship><str:Group>`` is read (sdmx1 2.28 raises
  ``AttributeError: Measure`` on any non-dimension reference there);
- SDMX-ML 3.0: ``<str:AttributeRelationship><str:Dataflow/>`` (dataset-level attribute) is read as a
  relationship (sdmx1 2.28 takes it for a reference to a dataflow without an agency);
- cube region time ranges: sdmx1 2.28 reads only a 2.1 ``StartPeriod``/``EndPeriod`` pair, as datetimes
  (``2015`` becomes 2015-01-01T00:00) with ``isInclusive`` left a string and required; it has no parser for
  ``BeforePeriod``/``AfterPeriod`` nor for any 3.0 ``str:TimeRange``. All four shapes are read in both
  versions, each bound as a :class:`~sdmx.model.common.Period` holding the period text as written and a
  real boolean ``is_inclusive`` (default true), the range as the version's Before/After/RangePeriod.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from sdmx.model import common, v30
from sdmx.model import v21 as model_v21
from sdmx.reader.xml import v21
from sdmx.reader.xml import v30 as reader_v30


class Reader21(v21.Reader):
    """sdmx1's SDMX-ML 2.1 reader without the stdout dump."""

    def _dump(self) -> None:
        """Do not print sdmx1's parser stacks (user content) to stdout."""


class Reader30(reader_v30.Reader):
    """sdmx1's SDMX-ML 3.0 reader with the fixes listed in the module docstring."""

    def _dump(self) -> None:
        """Do not print sdmx1's parser stacks (user content) to stdout."""

    @classmethod
    def handles(cls, tag: str) -> bool:
        """Whether this reader can read the container element ``tag`` (``{namespace}name``)."""
        qname = cls.format.qname(tag)
        if qname.localname in _UNREADABLE:
            return False
        return (qname, "start") in cls.parser or (qname, "end") in cls.parser


_UNREADABLE = {"Metadataflows"}
"""Containers sdmx1 2.28 has a parser for but fails on (3.0 ``<str:Structure>`` of a metadataflow)."""


# sdmx1's XMLEventReader.__init_subclass__ gives each subclass an empty parser table: copy sdmx1's.
Reader21.parser = dict(v21.Reader.parser)
Reader30.parser = dict(reader_v30.Reader.parser)
Reader30.start("str:DataProviderSchemes")(None)


@Reader30.end("str:AttributeRelationship")
def _attribute_relationship(reader: Reader30, elem: etree._Element) -> common.AttributeRelationship | None:
    dsd = reader.peek("current DSD")
    refs = reader.pop_all(reader.Reference)
    if not refs:
        return None  # <str:Observation/> or <str:Dataflow/>: parsed by their own element handlers
    dimensions = []
    group_key = None
    for ref in refs:
        target = ref.target_cls
        if isinstance(target, type) and issubclass(target, common.DimensionComponent):
            dimensions.append(dsd.dimensions.get(ref.target_id))
        elif target is v30.Measure:
            return v30.ObservationRelationship()
        else:
            group_key = dsd.group_dimensions[ref.target_id]
    if dimensions:
        return common.DimensionRelationship(dimensions=dimensions, group_key=group_key)
    return common.GroupRelationship(group_key=group_key)


_dataflow_end = Reader30.parser[Reader30.format.qname("str:Dataflow"), "end"]


@Reader30.end("str:Dataflow", only=False)
def _dataflow(reader: Reader30, elem: etree._Element) -> object:
    if etree.QName(elem.getparent()).localname == "AttributeRelationship":
        return v30.DataflowRelationship()
    return _dataflow_end(reader, elem)


# -- cube region time ranges ---------------------------------------------------------------------------

_PERIOD_CLASSES: dict[Any, dict[str, type[common.Period]]] = {
    model_v21: {
        "StartPeriod": common.StartPeriod,
        "EndPeriod": common.EndPeriod,
        "BeforePeriod": model_v21.BeforePeriod,
        "AfterPeriod": model_v21.AfterPeriod,
    },
    v30: {
        "StartPeriod": common.StartPeriod,
        "EndPeriod": common.EndPeriod,
        "BeforePeriod": v30.BeforePeriod,
        "AfterPeriod": v30.AfterPeriod,
    },
}


def _period(model: Any, elem: etree._Element) -> common.Period:
    cls = _PERIOD_CLASSES[model][etree.QName(elem).localname]
    inclusive = (elem.get("isInclusive") or "true").strip() in ("true", "1")
    return cls(is_inclusive=inclusive, period=(elem.text or "").strip())


def _time_range(reader: Reader21 | Reader30, model: Any) -> Any:
    """The Before/AfterPeriod of a ``TimeRange``, else a RangePeriod of its Start/EndPeriod."""
    single = reader.pop_all(model.BeforePeriod) + reader.pop_all(model.AfterPeriod)
    start, end = reader.pop_single(common.StartPeriod), reader.pop_single(common.EndPeriod)
    return single[0] if single else model.RangePeriod(start=start, end=end)


@Reader21.end("com:StartPeriod com:EndPeriod com:BeforePeriod com:AfterPeriod")
def _period21(reader: Reader21, elem: etree._Element) -> common.Period:
    return _period(model_v21, elem)


@Reader21.end("com:TimeRange")
def _time_range21(reader: Reader21, elem: etree._Element) -> Any:
    return _time_range(reader, model_v21)


@Reader30.end("str:StartPeriod str:EndPeriod str:BeforePeriod str:AfterPeriod")
def _period30(reader: Reader30, elem: etree._Element) -> common.Period:
    return _period(v30, elem)


@Reader30.end("str:TimeRange")
def _time_range30(reader: Reader30, elem: etree._Element) -> Any:
    return _time_range(reader, v30)


_key_value_end = Reader30.parser[Reader30.format.qname("str:KeyValue"), "end"]


@Reader30.end("str:KeyValue")
def _key_value30(reader: Reader30, elem: etree._Element) -> object:
    """A cube region KeyValue holding a time range (sdmx1's own handler only collects 2.1 ranges)."""
    ranges = reader.pop_all(v30.TimeRangeValue, subclass=True)
    if not ranges:
        return _key_value_end(reader, elem)
    _, component = v21._ms_component(reader, elem, ("dimensions", common.Dimension))
    return None if component is None else reader.model.MemberSelection(values_for=component, values=ranges)
