"""Shared benchmark plumbing: scratch databases, a synthetic LNOB:DF_LNOB dataset, the real server, RSS.

The dataset is deterministic: series ``i`` (0-based) always has the same key, series attributes and
observations, so a reference library run in another process can rebuild exactly the first N observations
the server streams (``iter_series``) without touching the database.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from exchange.store.schema import (  # noqa: E402
    Dataset,
    Observation,
    Release,
    Series,
    SeriesAttributes,
    SeriesDimension,
)

FLOW = ("LNOB", "DF_LNOB", "1.0")
PROVIDER = ("LNOB", "KEN")
DIMENSIONS = (
    "FREQ",
    "REPORTING_TYPE",
    "SERIES",
    "REF_AREA",
    "SEX",
    "AGE",
    "URBANISATION",
    "INCOME_WEALTH_QUANTILE",
    "EDUCATION_LEV",
    "OCCUPATION",
    "CUST_BREAKDOWN",
    "COMPOSITE_BREAKDOWN",
    "DISABILITY_STATUS",
    "ACTIVITY",
    "PRODUCT",
    "POP_GROUP",
    "SUBNATIONAL",
)
OBS_ATTRIBUTES = ("NATURE", "OBS_STATUS", "UNIT_MULT")
"""Observation attributes of every observation (canonical JSON sorts them by id)."""
SERIES_ATTRIBUTE = "UNIT_MEASURE"
YEARS = tuple(range(2006, 2026))
"""20 annual periods per series."""

SERIES_CODES = (
    "SI_COV_DISAB",
    "SP_ACS_BSRVH2O",
    "SE_TOT_CPLR",
    "EN_LND_SLUM",
    "SH_ACS_UNHC",
    "SP_ACS_BSRVSAN",
    "SG_REG_BRTH",
    "IT_MOB_OWN",
    "SI_COV_SOCAST",
    "EG_ACS_ELEC",
)
SUBNATIONAL = ("_T", *(f"KE-{n:02d}" for n in range(1, 48)))
"""Kenya (REF_AREA 404) as a whole and its 47 counties."""
SEXES = ("_T", "F", "M")
AGES = ("_T", "Y15T24", "Y_GE60", "Y_GE65")
POP_GROUPS = ("_T", "PWD", "KE_PWD_REG", "KE_PWD_UNREG", "YOUTH", "KE_YOUTH", "KE_SLUM", "REFUGEE", "OLDER", "GBV")
MAX_SERIES = len(SERIES_CODES) * len(SUBNATIONAL) * len(SEXES) * len(AGES) * len(POP_GROUPS)
MISSING_STATUSES = ("O", "M", "L")
"""OBS_STATUS codes for a missing value (not collected, missing, …)."""
BATCH = 50_000


def series_keys(count: int) -> list[tuple[str, ...]]:
    """The first ``count`` series keys (17 codes each); SERIES varies fastest so small sets stay varied."""
    if count > MAX_SERIES:
        raise ValueError(f"at most {MAX_SERIES:,} distinct series (asked for {count:,})")
    keys = []
    for age, sex, group, area, series in itertools.islice(
        itertools.product(AGES, SEXES, POP_GROUPS, SUBNATIONAL, SERIES_CODES), count
    ):
        disability = "PD" if group.startswith(("PWD", "KE_PWD")) else "_T"
        keys.append(
            ("A", "N", series, "404", sex, age, "_T", "_T", "_T", "_T", "_T", "_T", disability, "_T", "_T", group, area)
        )
    return keys


def _mix(a: int, b: int) -> int:
    """A cheap, well-spread 32-bit hash of two integers (deterministic across processes)."""
    h = (a * 0x9E3779B1 + b * 0x85EBCA77) & 0xFFFFFFFF
    h ^= h >> 15
    h = (h * 0x2C1B3C6D) & 0xFFFFFFFF
    h ^= h >> 12
    return h


@dataclass(frozen=True, slots=True)
class Obs:
    """One synthetic observation: period, value (None when missing) and attribute values."""

    period: str
    value: float | None
    attributes: dict[str, str]
    attributes_json: str
    """Canonical JSON as the store keeps it (sorted keys, no spaces)."""


_ATTRS_JSON: dict[tuple[str, str, str], tuple[dict[str, str], str]] = {}


def _attributes(nature: str, status: str) -> tuple[dict[str, str], str]:
    found = _ATTRS_JSON.get((nature, status, "0"))
    if found is None:
        values = {"NATURE": nature, "OBS_STATUS": status, "UNIT_MULT": "0"}
        found = (values, json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
        _ATTRS_JSON[(nature, status, "0")] = found
    return found


def series_observations(index: int) -> list[Obs]:
    """The 20 observations of series ``index``: percentages with a trend, ~3 % missing."""
    base = 10 + _mix(index, 1) % 8000 / 100
    slope = (_mix(index, 2) % 200 - 60) / 100
    observations = []
    for step, year in enumerate(YEARS):
        h = _mix(index, year)
        if h % 1000 < 30:
            values, encoded = _attributes("CG", MISSING_STATUSES[h % 3])
            observations.append(Obs(str(year), None, values, encoded))
            continue
        bucket = (h >> 10) % 100
        status = "A" if bucket < 85 else "E" if bucket < 95 else "U"
        nature = "CG" if (h >> 17) % 10 else "C"
        value = round(min(100.0, max(0.0, base + slope * step + ((h >> 20) % 300 - 150) / 100)), 1)
        values, encoded = _attributes(nature, status)
        observations.append(Obs(str(year), value, values, encoded))
    return observations


SERIES_ATTRIBUTES = {SERIES_ATTRIBUTE: "PT"}
SERIES_ATTRIBUTES_JSON = json.dumps(SERIES_ATTRIBUTES, sort_keys=True, separators=(",", ":"))


def iter_series(observations: int) -> Iterator[tuple[tuple[str, ...], list[Obs]]]:
    """(key, observations) of the series holding the first ``observations`` observations, in server order."""
    count = -(-observations // len(YEARS))
    for index, key in enumerate(series_keys(count)):
        yield key, series_observations(index)


@dataclass(frozen=True)
class LoadedDataset:
    dataset_id: int
    series: int
    observations: int
    missing: int
    seconds: float
    keys: list[tuple[str, ...]]


# --------------------------------------------------------------------------------------------- databases


def sqlalchemy_url(url: str) -> str:
    """``postgresql://`` → ``postgresql+psycopg://`` (psycopg 3); other URLs unchanged."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@contextmanager
