"""sdmx1 SDMX-ML readers with local fixes.

Subclasses with their own parser tables, so the fixes never change sdmx1's own readers:

- no diagnostic dump of sdmx1's internal stacks to stdout when parsing fails;
- SDMX-ML 3.0: ``<str:DataProviderSchemes>`` containers are read (sdmx1 2.28 raises on them);
- SDMX-ML 3.0: ``<str:AttributeRelationship><str:Group>`` is read (sdmx1 2.28 raises
  ``AttributeError: Measure`` on any non-dimension reference there);
- SDMX-ML 3.0: ``<str:AttributeRelationship><str:Dataflow/>`` (dataset-level attribute) is read as a
  relationship (sdmx1 2.28 takes it for a reference to a dataflow without an agency).
"""

from __future__ import annotations

from lxml import etree
from sdmx.model import common, v30
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
