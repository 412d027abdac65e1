"""Throughput, first-byte time and server memory of the data endpoint in all nine formats.

Creates a scratch database (SQLite in a temp dir, or a scratch PostgreSQL database next to ``--url``),
loads one published release of LNOB:DF_LNOB(1.0) for LNOB:KEN with ``--observations`` observations
(50,000 series × 20 years for 1M), starts the real server (``python -m exchange.cli serve``, a fresh one
per format so each peak RSS belongs to one format) and streams ``/sdmx/v1/data/LNOB,DF_LNOB,1.0/all`` in
each format ``--runs`` times with httpx (identity encoding unless ``--gzip``). Reports medians.

Reference in the same run, on the first ``--reference-observations`` of the same observations (default
100,000, because sdmx1 needs several GB of RAM per million observations): sdmx1 (``sdmx.to_xml`` of a structure-specific
data message, ``sdmx.to_csv``) and pysdmx (``pysdmx.io.write_sdmx``), each run in its own subprocess,
timed from Python rows to serialised bytes (model build + write) with its peak RSS.

    python bench/data_formats.py [--observations 1000000] [--url postgresql://postgres@127.0.0.1:5432/test]
    python bench/data_formats.py --observations 50000 --reference-observations 10000   # quick check
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from _common import (
    DIMENSIONS,
    ForeignLoad,
    Server,
    iter_series,
    load_dataset,
    machine,
    median,
    proc_status_kb,
    scratch_database,
    start_profiler,
    stop_profiler,
    summarize_profile,
    verdict,
    wait_for_quiet,
)

DATA_PATH = "/sdmx/v1/data/LNOB,DF_LNOB,1.0/all"


@dataclass(frozen=True)
class Format:
    key: str
    label: str
    accept: str
    target_obs_per_s: float | None
    marker: bytes | None = None
    """Counted in the body to check the observation count (None: not checked)."""
    per_obs: int = 1
    """Occurrences of the marker per observation."""


FORMATS = [
    Format("generic21", "SDMX-ML 2.1 generic", "application/vnd.sdmx.genericdata+xml;version=2.1", None),
    Format(
        "generic21ts",
        "SDMX-ML 2.1 generic TS",
        "application/vnd.sdmx.generictimeseriesdata+xml;version=2.1",
        None,
    ),
    Format(
        "ss21",
        "SDMX-ML 2.1 struct.-specific",
        "application/vnd.sdmx.structurespecificdata+xml;version=2.1",
        150_000,
        b"<Obs ",
    ),
    Format(
        "ss21ts",
        "SDMX-ML 2.1 struct.-spec. TS",
        "application/vnd.sdmx.structurespecifictimeseriesdata+xml;version=2.1",
        150_000,
        b"<Obs ",
    ),
    Format("ml30", "SDMX-ML 3.0 struct.-specific", "application/vnd.sdmx.data+xml;version=3.0.0", 150_000, b"<Obs "),
    Format("json10", "SDMX-JSON 1.0", "application/vnd.sdmx.data+json;version=1.0.0", 200_000),
    Format("json20", "SDMX-JSON 2.0", "application/vnd.sdmx.data+json;version=2.0.0", 200_000),
    Format("csv10", "SDMX-CSV 1.0", "application/vnd.sdmx.data+csv;version=1.0.0", 400_000, b"\n"),
    Format("csv20", "SDMX-CSV 2.0", "application/vnd.sdmx.data+csv;version=2.0.0", 400_000, b"\n"),
]
BY_KEY = {f.key: f for f in FORMATS}
TTFB_TARGET_S = 1.0
RSS_TARGET_MB = 300.0

REFERENCES: dict[str, list[str]] = {
    "sdmx1": ["ss21", "csv20"],
    "pysdmx": ["ss21", "csv10", "csv20", "generic21", "generic21ts", "ss21ts", "ml30"],
}
"""Library → our format keys it writes (sdmx1's to_csv writes SDMX-CSV 2.0 columns)."""


# ------------------------------------------------------------------------------------------ our server


@dataclass
class Fetch:
    status: int
    headers_s: float
    ttfb_s: float
    t64k_s: float
    """Time until 64 KiB of body arrived (first bytes that hold data, not just a header)."""
    total_s: float
    size: int
    marker_count: int
    error: str = ""
    client_cpu_s: float = 0.0
    """CPU time this (client) process spent on the request: if it nears total_s, the client is the limit."""


@dataclass
class FormatResult:
    fmt: Format
    fetches: list[Fetch] = field(default_factory=list)
    idle_peak_mb: float = 0.0
    peak_mb: float = 0.0
    startup_s: float = 0.0
    foreign_cpus: float = 0.0
    """CPUs kept busy by other processes on the machine during the runs (noise indicator)."""
    error: str = ""

    @property
    def ok(self) -> list[Fetch]:
        return [f for f in self.fetches if f.status == 200 and not f.error]


def fetch(client: httpx.Client, url: str, fmt: Format, gzip: bool) -> Fetch:
    """Stream one response; time to response headers, to the first body byte and to the end."""
    headers = {"Accept": fmt.accept, "Accept-Encoding": "gzip" if gzip else "identity"}
    count, carry, size = 0, b"", 0
    ttfb = headers_at = t64k = 0.0
    cpu = time.process_time()
    started = time.perf_counter()
    try:
        with client.stream("GET", url, headers=headers) as response:
            headers_at = time.perf_counter() - started
            head = b""
            for chunk in response.iter_raw():
                if not ttfb:
                    ttfb = time.perf_counter() - started
                    head = chunk[:300]
                size += len(chunk)
                if not t64k and size >= 65536:
                    t64k = time.perf_counter() - started
                if fmt.marker and not gzip:
                    joined = carry + chunk
                    count += joined.count(fmt.marker)
                    carry = joined[-(len(fmt.marker) - 1) :] if len(fmt.marker) > 1 else b""
            status = response.status_code
            error = "" if status == 200 else f"HTTP {status}: {head!r}"
    except httpx.HTTPError as exc:
        elapsed = time.perf_counter() - started
        return Fetch(0, headers_at, ttfb, t64k, elapsed, size, count, f"{type(exc).__name__}: {exc}")
    elapsed = time.perf_counter() - started
    return Fetch(status, headers_at, ttfb, t64k or elapsed, elapsed, size, count, error, time.process_time() - cpu)


def run_format(
    url: str, fmt: Format, runs: int, gzip: bool, server: Server | None, env: dict[str, str], profile: Path | None
) -> FormatResult:
    """``runs`` timed requests in one format against ``server`` (or a fresh server of its own)."""
    own = server is None
    if server is None:
        server = Server(url, env=env).start()
    result = FormatResult(fmt, idle_peak_mb=server.peak_rss_mb(), startup_s=server.startup_seconds)
    try:
        with httpx.Client(base_url=server.base_url, timeout=httpx.Timeout(600.0)) as client:
            load = ForeignLoad([server.pid])
            for _ in range(runs):
                result.fetches.append(fetch(client, DATA_PATH, fmt, gzip))
                if result.fetches[-1].error:
                    break
            result.foreign_cpus = load.cpus()
            result.peak_mb = server.peak_rss_mb()
            logged, last = server.log_problems()
            if logged and not result.ok:
                result.error = f"server logged {logged} tracebacks, the last: {last}"
            if profile is not None and result.ok:
                profile_request(server, client, fmt, gzip, profile)
    finally:
        if own:
            server.stop()
    return result


def profile_request(server: Server, client: httpx.Client, fmt: Format, gzip: bool, folder: Path) -> None:
    """One extra (untimed) request sampled by py-spy; folded stacks go to ``folder/<format>.txt``."""
    out = folder / f"{fmt.key}.txt"
    spy = start_profiler(server.pid, out)
    if spy is None:
        return
    fetch(client, DATA_PATH, fmt, gzip)
    stop_profiler(spy)
    print(summarize_profile(out))


# ----------------------------------------------------------------------------------- stage breakdown


@dataclass
class Stages:
    """In-process timings (no HTTP): the count query, the engine alone, the engine feeding each writer."""

    count_s: float = 0.0
    engine_s: float = 0.0
    engine_rss_mb: float = 0.0
    """RSS growth of this process while the engine streams the whole dataflow (writer excluded)."""
    with_writer_s: dict[str, float] = field(default_factory=dict)
    error: str = ""


def stage_breakdown(url: str, keys: list[str], runs: int) -> Stages:
    """Time the API's own building blocks in this process: ``DataQueryEngine.count``, ``DataQueryEngine.run``
    consumed to the end (DB fetch + grouping into series), and the same feeding ``write_message`` (+ writer).
    Uses internal APIs, so it reports an error instead of failing when they change."""
    stages = Stages()
    try:
        from _common import FLOW

        from exchange.db import get_engine, session_scope
        from exchange.formats.data_message import WriteOptions
        from exchange.formats.data_writers import write_message
        from exchange.query.engine import DataQueryEngine
        from exchange.query.params import DataQuery
        from exchange.structures.model import Ref
        from exchange.structures.store import load_registry

        engine = get_engine(url)
        with session_scope(engine) as session:
            registry = load_registry(session)
        flow = registry.dataflow(Ref("dataflow", *FLOW))
        queries = DataQueryEngine(engine, registry)

        def timed(action: Callable[[], object]) -> float:
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                action()
                times.append(time.perf_counter() - started)
            return median(times)

        def engine_only() -> None:
            result = queries.run(flow, DataQuery())
            assert result is not None
            for _info, blocks in result.datasets:
                for _block in blocks:
                    pass

        def with_writer(key: str) -> None:
            result = queries.run(flow, DataQuery())
            assert result is not None
            for _chunk in write_message(key, result.datasets, WriteOptions()):
                pass

        stages.count_s = timed(lambda: queries.count(flow, DataQuery()))
        before = proc_status_kb(os.getpid(), "VmRSS")
        stages.engine_s = timed(engine_only)
        stages.engine_rss_mb = (proc_status_kb(os.getpid(), "VmHWM") - before) / 1024
        for key in keys:
            stages.with_writer_s[key] = timed(lambda key=key: with_writer(key))
        engine.dispose()
    except Exception as exc:  # internal APIs may have moved on; the HTTP figures stand on their own
        stages.error = f"{type(exc).__name__}: {exc}"
    return stages


def report_stages(stages: Stages, results: list[FormatResult]) -> None:
    print()
    if stages.error:
        print(f"Stage breakdown unavailable ({stages.error})")
        return
    print("Where the time goes (medians; count / engine / writer measured in-process without HTTP, HTTP = rest):")
    print(
        f"{'format':30} {'count s':>8} {'DB fetch+group s':>16} {'writer s':>9} {'HTTP+framework s':>16} "
        f"{'total s':>8} {'client CPU s':>12}"
    )
    for r in results:
        if not r.ok or r.fmt.key not in stages.with_writer_s:
            continue
        total = median([f.total_s for f in r.ok])
        writer = stages.with_writer_s[r.fmt.key] - stages.engine_s
        rest = total - stages.count_s - stages.with_writer_s[r.fmt.key]
        print(
            f"{r.fmt.label:30} {stages.count_s:>8.2f} {stages.engine_s:>16.2f} {writer:>9.2f} {rest:>16.2f} "
            f"{total:>8.2f} {median([f.client_cpu_s for f in r.ok]):>12.2f}"
        )
    print(
        f"The engine alone (all series keys and series attributes preloaded, then observations streamed) grew "
        f"this process's peak RSS by {stages.engine_rss_mb:.0f} MiB."
    )


# ----------------------------------------------------------------------------------------- references


def fetch_structure(server: Server, path: Path) -> None:
    """The dataflow with its DSD, codelists and concepts (SDMX-ML 2.1) from the server, for the references."""
    started = server.process is None
    if started:
        server.start()
    try:
        body = httpx.get(f"{server.base_url}/sdmx/v1/dataflow/LNOB/DF_LNOB/1.0?references=all", timeout=120)
        body.raise_for_status()
        path.write_bytes(body.content)
    finally:
        if started:
            server.stop()


@dataclass
class Reference:
    library: str
    key: str
    build_s: list[float] = field(default_factory=list)
    write_s: list[float] = field(default_factory=list)
    size: int = 0
    peak_mb: list[float] = field(default_factory=list)
    base_mb: list[float] = field(default_factory=list)
    error: str = ""

    def obs_per_s(self, observations: int, write_only: bool = False) -> float:
        times = self.write_s if write_only else [b + w for b, w in zip(self.build_s, self.write_s, strict=True)]
        return observations / median(times) if times else float("nan")


def _rows(observations: int) -> list[tuple]:
    """Flat rows: 17 dimension codes, TIME_PERIOD, OBS_VALUE, OBS_STATUS, UNIT_MULT, NATURE, UNIT_MEASURE."""
    rows: list[tuple] = []
    for key, obs in iter_series(observations):
        for o in obs:
            if len(rows) == observations:
                return rows
            a = o.attributes
            rows.append((*key, o.period, o.value, a["OBS_STATUS"], a["UNIT_MULT"], a["NATURE"], "PT"))
    return rows


def _sdmx1(key: str, structure: Path, rows: list[tuple], out: Path) -> tuple[int, float, float]:
    import sdmx
    from sdmx.message import DataMessage
    from sdmx.model import v21 as m

    message = sdmx.read_sdmx(structure)
    flow = message.dataflow["DF_LNOB"]
    dsd = flow.structure
    dims = [dsd.dimensions.get(d) for d in DIMENSIONS]
    time_dim = dsd.dimensions.get("TIME_PERIOD")
    measure = dsd.measures.get("OBS_VALUE")
    attrs = {a: dsd.attributes.get(a) for a in ("OBS_STATUS", "UNIT_MULT", "NATURE", "UNIT_MEASURE")}
    base_kb = proc_status_kb(os.getpid(), "VmRSS")
    started = time.perf_counter()
    dataset = m.StructureSpecificDataSet(described_by=flow, structured_by=dsd)
    width = len(DIMENSIONS)
    start = 0
    while start < len(rows):
        key_codes = rows[start][:width]
        end = start
        while end < len(rows) and rows[end][:width] == key_codes:
            end += 1
        series_key = m.SeriesKey(
            described_by=dsd.dimensions,
            values={
                d.id: m.KeyValue(id=d.id, value=code, value_for=d) for d, code in zip(dims, key_codes, strict=True)
            },
            attrib={"UNIT_MEASURE": m.AttributeValue(value=rows[start][-1], value_for=attrs["UNIT_MEASURE"])},
        )
        observations = [
            m.Observation(
                series_key=series_key,
                dimension=m.Key(TIME_PERIOD=row[width]),
                value=row[width + 1],
                value_for=measure,
                attached_attribute={
                    "OBS_STATUS": m.AttributeValue(value=row[width + 2], value_for=attrs["OBS_STATUS"]),
                    "UNIT_MULT": m.AttributeValue(value=row[width + 3], value_for=attrs["UNIT_MULT"]),
                    "NATURE": m.AttributeValue(value=row[width + 4], value_for=attrs["NATURE"]),
                },
            )
            for row in rows[start:end]
        ]
        dataset.add_obs(observations, series_key)
        start = end
    built = time.perf_counter()
    if key == "ss21":
        out.write_bytes(sdmx.to_xml(DataMessage(data=[dataset], dataflow=flow, observation_dimension=time_dim)))
    else:
        sdmx.to_csv(dataset, path=out, attributes="osgd")
    return base_kb, built - started, time.perf_counter() - built


def _pysdmx(key: str, structure: Path, rows: list[tuple], out: Path) -> tuple[int, float, float]:
    import pandas as pd
    from pysdmx.io import read_sdmx, write_sdmx
    from pysdmx.io.format import Format as PyFormat
    from pysdmx.io.pd import PandasDataset

    formats = {
        "ss21": (PyFormat.DATA_SDMX_ML_2_1_STR, True),
        "ss21ts": (PyFormat.DATA_SDMX_ML_2_1_STRTS, False),
        "generic21": (PyFormat.DATA_SDMX_ML_2_1_GEN, True),
        "generic21ts": (PyFormat.DATA_SDMX_ML_2_1_GENTS, False),
        "ml30": (PyFormat.DATA_SDMX_ML_3_0, True),
        "csv10": (PyFormat.DATA_SDMX_CSV_1_0_0, False),
        "csv20": (PyFormat.DATA_SDMX_CSV_2_0_0, False),
    }
    dsd = read_sdmx(str(structure)).get_data_structure_definition("DataStructure=LNOB:DSD_LNOB(1.0)")
    schema = dsd.to_schema()
    columns = [*DIMENSIONS, "TIME_PERIOD", "OBS_VALUE", "OBS_STATUS", "UNIT_MULT", "NATURE", "UNIT_MEASURE"]
    base_kb = proc_status_kb(os.getpid(), "VmRSS")
    started = time.perf_counter()
    dataset = PandasDataset(structure=schema, data=pd.DataFrame(rows, columns=columns))
    built = time.perf_counter()
    sdmx_format, series = formats[key]
    options: dict[str, object] = {"prettyprint": False} if "xml" in sdmx_format.value else {}
    if series:
        options["dimension_at_observation"] = "TIME_PERIOD"
    write_sdmx(dataset, sdmx_format, output_path=str(out), **options)
    return base_kb, built - started, time.perf_counter() - built


def reference_worker(library: str, key: str, structure: Path, observations: int) -> None:
    """Subprocess entry: one library writes one format once; prints a JSON line with times and memory."""
    rows = _rows(observations)
    writer: Callable[[str, Path, list[tuple], Path], tuple[int, float, float]]
    writer = _sdmx1 if library == "sdmx1" else _pysdmx
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"out.{key}"
        base_kb, build_s, write_s = writer(key, structure, rows, out)
        size = out.stat().st_size
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"build_s": build_s, "write_s": write_s, "size": size, "peak_kb": peak_kb, "base_kb": base_kb}))


