"""Loading SDMX data files as releases with ``voices load``: valid samples load, bad input changes nothing."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from exchange.db import get_engine, session_scope
from exchange.store.schema import Observation, Release, Series, SeriesAttributes, SeriesDimension
from tests.conftest import SDG_SAMPLES

GLOBAL_FLOW = "IAEG-SDGs:DF_SDG_GLC(1.22)"


def data_dir_for(db_url: str) -> Path:
    """A data directory of the test database's own (raw uploads are kept there)."""
    return Path(tempfile.gettempdir()) / f"voices-test-{hashlib.sha256(db_url.encode()).hexdigest()[:12]}"


def voices(db_url: str, *args: str, max_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VOICES_DATABASE_URL": db_url, "VOICES_DATA_DIR": str(data_dir_for(db_url))}
    if max_bytes is not None:
        env["VOICES_MAX_UPLOAD_BYTES"] = str(max_bytes)
    return subprocess.run(
        [sys.executable, "-m", "exchange.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def store_counts(db_url: str) -> dict[str, int]:
    with session_scope(get_engine(db_url)) as session:
        return {
            table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Release, Series, SeriesDimension, SeriesAttributes, Observation)
        }


@pytest.mark.parametrize(
    ("sample", "provider"),
    [
        ("sample_generic_SDG1.8_1-1-1.xml", "DNK"),
        ("sample_structspecific_SDG1.8_1-1-1.xml", "KEN"),
        ("sample_structspecific_SDG1.8_1-2-1.xml", "NPL"),
        ("uk-demo_output_structspecific_SDG1.7_3-2-1.xml", "IND"),
    ],
)
def test_real_samples_load_as_releases(db_url: str, sample: str, provider: str) -> None:
    before = store_counts(db_url)
    result = voices(db_url, "load", str(SDG_SAMPLES / sample), "--dataflow", GLOBAL_FLOW, "--provider", provider)
    assert result.returncode == 0, result.stderr
    assert "Stored release" in result.stdout
    after = store_counts(db_url)
    assert after["release"] == before["release"] + 1
    assert after["observation"] > before["observation"]


def test_uk_demo_all_is_rejected_naming_the_series_total(db_url: str, tmp_path: Path) -> None:
    before = store_counts(db_url)
    report_path = tmp_path / "report.json"
    result = voices(
        db_url,
        "load",
        str(SDG_SAMPLES / "uk-demo_output_structspecific_SDG1.7_all.xml"),
        "--dataflow",
        GLOBAL_FLOW,
        "--provider",
        "LNOB:DNK",
        "--report",
        str(report_path),
    )
    assert result.returncode == 1
    assert "SERIES" in result.stderr and "'_T'" in result.stderr
    report = json.loads(report_path.read_text())
    assert report["valid"] is False
    series_problems = [p for p in report["problems"] if p["component"] == "SERIES" and p["value"] == "_T"]
    assert series_problems, report["problems"]
    problem = series_problems[0]
    assert problem["rule"] == "unknown-code"
    assert problem["series_key"].startswith("A.N._T.826.")
    assert problem["location"]["line"] > 0
    assert store_counts(db_url) == before


def test_every_problem_is_reported_with_location_and_hint(db_url: str, tmp_path: Path) -> None:
    before = store_counts(db_url)
    text = (SDG_SAMPLES / "sample_structspecific_SDG1.8_1-1-1.xml").read_text()
    broken = (
        text.replace('SEX="F"', 'SEX="FEMALE"', 1)
        .replace('TIME_PERIOD="2005"', 'TIME_PERIOD="2005-13"', 1)
        .replace('OBS_VALUE="', 'OBS_VALUE="x', 1)
    )
    path = tmp_path / "broken.xml"
    path.write_text(broken)
    report_path = tmp_path / "report.json"
    result = voices(
        db_url, "load", str(path), "--dataflow", GLOBAL_FLOW, "--provider", "DNK", "--report", str(report_path)
    )
    assert result.returncode == 1
    rules = {p["rule"] for p in json.loads(report_path.read_text())["problems"]}
    assert {"unknown-code", "not-numeric"} <= rules
    sex = next(p for p in json.loads(report_path.read_text())["problems"] if p.get("component") == "SEX")
    assert "F" in sex["hint"]
    assert store_counts(db_url) == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"<message:GenericData><unclosed>", "Malformed XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
            "DOCTYPE",
        ),
        (b"", "empty"),
    ],
)
def test_unreadable_input_is_refused_and_store_unchanged(
    db_url: str, tmp_path: Path, content: bytes, expected: str
) -> None:
    before = store_counts(db_url)
    path = tmp_path / "bad.xml"
    path.write_bytes(content)
    result = voices(db_url, "load", str(path), "--dataflow", GLOBAL_FLOW, "--provider", "DNK")
    assert result.returncode == 1
    assert expected in result.stderr
    assert "root:" not in result.stderr + result.stdout
    assert store_counts(db_url) == before


