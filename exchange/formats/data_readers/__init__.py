"""Streaming readers for SDMX data messages: SDMX-ML 2.1/3.0, SDMX-CSV 1.0/2.x and SDMX-JSON 1.0/2.0.

Every reader turns a message into a :class:`~exchange.formats.records.DataMessage` whose observations are
a one-pass iterator of :class:`~exchange.formats.records.ObservationRecord` with the raw strings of the
file; validation happens elsewhere. Anything that cannot be read at all raises
:class:`~exchange.formats.records.MessageError` with a location.
"""

from __future__ import annotations

from typing import IO

from exchange.formats.data_readers._common import peek_head
from exchange.formats.data_readers.sdmx_csv import read_sdmx_csv
from exchange.formats.data_readers.sdmx_json import read_sdmx_json
from exchange.formats.data_readers.sdmx_ml import read_sdmx_ml
from exchange.formats.records import DataMessage, Location, MessageError
from exchange.structures.model import DataStructure

__all__ = ["read_data_message", "read_sdmx_csv", "read_sdmx_json", "read_sdmx_ml", "sniff_format"]

_BOM = b"\xef\xbb\xbf"


def sniff_format(head: bytes) -> str:
    """``xml``, ``json`` or ``csv`` from the first bytes of a message; anything else raises MessageError."""
    text = head[len(_BOM) :] if head.startswith(_BOM) else head
    text = text.lstrip(b" \t\r\n")
    if text.startswith(b"<"):
        return "xml"
    if text.startswith(b"{"):
        return "json"
    if text.startswith((b"DATAFLOW", b"STRUCTURE", b'"DATAFLOW"', b'"STRUCTURE')):
        return "csv"
    if not text:
        raise MessageError("The message is empty.", Location(line=1))
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise MessageError("The message is UTF-16 text: save it as UTF-8.", Location(line=1))
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise MessageError("This is a spreadsheet or archive, not an SDMX message: export it as SDMX-CSV.")
    raise MessageError(
        "Not an SDMX data message: expected SDMX-ML (XML), SDMX-JSON, or SDMX-CSV whose header starts with "
        "DATAFLOW (1.0) or STRUCTURE (2.x).",
        Location(line=1),
    )


def read_data_message(stream: IO[bytes], dsd: DataStructure) -> DataMessage:
    """Read any supported SDMX data message, recognised by its first bytes, against ``dsd``.

    Header facts (structure, action, dataset attributes) are read before this returns; observations
    stream from ``DataMessage.observations``, which raises MessageError if the rest turns out malformed.
    """
    head, stream = peek_head(stream)
    kind = sniff_format(head)
    if kind == "xml":
        return read_sdmx_ml(stream, dsd)
    if kind == "json":
        return read_sdmx_json(stream, dsd)
    return read_sdmx_csv(stream, dsd)