def run_reference(library: str, key: str, structure: Path, observations: int, runs: int) -> Reference:
    ref = Reference(library, key)
    for _ in range(runs):
        command = [sys.executable, __file__, "--reference-worker", f"{library}:{key}", "--structure", str(structure)]
        command += ["--observations", str(observations)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
        if done.returncode != 0:
            ref.error = (done.stderr.strip().splitlines() or ["failed"])[-1][:200]
            return ref
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        ref.build_s.append(figures["build_s"])
        ref.write_s.append(figures["write_s"])
        ref.size = figures["size"]
        ref.peak_mb.append(figures["peak_kb"] / 1024)
        ref.base_mb.append(figures["base_kb"] / 1024)
    return ref


# --------------------------------------------------------------------------------------------- report


def _mb(size: float) -> str:
    return f"{size / 1e6:,.1f}"


def report_ours(results: list[FormatResult], observations: int, per_format_server: bool) -> dict[str, float]:
    """Print our table; returns median obs/s per format key."""
    rates: dict[str, float] = {}
    print()
    print(
        f"{'format':30} {'obs/s':>10} {'MB/s':>7} {'TTFB s':>7} {'64KB s':>7} {'total s':>8} {'MB':>8} "
        f"{'obs chk':>8} {'RSS idle':>8} {'RSS peak':>8} {'others':>6}"
    )
    for r in results:
        ok = r.ok
        if not ok:
            reason = (r.fetches[-1].error if r.fetches else "no response") + (f" — {r.error}" if r.error else "")
            print(f"{r.fmt.label:30} ERROR {reason[:300]}")
            continue
        total = median([f.total_s for f in ok])
        rates[r.fmt.key] = observations / total
        check = "-"
        if r.fmt.marker and ok[-1].marker_count:
            counted = ok[-1].marker_count // r.fmt.per_obs - (1 if r.fmt.marker == b"\n" else 0)
            check = "ok" if counted == observations else f"{counted:,}"
        print(
            f"{r.fmt.label:30} {rates[r.fmt.key]:>10,.0f} {median([f.size for f in ok]) / total / 1e6:>7.1f} "
            f"{median([f.ttfb_s for f in ok]):>7.3f} {median([f.t64k_s for f in ok]):>7.3f} {total:>8.2f} "
            f"{_mb(median([f.size for f in ok])):>8} {check:>8} {r.idle_peak_mb:>8.0f} {r.peak_mb:>8.0f} "
            f"{r.foreign_cpus:>6.2f}"
        )
    scope = "a fresh server per format" if per_format_server else "one server for all formats (cumulative)"
    print(
        "TTFB: request sent → first body byte; 64KB: → first 64 KiB of body (SDMX-JSON sends 'meta' at once, "
        "the rest after the last series is read)."
    )
    print(
        f"RSS: VmHWM of the serving process in MiB ({scope}); 'idle' is the peak after start-up and /health, "
        "before any data request — VmHWM is a process-lifetime peak. 'others': CPUs kept busy by other "
        "processes during the runs (> 0.2 means the figures are disturbed)."
    )
    return rates


def report_references(refs: list[Reference], observations: int) -> None:
    print()
    print(f"Reference writers on the first {observations:,} observations (own subprocess each, medians):")
    print(
        f"{'library':8} {'format':30} {'build+write obs/s':>17} {'write-only obs/s':>16} {'MB':>7} "
        f"{'peak RSS MB':>11} {'≈ GB per 1M obs':>15}"
    )
    for ref in refs:
        label = BY_KEY[ref.key].label
        if ref.error:
            print(f"{ref.library:8} {label:30} ERROR {ref.error}")
            continue
        grow = median([p - b for p, b in zip(ref.peak_mb, ref.base_mb, strict=True)])
        per_million = grow * 1_000_000 / observations / 1024
        print(
            f"{ref.library:8} {label:30} {ref.obs_per_s(observations):>17,.0f} "
            f"{ref.obs_per_s(observations, write_only=True):>16,.0f} {_mb(ref.size):>7} "
            f"{median(ref.peak_mb):>11,.0f} {per_million:>15.2f}"
        )
    print(
        "build = rows → the library's model (sdmx1 DataSet / pandas DataFrame), write = model → file; "
        "'GB per 1M' extrapolates the peak RSS growth over the baseline (imports, structures and input rows loaded)."
    )


def report_ratios(rates: dict[str, float], refs: list[Reference], ref_observations: int) -> None:
    print()
    print("Ratios (ours, whole dataflow over HTTP / reference build+write; in brackets: / write only):")
    print(f"{'format':30} {'ours obs/s':>11} {'ours/sdmx1':>16} {'ours/pysdmx':>16}")
    by = {(r.library, r.key): r for r in refs if not r.error}
    for fmt in FORMATS:
        if fmt.key not in rates:
            continue
        cells = []
        for library in ("sdmx1", "pysdmx"):
            ref = by.get((library, fmt.key))
            if ref is None:
                cells.append("-")
            else:
                total = rates[fmt.key] / ref.obs_per_s(ref_observations)
                write = rates[fmt.key] / ref.obs_per_s(ref_observations, write_only=True)
                cells.append(f"{total:.1f}× ({write:.1f}×)")
        if cells != ["-", "-"]:
            print(f"{fmt.label:30} {rates[fmt.key]:>11,.0f} {cells[0]:>16} {cells[1]:>16}")


def report_targets(results: list[FormatResult], rates: dict[str, float], observations: int) -> bool:
    print()
    scaled = "" if observations >= 1_000_000 else f" (measured on {observations:,} observations, not 1M)"
    print(
        "Targets: structure-specific SDMX-ML ≥ 150,000 obs/s, SDMX-CSV ≥ 400,000, SDMX-JSON ≥ 200,000, "
        f"first byte < {TTFB_TARGET_S:.0f} s, server peak RSS < {RSS_TARGET_MB:.0f} MB for 1M observations{scaled}"
    )
    print(f"{'format':30} {'throughput':>22} {'first byte':>16} {'peak RSS':>16}")
    all_ok = True
    for r in results:
        if not r.ok:
            print(f"{r.fmt.label:30} {'FAIL (no response)':>22}")
            all_ok = False
            continue
        rate = rates[r.fmt.key]
        target = r.fmt.target_obs_per_s
        speed = "—" if target is None else f"{verdict(rate >= target)} {rate / 1000:,.0f}k/{target / 1000:,.0f}k"
        ttfb = median([f.ttfb_s for f in r.ok])
        cells = [
            speed,
            f"{verdict(ttfb < TTFB_TARGET_S)} {ttfb:.2f} s",
            f"{verdict(r.peak_mb < RSS_TARGET_MB)} {r.peak_mb:.0f} MB",
        ]
        all_ok &= (target is None or rate >= target) and ttfb < TTFB_TARGET_S and r.peak_mb < RSS_TARGET_MB
        print(f"{r.fmt.label:30} {cells[0]:>22} {cells[1]:>16} {cells[2]:>16}")
    print(f"Overall: {verdict(all_ok)}")
    return all_ok


# ----------------------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="PostgreSQL server URL for a scratch database (default: SQLite in a temp dir)")
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="requests per format (median reported)")
    parser.add_argument("--formats", default=",".join(BY_KEY), help="comma-separated format keys")
    parser.add_argument("--reference-observations", type=int, default=100_000)
    parser.add_argument("--reference-runs", type=int, default=3)
    parser.add_argument("--no-references", action="store_true")
    parser.add_argument("--gzip", action="store_true", help="ask for gzip (default: identity, no compression)")
    parser.add_argument("--shared-server", action="store_true", help="one server for every format")
    parser.add_argument("--profile", type=Path, help="also sample one request per format with py-spy into DIR")
    parser.add_argument("--no-analyze", action="store_true", help="skip ANALYZE after the bulk load")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="S",
        help="before each format, wait up to S seconds for other processes to leave the CPUs idle",
    )
    parser.add_argument(
        "--stages", action="store_true", help="also time count / engine / engine+writer in-process (no HTTP)"
    )
    parser.add_argument("--reference-worker", help=argparse.SUPPRESS)
    parser.add_argument("--structure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reference_worker:
        library, key = args.reference_worker.split(":")
        reference_worker(library, key, args.structure, args.observations)
        return 0
    formats = [BY_KEY[k] for k in args.formats.split(",")]
    env = {"VOICES_MAX_RESPONSE_OBSERVATIONS": str(max(2_000_000, args.observations + 1))}
    backend = "PostgreSQL" if args.url else "SQLite"
    print(f"Voices Exchange data-format benchmark — {backend}, {machine()}")
    with scratch_database(args.url) as url, tempfile.TemporaryDirectory() as folder:
        loaded = load_dataset(url, args.observations, analyze=not args.no_analyze)
        print(
            f"loaded {loaded.observations:,} observations in {loaded.series:,} series "
            f"({loaded.missing / loaded.observations:.1%} missing) in {loaded.seconds:.0f} s; "
            f"{args.runs} runs per format, encoding {'gzip' if args.gzip else 'identity'}"
        )
        structure = Path(folder) / "DF_LNOB.xml"
        shared = Server(url, env=env).start() if args.shared_server else None
        results: list[FormatResult] = []
        try:
            if not args.no_references:
                fetch_structure(shared or Server(url, env=env), structure)
            for fmt in formats:
                if args.wait_quiet:
                    wait_for_quiet(args.wait_quiet)
                result = run_format(url, fmt, args.runs, args.gzip, shared, env, args.profile)
                results.append(result)
                ok = result.ok
                summary = (
                    f"{args.observations / median([f.total_s for f in ok]):,.0f} obs/s"
                    if ok
                    else (result.fetches[-1].error if result.fetches else result.error)
                )
                print(f"  {fmt.key}: {summary}", flush=True)
        finally:
            if shared is not None:
                shared.stop()
        rates = report_ours(results, loaded.observations, not args.shared_server)
        if args.stages:
            report_stages(stage_breakdown(url, [r.fmt.key for r in results if r.ok], args.runs), results)
        refs: list[Reference] = []
        if not args.no_references:
            ref_n = min(args.reference_observations, loaded.observations)
            for library, keys in REFERENCES.items():
                for key in keys:
                    if key in BY_KEY and BY_KEY[key] in formats:
                        refs.append(run_reference(library, key, structure, ref_n, args.reference_runs))
                        print(f"  reference {library} {key} done", flush=True)
            report_references(refs, ref_n)
            report_ratios(rates, refs, ref_n)
        ok = report_targets(results, rates, loaded.observations)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
