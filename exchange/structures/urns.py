"""SDMX class names and URNs → our artefact type strings and :class:`Ref` objects."""

from __future__ import annotations

import re

from exchange.formats.records import MessageError
from exchange.structures.model import PACKAGE, Ref

TYPE_BY_CLASS: dict[str, str] = {
    **{cls: type_ for type_, (_, cls, _) in PACKAGE.items()},
    # Item classes name the scheme that holds them.
    **{item_cls: type_ for type_, (_, _, item_cls) in PACKAGE.items() if item_cls},
    # SDMX 3.0 and sdmx1 spellings of the same classes.
    "DataConstraint": "contentconstraint",
    "DataStructureDefinition": "datastructure",
    "DataflowDefinition": "dataflow",
    "MetadataStructureDefinition": "metadatastructure",
    "MetadataflowDefinition": "metadataflow",
}
"""SDMX (or sdmx1) class name → our artefact type, e.g. ``DataflowDefinition`` → ``dataflow``."""

_STABLE_SEMANTIC_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_URN = re.compile(
    r"^(?:urn:sdmx:org\.sdmx\.infomodel\.[A-Za-z]+\.)?(?P<cls>[A-Za-z]+)="
    r"(?P<agency>[^:=]+):(?P<id>[^(]+)\((?P<version>[^)]*)\)(?:\.(?P<item>.+))?$"
)


def ref_from_urn(urn: str) -> Ref:
    """Parse an SDMX URN (or a short ``Class=AGENCY:ID(1.0)`` form) into a :class:`Ref`."""
    match = _URN.match(urn.strip())
    if not match or match["cls"] not in TYPE_BY_CLASS:
        raise MessageError(f"Unsupported or malformed SDMX reference: {urn!r}")
    return Ref(TYPE_BY_CLASS[match["cls"]], match["agency"], match["id"], match["version"] or "1.0", match["item"])


def is_final_in_sdmx3(version: str) -> bool:
    """SDMX 3.0 has no ``isFinal``: a semantic version without extension (``1.0.0``) is final.

    ``1.0.0-draft`` is not, and neither is a legacy ``1.0``, whose content may still change.
    """
    return bool(_STABLE_SEMANTIC_VERSION.match(version))