def scratch_database(url: str | None, keep: bool = False) -> Iterator[str]:
    """A fresh, empty database: a SQLite file in a temp dir (``url`` None) or a new PostgreSQL database
    created next to ``url`` and dropped afterwards. Yields its SQLAlchemy URL."""
    if not url:
        folder = Path(tempfile.mkdtemp(prefix="voices-bench-"))
        try:
            yield f"sqlite:///{folder / 'bench.sqlite'}"
        finally:
            if not keep:
                shutil.rmtree(folder, ignore_errors=True)
        return
    admin = create_engine(sqlalchemy_url(url), isolation_level="AUTOCOMMIT")
    name = f"voices_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(sqlalchemy_url(url)).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def check_codes(url: str, keys: Sequence[tuple[str, ...]]) -> None:
    """Every code the synthetic keys and attributes use exists in the DSD's codelists."""
    from exchange.db import get_engine, session_scope
    from exchange.structures.model import Ref
    from exchange.structures.store import load_registry

    with session_scope(get_engine(url)) as session:
        registry = load_registry(session)
    dsd = registry.structure_of(registry.dataflow(Ref("dataflow", *FLOW)))
    used: dict[str, set[str]] = {d: {k[i] for k in keys} for i, d in enumerate(DIMENSIONS)}
    used["OBS_STATUS"] = {"A", "E", "U", *MISSING_STATUSES}
    used["NATURE"] = {"CG", "C"}
    used["UNIT_MULT"] = {"0"}
    used[SERIES_ATTRIBUTE] = {"PT"}
    components = {c.id: c for c in dsd.components}
    assert tuple(d.id for d in dsd.dimensions) == DIMENSIONS, "DSD_LNOB dimensions changed"
    for component_id, codes in used.items():
        enum = components[component_id].representation.enumeration
        codelist = registry.get(enum.maintainable)
        unknown = codes - {item.id for item in codelist.items}
        assert not unknown, f"{component_id}: {unknown} not in {enum.maintainable}"


