"""DSD-specific XML schemas for validating structure-specific data messages (a test helper).

Structure-specific SDMX-ML is only schema-valid together with a schema generated from the data structure:
its target namespace is the one a message declares (``urn:…DataStructure=AG:ID(V):ObsLevelDim:TIME_PERIOD``)
and its ``DataSetType``, ``SeriesType`` and ``ObsType`` restrict the abstract types of the official
``SDMXDataStructureSpecific.xsd`` (``TimeSeriesDataSetType``, ``TimeSeriesType``, ``TimeSeriesObsType`` for
SDMX-ML 2.1 time-series messages). As in the SDMX rules for these schemas, dimensions are required XML
attributes of the Series or Obs they belong to, attributes are optional, and every other unqualified XML
attribute is refused. Coded components are strings restricted to their codes, the measure and text formats
get their XSD type (``xs:double`` for Double…). Groups, and so group attributes, are not generated.

:func:`structure_specific_schema` writes the schema and a wrapper importing it next to ``SDMXMessage.xsd``
and compiles them with :func:`tests.conformance.xml_schema`.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import quoteattr

from lxml import etree

from exchange.structures.model import Component, DataStructure, Ref
from tests.conformance import SCHEMAS, xml_schema

Version = Literal["2.1", "3.0"]
Codes = Callable[[Ref], list[str]]
"""The code ids of a codelist."""

ALL_DIMENSIONS = "AllDimensions"
_SCHEMA_DIR = {"2.1": SCHEMAS / "ml/v2.1/schemas", "3.0": SCHEMAS / "ml/v3.0.1/schemas"}
_NS = {
    "2.1": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1",
    "3.0": "http://www.sdmx.org/resources/sdmxml/schemas/v3_0",
}
_XSD_TYPES = {
    "Double": "xs:double",
    "Float": "xs:float",
    "Decimal": "xs:decimal",
    "Integer": "xs:integer",
    "Long": "xs:long",
    "Boolean": "xs:boolean",
    "DateTime": "xs:dateTime",
    "ObservationalTimePeriod": "common:ObservationalTimePeriodType",
}


def namespace(dsd: DataStructure, dimension_at_observation: str) -> str:
    """The target namespace of the DSD-specific schema."""
    return f"{dsd.urn}:ObsLevelDim:{dimension_at_observation}"


def dsd_schema(
    dsd: DataStructure,
    dimension_at_observation: str,
    version: Version,
    codes: Codes | None = None,
    time_series: bool = False,
) -> str:
    """The DSD-specific schema text for data sets with ``dimension_at_observation`` at observation level."""
    if time_series and (version != "2.1" or dimension_at_observation != "TIME_PERIOD"):
        raise ValueError("time-series structure-specific schemas are SDMX-ML 2.1 with TIME_PERIOD at observation")
    v21 = version == "2.1"
    flat = dimension_at_observation == ALL_DIMENSIONS
    ts = "TimeSeries" if time_series else ""
    names = {"dataset": f"{ts}DataSetType", "series": "TimeSeriesType" if ts else "SeriesType", "obs": f"{ts}ObsType"}
    key = [c for c in dsd.components if c.role in ("dimension", "time_dimension")]
    key_ids = [c.id for c in dsd.dimensions]
    at_obs = {c.id for c in key} if flat else {dimension_at_observation}
    level: dict[str, list[Component]] = {"dataset": [], "series": [], "obs": []}
    for c in dsd.attributes:
        if c.attachment == "dataset":
            level["dataset"].append(c)
        elif c.attachment == "observation" or at_obs.intersection(c.related_to or key_ids):
            level["obs"].append(c)
        elif c.attachment == "series":
            level["series"].append(c)
    series_key = [c for c in key if c.id not in at_obs]
    obs_key = [c for c in key if c.id in at_obs]
    simple_types: dict[str, str] = {}

    def type_of(component: Component) -> str:
        rep = component.representation
        if rep and rep.enumeration and codes is not None:
            codelist = rep.enumeration
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{codelist.agency}_{codelist.id}_{codelist.version}_Type")
            if name not in simple_types:
                enumeration = "".join(f"<xs:enumeration value={quoteattr(code)}/>" for code in codes(codelist))
                simple_types[name] = (
                    f'<xs:simpleType name="{name}"><xs:restriction base="xs:string">{enumeration}'
                    "</xs:restriction></xs:simpleType>"
                )
            return name
        text_type = rep.text_format.text_type if rep and rep.text_format else None
        return _XSD_TYPES.get(text_type or "", "xs:string")

    def attributes(required: Iterable[Component], optional: Iterable[Component], prohibited: Iterable[str]) -> str:
        return (
            "".join(f'<xs:attribute name="{c.id}" type="{type_of(c)}" use="required"/>' for c in required)
            + "".join(f'<xs:attribute name="{c.id}" type="{type_of(c)}" use="optional"/>' for c in optional)
            + "".join(f'<xs:attribute name="{name}" use="prohibited"/>' for name in prohibited)
        )

    year_start = ["REPORTING_YEAR_START_DAY"] if v21 else []
    annotations = '<xs:element ref="common:Annotations" minOccurs="0"/>'
    provider = (
        '<xs:element name="DataProvider" type="common:DataProviderReferenceType" form="unqualified" minOccurs="0"/>'
    )
    if flat:
        content = f'<xs:element name="Obs" type="{names["obs"]}" form="unqualified" maxOccurs="unbounded"/>'
    else:
        content = f'<xs:element name="Series" type="{names["series"]}" form="unqualified" maxOccurs="unbounded"/>'
    repeat = "" if v21 else ' maxOccurs="unbounded"'  # 3.0 data sets interleave Atts, Group, Series and Obs
    members = f'{annotations}{provider}<xs:choice minOccurs="0"{repeat}>{content}</xs:choice>'
    obs_type_attribute = '<xs:attribute name="type" type="common:IDType" use="prohibited"/>'
    time_prohibited = [] if "TIME_PERIOD" in at_obs else ["TIME_PERIOD"]
    types = [
        _restriction(
            names["dataset"],
            f"ss:{names['dataset']}",
            f"<xs:sequence>{members}</xs:sequence>",
            attributes((), level["dataset"], year_start),
        ),
        _restriction(
            names["obs"],
            f"ss:{names['obs']}",
            f"<xs:sequence>{annotations}</xs:sequence>",
            obs_type_attribute + attributes(obs_key, [*dsd.measures, *level["obs"]], [*time_prohibited, *year_start]),
        ),
    ]
    if not flat:
        series_time = ["TIME_PERIOD"] if "TIME_PERIOD" in at_obs else []
        obs = f'<xs:element name="Obs" type="{names["obs"]}" form="unqualified" minOccurs="0" maxOccurs="unbounded"/>'
        types.append(
            _restriction(
                names["series"],
                f"ss:{names['series']}",
                f"<xs:sequence>{annotations}{obs}</xs:sequence>",
                attributes(series_key, level["series"], [*series_time, *year_start]),
            )
        )
    ns = namespace(dsd, dimension_at_observation)
    base = _SCHEMA_DIR[version]
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"'
        f' xmlns="{ns}" targetNamespace="{ns}" xmlns:common="{_NS[version]}/common"'
        f' xmlns:ss="{_NS[version]}/data/structurespecific" elementFormDefault="unqualified"'
        ' attributeFormDefault="unqualified">'
        f'<xs:import namespace="{_NS[version]}/common" schemaLocation="{(base / "SDMXCommon.xsd").as_uri()}"/>'
        f'<xs:import namespace="{_NS[version]}/data/structurespecific"'
        f' schemaLocation="{(base / "SDMXDataStructureSpecific.xsd").as_uri()}"/>'
        + "".join(simple_types.values())
        + "".join(types)
        + "</xs:schema>"
    )


def _restriction(name: str, base: str, content: str, attributes: str) -> str:
    return (
        f'<xs:complexType name="{name}"><xs:complexContent><xs:restriction base="{base}">{content}{attributes}'
        "</xs:restriction></xs:complexContent></xs:complexType>"
    )


def structure_specific_schema(
    dsd: DataStructure,
    dimension_at_observation: str,
    version: Version,
    codes: Codes | None = None,
    time_series: bool = False,
) -> etree.XMLSchema:
    """The compiled schema (SDMXMessage.xsd + the DSD-specific schema) for structure-specific messages."""
    text = dsd_schema(dsd, dimension_at_observation, version, codes, time_series)
    return _compile(text, namespace(dsd, dimension_at_observation), version)


@cache
def _compile(text: str, target_namespace: str, version: Version) -> etree.XMLSchema:
    """Compile via files named after the schema text (so a path always holds the same schema)."""
    folder = Path(tempfile.gettempdir()) / f"voices-dsd-xsd-{hashlib.sha256(text.encode()).hexdigest()[:20]}"
    folder.mkdir(exist_ok=True)
    message = _SCHEMA_DIR[version] / "SDMXMessage.xsd"
    wrapper = (
        '<?xml version="1.0" encoding="UTF-8"?><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        f'<xs:import namespace="{_NS[version]}/message" schemaLocation="{message.as_uri()}"/>'
        f'<xs:import namespace="{target_namespace}" schemaLocation="{(folder / "dsd.xsd").as_uri()}"/>'
        "</xs:schema>"
    )
    for name, content in (("dsd.xsd", text), ("wrapper.xsd", wrapper)):
        partial = folder / f"{name}.{os.getpid()}"
        partial.write_text(content, encoding="utf-8")
        partial.replace(folder / name)  # atomic: parallel test workers may write the same files
    return xml_schema(folder / "wrapper.xsd")
