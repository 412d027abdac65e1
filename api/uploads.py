"""Reading request bodies within the configured size limit."""

from __future__ import annotations

from fastapi import Request

from api.errors import SdmxError


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) anything over ``limit`` bytes before reading it all."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise SdmxError(413, f"The request body is {int(declared):,} bytes; the limit is {limit:,} bytes.", 130)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise SdmxError(413, f"The request body exceeds the limit of {limit:,} bytes.", 130)
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        raise SdmxError(400, "The request body is empty.", 140)
    return body
