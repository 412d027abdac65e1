"""Parsing the ways users name dataflows and data providers on the command line and in URLs."""

from __future__ import annotations

import re

from exchange.structures.model import Ref
from exchange.structures.registry import Registry

_URN_OR_FULL = re.compile(r"^(?:urn:sdmx:[\w.]+=)?([\w.@$\-]+):([\w@$\-]+)(?:\(([\w.+~*\-]+)\))?$")


class RefError(ValueError):
    """A reference that cannot be parsed or that names nothing the registry holds."""


def parse_flow_ref(text: str, registry: Registry) -> Ref:
    """Resolve ``ID``, ``AGENCY,ID[,VERSION]``, ``AGENCY:ID(VERSION)`` or a URN to a stored dataflow.

    A missing agency matches any agency (it must then be unambiguous); a missing or ``latest`` version
    means the version in production.
    """
    text = text.strip()
    match = _URN_OR_FULL.match(text)
    if match:
        agency, flow_id, version = match.group(1), match.group(2), match.group(3) or "latest"
    else:
        parts = text.split(",")
        if not 1 <= len(parts) <= 3 or not all(parts):
            raise RefError(f"'{text}' is not a dataflow reference (use ID, AGENCY,ID,VERSION or AGENCY:ID(VERSION))")
        if len(parts) == 1:
            parts = ["all", *parts]
        agency, flow_id, version = [*parts, "latest"][:3]
    candidates = [
        f for f in registry.of_type("dataflow") if f.id == flow_id and (agency in ("all", "*") or f.agency == agency)
    ]
    if not candidates:
        raise RefError(f"No dataflow '{text}' is registered")
    agencies = {f.agency for f in candidates}
    if len(agencies) > 1:
        raise RefError(f"Dataflow id '{flow_id}' is maintained by several agencies ({', '.join(sorted(agencies))})")
    if version in ("latest", "~"):
        latest = registry.latest("dataflow", candidates[0].agency, flow_id)
        assert latest is not None
        return latest.ref
    for flow in candidates:
        if flow.version == version:
            return flow.ref
    raise RefError(f"Dataflow {candidates[0].agency}:{flow_id} has no version {version}")


def parse_provider_ref(text: str, registry: Registry) -> tuple[str, str]:
    """Resolve ``ID``, ``AGENCY,ID`` or ``AGENCY:ID`` to a registered (provider agency, provider id).

    Without an agency the id must name exactly one provider across all data provider schemes.
    """
    parts = re.split(r"[,:]", text.strip())
    if len(parts) > 2 or not all(parts):
        raise RefError(f"'{text}' is not a data provider reference (use ID or AGENCY:ID)")
    known = sorted(
        (scheme.agency, item.id)
        for scheme in registry.of_type("dataproviderscheme")
        for item in getattr(scheme, "items", [])
    )
    matches = [k for k in known if k[1] == parts[-1] and (len(parts) == 1 or k[0] == parts[0])]
    if len(set(matches)) == 1:
        return matches[0]
    if not matches:
        names = ", ".join(f"{a}:{i}" for a, i in dict.fromkeys(known)) or "none"
        raise RefError(f"No data provider '{text}' is registered (known: {names})")
    raise RefError(f"Provider id '{text}' is ambiguous; name its agency (e.g. {matches[0][0]}:{matches[0][1]})")
