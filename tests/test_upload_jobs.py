"""Long uploads run as jobs; concurrent uploads serialise; a killed server leaves no partial release."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
from sqlalchemy import func, select

from exchange.auth import create_token
from exchange.db import get_engine, session_scope
from exchange.store.schema import Observation, Release
from tests.test_sdmx_client import _free_port

HEADER = (
    "DATAFLOW,FREQ,REPORTING_TYPE,SERIES,REF_AREA,SEX,AGE,URBANISATION,INCOME_WEALTH_QUANTILE,"
    "EDUCATION_LEV,OCCUPATION,CUST_BREAKDOWN,COMPOSITE_BREAKDOWN,DISABILITY_STATUS,ACTIVITY,PRODUCT,"
    "POP_GROUP,SUBNATIONAL,TIME_PERIOD,OBS_VALUE,OBS_STATUS,UNIT_MULT,UNIT_MEASURE"
)


def big_csv(rows: int, area: str = "404", value: float = 20.0) -> bytes:
    """``rows`` valid monthly observations across four generic population groups (and Kenya's counties)."""
    lines = [HEADER]
    counties = [f"KE-{n:02d}" for n in range(1, 48)] if area == "404" else ["_T"]
    groups = ["_T", "PWD", "YOUTH", "SLUM"]
    for index in range(rows):
        county = counties[index % len(counties)]
        group = groups[(index // len(counties)) % len(groups)]
        month = index // (len(counties) * len(groups))
        period = f"{1900 + month // 12}-{month % 12 + 1:02d}"
        lines.append(
            f"LNOB:DF_LNOB(1.0),M,N,SI_COV_DISAB,{area},F,_T,_T,_T,_T,_T,_T,_T,_T,_T,_T,"
            f"{group},{county},{period},{value},A,0,PT"
        )
    return ("\n".join(lines) + "\n").encode()


def counts(db_url: str) -> tuple[int, int]:
    with session_scope(get_engine(db_url)) as session:
        return (
            session.scalar(select(func.count()).select_from(Release)),
            session.scalar(select(func.count()).select_from(Observation)),
        )


def test_async_upload_reports_progress_and_result(client, make_token) -> None:
    token = make_token(role="coalition", provider="KEN", name="ken-async")
    response = client.post(
        "/api/v1/uploads",
        params={"dataflow": "DF_LNOB", "async": "true"},
        content=big_csv(25_000),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 202
    assert response.headers["location"] == response.json()["status_url"]
    state = client.get(
        response.json()["status_url"], params={"wait": "60"}, headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert state["state"] == "done", state
    assert state["http_status"] == 201 and state["result"]["status"] == "stored"
    assert state["progress"]["observations_read"] == 25_000
    other = make_token(role="coalition", provider="NPL", name="npl-nosy")
    denied = client.get(response.json()["status_url"], headers={"Authorization": f"Bearer {other}"})
    assert denied.status_code == 403


def test_concurrent_uploads_to_one_dataset_serialise(client, make_token) -> None:
    token = make_token(role="coalition", provider="IND", name="ind")
    bodies = [big_csv(3000, area="356", value=v) for v in (10.0, 11.0)]
    results: list[httpx.Response] = []

    def send(body: bytes) -> None:
        results.append(
            client.post(
                "/api/v1/uploads",
                params={"dataflow": "DF_LNOB", "async": "false"},
                content=body,
                headers={"Authorization": f"Bearer {token}"},
            )
        )

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses in ([201, 201], [201, 409]), [r.text[:200] for r in results]
    numbers = sorted(r.json()["release"] for r in results if r.status_code == 201)
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def test_killed_server_leaves_no_partial_release(databases, tmp_path) -> None:
    db_url = databases.new()
    token = create_token(get_engine(db_url), name="kill", role="coalition", provider="KEN")[1]
    before = counts(db_url)
    port = _free_port()
    env = {
        **os.environ,
        "VOICES_DATABASE_URL": db_url,
        "VOICES_DATA_DIR": str(tmp_path),
        "VOICES_LOG_LEVEL": "warning",
        "VOICES_JOB_STALE_SECONDS": "3",
    }
    command = [sys.executable, "-m", "exchange.cli", "serve", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(url)
        response = httpx.post(
            f"{url}/api/v1/uploads",
            params={"dataflow": "DF_LNOB", "async": "true"},
            content=big_csv(150_000),
            headers=headers,
            timeout=60,
        )
        assert response.status_code == 202
        job_url = url + response.json()["status_url"]
        for _ in range(600):
            state = httpx.get(job_url, headers=headers).json()
            if state["state"] == "running" and state["progress"]["observations_read"] > 0:
                break
            time.sleep(0.05)
        assert state["state"] == "running", state
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    assert counts(db_url) == before
    restarted = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(url)
        time.sleep(3.5)
        state = httpx.get(job_url, headers=headers).json()
        assert state["state"] == "failed" and "nothing was stored" in state["result"]["error"]
    finally:
        restarted.terminate()
        restarted.wait(timeout=20)
    assert counts(db_url) == before


def _wait_ready(url: str) -> None:
    for _ in range(150):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")