def load_dataset(url: str, observations: int, analyze: bool = True) -> LoadedDataset:
    """Migrate, load the bundled structures, then bulk-insert one published release of LNOB:DF_LNOB(1.0)
    for LNOB:KEN with ``observations`` observations (20 annual periods per series)."""
    from exchange.cli import prepare_database
    from exchange.config import Settings

    prepare_database(Settings(database_url=url))
    count = -(-observations // len(YEARS))
    keys = series_keys(count)
    check_codes(url, keys)
    engine = create_engine(sqlalchemy_url(url))
    started = time.perf_counter()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        dataset_id = conn.execute(
            insert(Dataset).returning(Dataset.id),
            {
                "dataflow_agency": FLOW[0],
                "dataflow_id": FLOW[1],
                "dataflow_version": FLOW[2],
                "provider_agency": PROVIDER[0],
                "provider_id": PROVIDER[1],
            },
        ).scalar_one()
    writer = _copy_rows if engine.dialect.name == "postgresql" else _insert_rows
    missing, total = writer(engine, dataset_id, keys, observations)
    with engine.begin() as conn:
        conn.execute(
            insert(Release),
            {
                "dataset_id": dataset_id,
                "number": 1,
                "status": "published",
                "action": "replace",
                "created_at": now,
                "published_at": now,
                "created_by": "bench",
                "source_name": "bench/_common.py",
                "source_format": "synthetic",
                "observation_count": total,
                "series_count": len(keys),
                "dataset_attributes": "{}",
            },
        )
    if analyze:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    seconds = time.perf_counter() - started
    engine.dispose()
    return LoadedDataset(dataset_id, len(keys), total, missing, seconds, keys)


def _rows(keys: Sequence[tuple[str, ...]], observations: int) -> Iterator[tuple[int, Obs]]:
    """(series id, observation) for the first ``observations`` observations; series ids start at 1."""
    left = observations
    for index in range(len(keys)):
        for obs in series_observations(index)[: min(left, len(YEARS))]:
            yield index + 1, obs
        left -= len(YEARS)


def _period(obs: Obs) -> tuple[datetime, datetime]:
    year = int(obs.period)
    return datetime(year, 1, 1), datetime(year + 1, 1, 1)


def _insert_rows(
    engine: Engine, dataset_id: int, keys: Sequence[tuple[str, ...]], observations: int
) -> tuple[int, int]:
    """SQLAlchemy core executemany in batches of :data:`BATCH` rows (any database)."""

    def batches(rows: Iterator[dict]) -> Iterator[list[dict]]:
        while batch := list(itertools.islice(rows, BATCH)):
            yield batch

    with engine.begin() as conn:
        for batch in batches(
            {"id": sid, "dataset_id": dataset_id, "series_key": ".".join(key)} for sid, key in enumerate(keys, start=1)
        ):
            conn.execute(insert(Series), batch)
        dims = (
            {"series_id": sid, "position": pos, "dataset_id": dataset_id, "value": code}
            for sid, key in enumerate(keys, start=1)
            for pos, code in enumerate(key)
        )
        for batch in batches(dims):
            conn.execute(insert(SeriesDimension), batch)
        attrs = (
            {"series_id": sid, "from_release": 1, "to_release": None, "attributes": SERIES_ATTRIBUTES_JSON}
            for sid in range(1, len(keys) + 1)
        )
        for batch in batches(attrs):
            conn.execute(insert(SeriesAttributes), batch)
        counts = {"missing": 0, "total": 0}
        periods = {str(y): (datetime(y, 1, 1), datetime(y + 1, 1, 1)) for y in YEARS}

        def obs_rows() -> Iterator[dict]:
            for sid, obs in _rows(keys, observations):
                counts["total"] += 1
                counts["missing"] += obs.value is None
                start, end = periods[obs.period]
                yield {
                    "series_id": sid,
                    "time_period": obs.period,
                    "period_start": start,
                    "period_end": end,
                    "obs_value": obs.value,
                    "attributes": obs.attributes_json,
                    "from_release": 1,
                    "to_release": None,
                }

        for batch in batches(obs_rows()):
            conn.execute(insert(Observation), batch)
    return counts["missing"], counts["total"]


def _copy_rows(engine: Engine, dataset_id: int, keys: Sequence[tuple[str, ...]], observations: int) -> tuple[int, int]:
    """PostgreSQL COPY (as bench/query_plans.py), then the id sequences moved past the explicit ids."""
    raw = engine.raw_connection()
    missing = total = 0
    try:
        cursor = raw.cursor()
        with cursor.copy("COPY series (id, dataset_id, series_key) FROM STDIN") as copy:
            for sid, key in enumerate(keys, start=1):
                copy.write_row((sid, dataset_id, ".".join(key)))
        with cursor.copy("COPY series_dimension (series_id, position, dataset_id, value) FROM STDIN") as copy:
            for sid, key in enumerate(keys, start=1):
                for position, value in enumerate(key):
                    copy.write_row((sid, position, dataset_id, value))
        with cursor.copy("COPY series_attributes (series_id, from_release, attributes) FROM STDIN") as copy:
            for sid in range(1, len(keys) + 1):
                copy.write_row((sid, 1, SERIES_ATTRIBUTES_JSON))
        with cursor.copy(
            "COPY observation (series_id, time_period, period_start, period_end, obs_value, attributes, "
            "from_release) FROM STDIN"
        ) as copy:
            for sid, obs in _rows(keys, observations):
                total += 1
                missing += obs.value is None
                start, end = _period(obs)
                copy.write_row((sid, obs.period, start, end, obs.value, obs.attributes_json, 1))
        cursor.execute("SELECT setval(pg_get_serial_sequence('series', 'id'), (SELECT max(id) FROM series))")
        raw.commit()
    finally:
        raw.close()
    return missing, total


# ------------------------------------------------------------------------------------------------ server


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_status_kb(pid: int, field: str) -> int:
    """A ``kB`` field of /proc/<pid>/status (``VmHWM`` = peak RSS, ``VmRSS`` = current RSS); 0 if gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def system_busy_seconds() -> float:
    """CPU seconds all CPUs have spent busy since boot (from /proc/stat), to estimate other processes' load."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except FileNotFoundError:
        return 0.0
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    guest = sum(values[8:10]) if len(values) > 9 else 0  # already counted in user/nice
    return (sum(values) - idle - guest) / os.sysconf("SC_CLK_TCK")


class ForeignLoad:
    """CPU used by processes other than the given ones (and this one) over a time window, as CPUs busy."""

    def __init__(self, pids: Sequence[int] = ()) -> None:
        self.pids = list(pids)
        self.started = time.perf_counter()
        self.busy = system_busy_seconds()
        self.ours = self._ours()

    def _ours(self) -> float:
        return time.process_time() + sum(cpu_seconds(p) for p in self.pids)

    def cpus(self) -> float:
        """Average number of CPUs other processes kept busy since construction."""
        wall = time.perf_counter() - self.started
        foreign = (system_busy_seconds() - self.busy) - (self._ours() - self.ours)
        return max(0.0, foreign / wall) if wall > 0 else 0.0


def wait_for_quiet(max_wait: float, threshold: float = 0.3, window: float = 2.0) -> float:
    """Wait (at most ``max_wait`` s) until other processes keep fewer than ``threshold`` CPUs busy over a
    ``window``; returns the last measured foreign load. Benchmarks on a shared machine call it between runs."""
    deadline = time.monotonic() + max_wait
    while True:
        load = ForeignLoad()
        time.sleep(window)
        cpus = load.cpus()
        if cpus < threshold or time.monotonic() >= deadline:
            return cpus


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` that are uvicorn workers (not multiprocessing's resource tracker)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"resource_tracker" not in command:
                found.append(int(child))
    return found


class Server:
    """``python -m exchange.cli serve`` as a subprocess, ready once GET /health answers 200.

    With one worker uvicorn serves in the started process itself, so :meth:`peak_rss_mb` (VmHWM) is the
    serving process's lifetime peak.
    """

    def __init__(
        self,
        url: str,
        *,
        workers: int = 1,
        env: dict[str, str] | None = None,
        log_dir: Path | None = None,
        ready_timeout: float = 180.0,
    ) -> None:
        self.url = url
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.extra_env = env or {}
        self.log_path = (log_dir or Path(tempfile.gettempdir())) / f"voices-serve-{self.port}.log"
        self.keep_log = log_dir is not None
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> Server:
        env = {
            **os.environ,
            "VOICES_DATABASE_URL": self.url,
            "VOICES_LOG_LEVEL": "warning",
            "VOICES_WORKERS": str(self.workers),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            **self.extra_env,
        }
        command = [sys.executable, "-m", "exchange.cli", "serve", "--port", str(self.port)]
        command += ["--workers", str(self.workers)]
        started = time.perf_counter()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_ready()
        self.startup_seconds = time.perf_counter() - started
        return self

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.ready_timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
                try:
                    if client.get(f"{self.base_url}/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready after {self.ready_timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def log_problems(self) -> tuple[int, str]:
        """Tracebacks the server has logged so far and the exception line of the last one."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return 0, ""
        count = sum(line.startswith("Traceback") for line in lines)
        last = next((line for line in reversed(lines) if line and not line.startswith((" ", "^"))), "")
        return count, last if count else ""

    def peak_rss_mb(self) -> float:
        """VmHWM of the server process (lifetime peak resident set) in MiB."""
        return proc_status_kb(self.pid, "VmHWM") / 1024

    def rss_mb(self) -> float:
        return proc_status_kb(self.pid, "VmRSS") / 1024

    def stop(self) -> None:
        """SIGINT (uvicorn shuts down gracefully), then SIGKILL to the server's own process group; the log is
        removed unless a log directory was given."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        if not self.keep_log:
            self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# ----------------------------------------------------------------------------------------------- profiles

PROFILE_CATEGORIES = (
    ("DB driver (sqlite3/psycopg: query execution)", ("do_execute", "sqlite3", "psycopg/")),
    ("SQLAlchemy (session, compile, pool, rows)", ("sqlalchemy/",)),
    ("writer (exchange/formats)", ("exchange/formats/",)),
    ("query engine + store (exchange/query, exchange/store)", ("exchange/query/", "exchange/store/")),
    ("structures / registry (exchange/structures)", ("exchange/structures/",)),
    ("api/ (routes, parsing, negotiation)", ("api/",)),
    ("FastAPI / Starlette / anyio (incl. thread-pool hops)", ("fastapi/", "starlette/", "anyio/")),
    ("uvicorn / asyncio (HTTP parsing, socket writes)", ("uvicorn/", "asyncio/", "h11", "httptools")),
)
_IDLE_LEAVES = ("Condition.wait", "Runner.run", "select ", "_worker ", "wait (threading", "Connection._recv ")
"""Leaf frames of waiting threads: thread-pool workers, the event loop, uvicorn's supervisor pipe."""


def start_profiler(pid: int, out: Path, rate: int = 250) -> subprocess.Popen[bytes] | None:
    """py-spy sampling ``pid`` into folded stacks at ``out`` until :func:`stop_profiler` (None: no py-spy)."""
    spy = shutil.which("py-spy")
    if spy is None:
        print("  (py-spy not installed: pip install py-spy)")
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [spy, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw", "-o", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attach before the work starts
    return process


def stop_profiler(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def summarize_profile(path: Path, top: int = 12) -> str:
    """Busy samples of a py-spy folded-stack file by component (innermost known frame decides), plus the
    project functions with the largest inclusive share. Idle waits (thread pool, event loop) are left out."""
    rows: list[tuple[list[str], int]] = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if frames and not frames[-1].startswith(_IDLE_LEAVES):
            rows.append((frames, int(count)))
    total = sum(n for _, n in rows)
    if not total:
        return f"{path}: no busy samples"
    by_category: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    for frames, count in rows:
        category = "other"
        for frame in reversed(frames):
            hit = next((name for name, marks in PROFILE_CATEGORIES if any(m in frame for m in marks)), None)
            if hit:
                category = hit
                break
        by_category[category] = by_category.get(category, 0) + count
        seen: set[str] = set()
        for frame in frames:
            if ("(api/" in frame or "(exchange/" in frame) and (name := frame.split(" (")[0]) not in seen:
                seen.add(name)
                inclusive[name] = inclusive.get(name, 0) + count
    lines = [f"{path.name}: {total:,} busy samples, by innermost component:"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in sorted(by_category.items(), key=lambda x: -x[1])]
    lines.append("  project functions, inclusive:")
    ranked = sorted(inclusive.items(), key=lambda x: -x[1])
    lines += [f"  {n / total:6.1%}  {name}" for name, n in ranked[:top]]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- figures


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def machine() -> str:
    """One line about the machine the figures come from."""
    cpus = os.cpu_count() or 0
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (FileNotFoundError, StopIteration):
        model = "unknown CPU"
    return f"{cpus} CPU(s), {model}, Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f}"
