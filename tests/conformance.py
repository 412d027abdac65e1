"""Validation of our messages against the official SDMX schemas (a helper shared by the whole test suite).

SDMX-ML is validated with the official XSDs (``tests/schemas/ml``; 3.0 uses the 3.0.1 patch release, which
fixes typos of 3.0.0), SDMX-JSON with the official JSON schemas (Draft 7, with a format checker so that
``date-time`` values must carry a timezone). Compiled schemas are cached per process.

Structure-specific data messages need one more schema: a wrapper XSD that imports ``SDMXMessage.xsd`` and
the DSD-specific XSD of the data set's namespace. Such a wrapper can be compiled with :func:`xml_schema`
and used with :func:`assert_xml_valid`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft7Validator
from lxml import etree

SCHEMAS = Path(__file__).parent / "schemas"

_ML_MESSAGE_XSD = {
    "2.1": SCHEMAS / "ml/v2.1/schemas/SDMXMessage.xsd",
    "3.0": SCHEMAS / "ml/v3.0.1/schemas/SDMXMessage.xsd",
}
_JSON_SCHEMA = {
    ("structure", "1.0"): "v1.0/structure-message/tools/schemas/1.0/sdmx-json-structure-schema.json",
    ("data", "1.0"): "v1.0/data-message/tools/schemas/1.0/sdmx-json-data-schema.json",
    ("structure", "2.0"): "v2.0.0/structure-message/tools/schemas/2.0.0/sdmx-json-structure-schema.json",
    ("data", "2.0"): "v2.0.0/data-message/tools/schemas/2.0.0/sdmx-json-data-schema.json",
    ("metadata", "2.0"): "v2.0.0/metadata-message/tools/schemas/2.0.0/sdmx-json-metadata-schema.json",
}
_MAX_REPORTED = 25


def _parser() -> etree.XMLParser:
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, huge_tree=True)


@cache
def xml_schema(path: Path) -> etree.XMLSchema:
    """Compile (once) the XSD at ``path``, offline."""
    return etree.XMLSchema(etree.parse(str(path), _parser()))


def assert_xml_valid(data: bytes, schema: etree.XMLSchema) -> None:
    """Raise AssertionError listing the XSD errors of ``data`` (which must be well-formed XML)."""
    try:
        document = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise AssertionError(f"malformed XML: {exc}") from exc
    if schema.validate(document):
        return
    errors = [f"line {e.line}: {e.message}" for e in schema.error_log]
    raise AssertionError(_report("XSD", errors))


def validate_sdmx_ml(data: bytes, version: Literal["2.1", "3.0"]) -> None:
    """Validate an SDMX-ML message (any message type the root element names) against the official XSDs."""
    assert_xml_valid(data, xml_schema(_ML_MESSAGE_XSD[version]))


@cache
def json_validator(kind: str, version: str) -> Draft7Validator:
    """The (cached) Draft 7 validator, with format checking, for an SDMX-JSON message kind and version."""
    try:
        relative = _JSON_SCHEMA[(kind, version)]
    except KeyError:
        raise ValueError(f"no official SDMX-JSON {version} schema for {kind} messages") from None
    schema = json.loads((SCHEMAS / "json" / relative).read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def validate_sdmx_json(
    doc: dict[str, Any] | bytes,
    kind: Literal["structure", "data", "metadata"],
    version: Literal["1.0", "2.0"],
) -> None:
    """Validate an SDMX-JSON message (parsed or raw bytes) against the official JSON schema."""
    if isinstance(doc, bytes | str):
        doc = json.loads(doc)
    errors = [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}"
        for e in json_validator(kind, version).iter_errors(doc)
    ]
    if errors:
        raise AssertionError(_report(f"SDMX-JSON {version} {kind} schema", errors))


def _report(what: str, errors: list[str]) -> str:
    shown = "\n".join(errors[:_MAX_REPORTED])
    more = f"\n… and {len(errors) - _MAX_REPORTED} more" if len(errors) > _MAX_REPORTED else ""
    return f"{len(errors)} {what} error(s):\n{shown}{more}"
