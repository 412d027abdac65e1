"""Loading structures: the authenticated POST and ``voices structures load``; old versions are kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from exchange.db import get_engine, session_scope
from exchange.store.schema import StructureArtefact
from tests.conftest import SDG_SAMPLES

CODELIST = """<?xml version="1.0" encoding="UTF-8"?>
<mes:Structure xmlns:mes="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
  xmlns:str="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure"
  xmlns:com="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common">
 <mes:Header><mes:ID>T1</mes:ID><mes:Test>false</mes:Test><mes:Prepared>2026-01-01T00:00:00Z</mes:Prepared>
  <mes:Sender id="LNOB"/></mes:Header>
 <mes:Structures><str:Codelists>
  <str:Codelist id="{id}" agencyID="LNOB" version="{version}" isFinal="{final}">
   <com:Name xml:lang="en">{name}</com:Name>
   <str:Code id="A"><com:Name xml:lang="en">Côte d'Ivoire &amp; friends</com:Name></str:Code>
  </str:Codelist>
 </str:Codelists></mes:Structures>
</mes:Structure>"""


def codelist(id: str = "CL_TEST", version: str = "1.0", final: str = "true", name: str = "Test list") -> bytes:
    return CODELIST.format(id=id, version=version, final=final, name=name).encode()


def artefact_count(settings) -> int:
    with session_scope(get_engine(settings.db_url)) as session:
        return session.scalar(select(func.count()).select_from(StructureArtefact))


def post(client, body: bytes, token: str | None = None, path: str = "/sdmx/v2/structure"):
    headers = {"Content-Type": "application/xml"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(path, content=body, headers=headers)


def test_post_needs_an_admin_token(client, settings, make_token) -> None:
    before = artefact_count(settings)
    assert post(client, codelist()).status_code == 401
    assert post(client, codelist(), token="vx_not-a-real-token").status_code == 401
    coalition = make_token(role="coalition", provider="KEN")
    response = post(client, codelist(), token=coalition)
    assert response.status_code == 403
    assert artefact_count(settings) == before


def test_new_versions_are_added_and_old_ones_kept(client, settings, make_token) -> None:
    admin = make_token()
    before = artefact_count(settings)
    first = post(client, codelist(version="1.0"), admin, path="/sdmx/v1/structure")
    assert first.status_code == 201, first.text
    assert first.json()["created"] == ["codelist=LNOB:CL_TEST(1.0)"]
    assert post(client, codelist(version="1.0"), admin).json()["unchanged"] == ["codelist=LNOB:CL_TEST(1.0)"]
    assert post(client, codelist(version="1.1", name="Test list, revised"), admin).status_code == 201
    assert artefact_count(settings) == before + 2
    both = client.get("/sdmx/v1/codelist/LNOB/CL_TEST/all", params={"detail": "allstubs"})
    assert both.text.count("<str:Codelist ") == 2
    latest = client.get("/sdmx/v1/codelist/LNOB/CL_TEST")
    assert 'version="1.1"' in latest.text and "Côte d'Ivoire &amp; friends" in latest.text


def test_bad_submissions_change_nothing(client, settings, make_token) -> None:
    admin = make_token()
    before = artefact_count(settings)
    xxe = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    assert post(client, b"<mes:Structure><broken", admin).status_code == 400
    response = post(client, xxe, admin)
    assert response.status_code == 400
    assert "root:" not in response.text
    assert post(client, (SDG_SAMPLES / "sample_generic_SDG1.8_1-1-1.xml").read_bytes(), admin).status_code == 400
    dangling = (
        codelist()
        .replace(b"</str:Codelists>", b"</str:Codelists>")
        .replace(b'<str:Code id="A">', b'<str:Code id="A"><str:Parent><Ref id="ZZ"/></str:Parent>')
    )
    assert post(client, dangling, admin).status_code == 400
    orphan_flow = CODELIST.split("<mes:Structures>")[0].format(id="", version="", final="", name="").encode() + (
        b'<mes:Structures><str:Dataflows><str:Dataflow id="DF_ORPHAN" agencyID="LNOB" version="1.0">'
        b'<com:Name xml:lang="en">Orphan</com:Name><str:Structure><Ref agencyID="LNOB" id="NO_SUCH_DSD" '
        b'version="1.0" class="DataStructure" package="datastructure"/></str:Structure></str:Dataflow>'
        b"</str:Dataflows></mes:Structures></mes:Structure>"
    )
    missing = post(client, orphan_flow, admin)
    assert missing.status_code == 409
    assert "NO_SUCH_DSD" in missing.text
    assert post(client, codelist(id="CL_TYPED"), admin, path="/sdmx/v2/structure/conceptscheme").status_code == 422
    too_big = codelist(name="x" * (6 * 1024 * 1024))
    assert post(client, too_big, admin).status_code == 413
    assert artefact_count(settings) == before


def test_replacing_a_final_artefact_that_data_depend_on_is_refused(client, settings, make_token) -> None:
    sample = SDG_SAMPLES / "sample_structspecific_SDG1.8_1-1-1.xml"
    env = {**os.environ, "VOICES_DATABASE_URL": settings.db_url}
    loaded = subprocess.run(
        [
            sys.executable,
            "-m",
            "exchange.cli",
            "load",
            str(sample),
            "--dataflow",
            "IAEG-SDGs:DF_SDG_GLC(1.22)",
            "--provider",
            "KEN",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
    dsd_message = client.get("/sdmx/v1/codelist/SDMX/CL_FREQ/2.0").content
    altered = dsd_message.replace(b">Annual<", b">Yearly<")
    assert altered != dsd_message
    before = artefact_count(settings)
    response = post(client, altered, make_token())
    assert response.status_code == 409
    assert "new version" in response.text
    assert artefact_count(settings) == before
    assert b">Annual<" in client.get("/sdmx/v1/codelist/SDMX/CL_FREQ/2.0").content


def test_cli_structures_load_and_list(settings, tmp_path: Path) -> None:
    path = tmp_path / "cl.xml"
    path.write_bytes(codelist(id="CL_CLI", version="2.0"))
    env = {**os.environ, "VOICES_DATABASE_URL": settings.db_url}
    loaded = subprocess.run(
        [sys.executable, "-m", "exchange.cli", "structures", "load", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "1 created" in loaded.stdout
    listing = subprocess.run(
        [sys.executable, "-m", "exchange.cli", "structures", "list", "--type", "codelist"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert "LNOB:CL_CLI(2.0)" in listing.stdout
    assert "IAEG-SDGs:CL_AREA(1.14)" in listing.stdout