@pytest.mark.parametrize(
    ("flow", "provider", "expected"),
    [("LNOB:NO_SUCH_FLOW(1.0)", "KEN", "No dataflow"), (GLOBAL_FLOW, "XYZ", "No data provider")],
)
def test_unknown_dataflow_or_provider_is_refused(db_url: str, flow: str, provider: str, expected: str) -> None:
    before = store_counts(db_url)
    sample = str(SDG_SAMPLES / "sample_structspecific_SDG1.8_1-1-1.xml")
    result = voices(db_url, "load", sample, "--dataflow", flow, "--provider", provider)
    assert result.returncode == 1
    assert expected in result.stderr
    assert store_counts(db_url) == before


def test_file_over_the_size_limit_is_refused(db_url: str) -> None:
    before = store_counts(db_url)
    sample = str(SDG_SAMPLES / "sample_structspecific_SDG1.8_1-1-1.xml")
    result = voices(db_url, "load", sample, "--dataflow", GLOBAL_FLOW, "--provider", "DNK", max_bytes=100)
    assert result.returncode == 1
    assert "limit" in result.stderr
    assert store_counts(db_url) == before


def test_reload_with_changes_keeps_history(db_url: str, tmp_path: Path) -> None:
    sample = SDG_SAMPLES / "sample_structspecific_SDG1.8_1-2-1.xml"
    first = voices(db_url, "load", str(sample), "--dataflow", GLOBAL_FLOW, "--provider", "MWI")
    assert first.returncode == 0, first.stderr
    changed = tmp_path / "changed.xml"
    text = sample.read_text()
    first_value = text.split('OBS_VALUE="', 1)[1].split('"', 1)[0]
    changed.write_text(text.replace(f'OBS_VALUE="{first_value}"', 'OBS_VALUE="99.5"', 1))
    second = voices(db_url, "load", str(changed), "--dataflow", GLOBAL_FLOW, "--provider", "MWI")
    assert second.returncode == 0, second.stderr
    assert ", 1 changed" in second.stdout
    with session_scope(get_engine(db_url)) as session:
        versions = session.execute(
            select(Observation.obs_value, Observation.from_release, Observation.to_release).where(
                Observation.obs_value.in_([float(first_value), 99.5])
            )
        ).all()
    closed = [v for v in versions if v.to_release is not None]
    assert any(v.obs_value == 99.5 and v.to_release is None for v in versions)
    assert any(v.obs_value == float(first_value) and v.to_release == v.from_release + 1 for v in closed)


def test_identical_reload_is_detected_and_raw_files_are_kept(db_url: str) -> None:
    sample = SDG_SAMPLES / "sample_structspecific_SDG1.8_1-2-1.xml"
    first = voices(db_url, "load", str(sample), "--dataflow", GLOBAL_FLOW, "--provider", "VNM")
    assert first.returncode == 0, first.stderr
    before = store_counts(db_url)
    again = voices(db_url, "load", str(sample), "--dataflow", GLOBAL_FLOW, "--provider", "VNM")
    assert again.returncode == 0, again.stderr
    assert "Identical to upload" in again.stdout and "no new release" in again.stdout
    assert store_counts(db_url) == before
    digest = hashlib.sha256(sample.read_bytes()).hexdigest()
    kept = data_dir_for(db_url) / "uploads" / digest[:2] / digest
    assert kept.read_bytes() == sample.read_bytes()
