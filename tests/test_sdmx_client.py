"""A real SDMX client (sdmx1's ``sdmx.Client``) against the service running under uvicorn."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
import sdmx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(db_url: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "VOICES_DATABASE_URL": db_url, "VOICES_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [sys.executable, "-m", "exchange.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"server did not start: {process.stdout.read() if process.stdout else ''}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def client(server: str) -> sdmx.Client:
    sdmx.add_source(
        {"id": "VOICES", "name": "Voices Exchange (test)", "url": f"{server}/sdmx/v1", "supports": {"preview": False}},
        override=True,
    )
    return sdmx.Client("VOICES")


def test_fetch_sdg_dsd_with_children(client: sdmx.Client) -> None:
    message = client.datastructure("SDG", agency_id="IAEG-SDGs", version="1.14", params={"references": "children"})
    dsd = message.structure["SDG"]
    assert len(dsd.dimensions.components) == 16
    assert dsd.dimensions.get("REF_AREA").local_representation.enumerated.id == "CL_AREA"
    assert len(message.codelist["CL_SERIES"]) == 783
    assert message.concept_scheme["SDG_CONCEPTS"]["OBS_VALUE"]


def test_fetch_one_code_of_cl_area(client: sdmx.Client, server: str) -> None:
    message = client.get(url=f"{server}/sdmx/v1/codelist/IAEG-SDGs/CL_AREA/1.14/404")
    codelist = message.codelist["CL_AREA"]
    assert str(codelist["404"].name) == "Kenya"
    assert len(codelist) < 10


def test_list_dataflows(client: sdmx.Client) -> None:
    message = client.dataflow(agency_id="all")
    assert {"DF_LNOB", "DF_SDG_LNOB", "DF_SDG_GLC", "DF_SDG_GLH"} <= set(message.dataflow)
