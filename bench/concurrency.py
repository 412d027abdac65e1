"""Latency under concurrency: one-series data queries against ``voices serve --workers 4``.

Creates a scratch database (SQLite in a temp dir, or a scratch PostgreSQL database next to ``--url``) with
one published release of LNOB:DF_LNOB(1.0) (``--observations``, 100,000 by default: 5,000 series × 20
years), starts the real server with ``--workers`` uvicorn workers and drives ``--clients`` concurrent
closed-loop clients over loopback (each sends its next request when the previous answer is complete) for
``--duration`` seconds after a ``--warmup``. Every request asks for one random existing series by its full
key, SDMX-CSV 2.0 and SDMX-ML 2.1 generic mixed at random. The same load on GET /health is measured first as
the framework floor. Target: p99 ≤ 50 ms with no errors.

The load generator is asyncio (uvloop when installed) with a minimal keep-alive HTTP/1.1 client; ``--client
httpx`` uses httpx.AsyncClient instead, which on a 2-CPU machine saturates a CPU itself at ~500 req/s.

    python bench/concurrency.py [--url postgresql://postgres@127.0.0.1:5432/test] [--clients 32] [--duration 30]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from _common import (
    ForeignLoad,
    Server,
    child_pids,
    cpu_seconds,
    load_dataset,
    machine,
    percentile,
    scratch_database,
    start_profiler,
    stop_profiler,
    summarize_profile,
    verdict,
    wait_for_quiet,
)

P99_TARGET_MS = 50.0
FORMATS = {
    "csv20": "application/vnd.sdmx.data+csv;version=2.0.0",
    "generic21": "application/vnd.sdmx.genericdata+xml;version=2.1",
}
Request = tuple[str, str, dict[str, str]]
"""(label, path, headers)."""


@dataclass
class Outcome:
    """Latencies (seconds) per request label, errors and the wall time of the measured window."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    wall_s: float = 0.0
    """Whole run including warm-up and the last answers (the CPU figures' denominator)."""
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    foreign_cpus: float = 0.0

    def all_latencies(self) -> list[float]:
        return sorted(x for values in self.latencies.values() for x in values)

    def error_count(self) -> int:
        return sum(self.errors.values())


class RawHttpClient:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams (one connection per closed-loop client).

    httpx.AsyncClient costs ~2 ms of client CPU per request, so on a small machine the load generator, not
    the server, sets the pace; this client reads status, headers and the whole (chunked or sized) body for a
    small fraction of that.
    """

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            return await asyncio.wait_for(self._get(path, headers), self.timeout)
        except BaseException:
            await self.close()
            raise

    async def _get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}", *(f"{k}: {v}" for k, v in headers.items())]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        fields = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            body = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                parts.append((await self.reader.readexactly(size + 2))[:-2])
            while await self.reader.readline() not in (b"\r\n", b""):
                pass
            body = b"".join(parts)
        else:
            body = await self.reader.read()
            fields["connection"] = "close"
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def _client(
    client: httpx.AsyncClient | RawHttpClient,
    pick: Callable[[], Request],
    deadline: float,
    record_from: float,
    budget: list[int],
    outcome: Outcome,
) -> None:
    """One closed-loop client: request, wait for the whole answer, repeat until the deadline or budget."""
    while budget[0] > 0:
        now = time.perf_counter()
        if now >= deadline:
            return
        budget[0] -= 1
        label, path, headers = pick()
        started = time.perf_counter()
        problem = ""
        try:
            if isinstance(client, RawHttpClient):
                status, body = await client.get(path, headers)
            else:
                response = await client.get(path, headers=headers)
                status, body = response.status_code, response.content
            if status != 200 or not body:
                problem = f"HTTP {status}: {body[:120]!r}"
        except (TimeoutError, httpx.HTTPError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        finished = time.perf_counter()
        if problem and finished >= record_from:
            # A failure seen in the measured window counts even if its request started during the warm-up.
            outcome.errors[label] = outcome.errors.get(label, 0) + 1
            if len(outcome.examples) < 5:
                outcome.examples.append(f"{label}: {problem[:160]}")
        if started >= record_from:
            outcome.latencies.setdefault(label, []).append(finished - started)


async def drive(
    base_url: str,
    pick: Callable[[], Request],
    clients: int,
    warmup: float,
    duration: float,
    max_requests: int,
    timeout: float,
    kind: str = "raw",
) -> Outcome:
    """``clients`` concurrent closed-loop clients; only requests started after the warm-up are recorded."""
    outcome = Outcome()
    start = time.perf_counter()
    record_from = start + warmup
    deadline = record_from + duration
    budget = [max_requests]
    if kind == "raw":
        parsed = httpx.URL(base_url)
        raw = [RawHttpClient(parsed.host, parsed.port or 80, timeout) for _ in range(clients)]
        await asyncio.gather(*(_client(c, pick, deadline, record_from, budget, outcome) for c in raw))
        for c in raw:
            await c.close()
    else:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:
            await asyncio.gather(
                *(_client(client, pick, deadline, record_from, budget, outcome) for _ in range(clients))
            )
    outcome.seconds = min(time.perf_counter(), deadline) - record_from
    return outcome


def run_load(
    server: Server,
    pick: Callable[[], Request],
    args: argparse.Namespace,
    profile: Path | None = None,
) -> Outcome:
    """Drive the load in this process (uvloop when installed) and account client and server CPU time."""
    if args.wait_quiet:
        wait_for_quiet(args.wait_quiet)
    workers = child_pids(server.pid) or [server.pid]
    load = ForeignLoad([server.pid, *workers])
    server_before = sum(cpu_seconds(p) for p in workers)
    spy = start_profiler(workers[0], profile) if profile is not None else None
    client_before = time.process_time()
    wall_before = time.perf_counter()
    coroutine = drive(server.base_url, pick, args.clients, args.warmup, args.duration, args.max_requests, args.timeout)
    try:
        import uvloop

        outcome = uvloop.run(coroutine)
    except ImportError:
        outcome = asyncio.run(coroutine)
    outcome.client_cpu_s = time.process_time() - client_before
    outcome.wall_s = time.perf_counter() - wall_before
    stop_profiler(spy)
    outcome.server_cpu_s = sum(cpu_seconds(p) for p in workers) - server_before
    outcome.foreign_cpus = load.cpus()
    return outcome


def _row(label: str, latencies: Sequence[float], errors: int, seconds: float) -> str:
    ms = [x * 1000 for x in latencies]
    return (
        f"{label:36} {len(ms):>9,} {len(ms) / seconds:>8,.0f} {percentile(ms, 0.50):>7.1f} "
        f"{percentile(ms, 0.95):>7.1f} {percentile(ms, 0.99):>7.1f} {max(ms, default=float('nan')):>8.1f} {errors:>7}"
    )


def report(name: str, outcome: Outcome, args: argparse.Namespace, labels: dict[str, str]) -> tuple[float, int]:
    """Print one load's figures; returns (p99 ms, errors)."""
    print()
    print(
        f"{name}: {args.clients} clients, {outcome.seconds:.0f} s measured after {args.warmup:.0f} s warm-up, "
        f"{args.workers} workers, {args.client} client"
    )
    heads = ("count", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors")
    widths = (9, 8, 7, 7, 7, 8, 7)
    print(f"{'requests':36} " + " ".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True)))
    everything = outcome.all_latencies()
    print(_row("all", everything, outcome.error_count(), outcome.seconds))
    if len(outcome.latencies) > 1:
        for label, values in sorted(outcome.latencies.items()):
            print(_row(f"  {labels.get(label, label)}", sorted(values), outcome.errors.get(label, 0), outcome.seconds))
    client = outcome.client_cpu_s / outcome.wall_s
    server = outcome.server_cpu_s / outcome.wall_s
    others = "other processes (PostgreSQL included)" if args.url else "other processes"
    cpus = f"client {client:.0%} of a CPU, server workers {server:.0%}, {others} {outcome.foreign_cpus:.2f} CPUs"
    print(f"CPU over the whole run (warm-up included): {cpus}")
    for example in outcome.examples:
        print(f"  error: {example}")
    return percentile([x * 1000 for x in everything], 0.99), outcome.error_count()


def sweep(url: str, pick: Callable[[], Request], args: argparse.Namespace) -> None:
    """The one-series load at several client counts, a fresh server for each."""
    print()
    print(f"Sweep: one-series data queries, {args.workers} workers, {args.sweep_duration:.0f} s each, fresh server")
    print(f"{'clients':>7} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>8} {'errors':>7} {'server CPU':>10}")
    for clients in (int(n) for n in args.sweep.split(",")):
        point = argparse.Namespace(**{**vars(args), "clients": clients, "duration": args.sweep_duration})
        with Server(url, workers=args.workers) as server:
            outcome = run_load(server, pick, point)
        ms = [x * 1000 for x in outcome.all_latencies()]
        print(
            f"{clients:>7} {len(ms) / outcome.seconds:>8,.0f} {percentile(ms, 0.5):>7.1f} {percentile(ms, 0.95):>7.1f} "
            f"{percentile(ms, 0.99):>8.1f} {outcome.error_count():>7} {outcome.server_cpu_s / outcome.wall_s:>10.0%}",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="PostgreSQL server URL for a scratch database (default: SQLite in a temp dir)")
    parser.add_argument("--observations", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds per load")
    parser.add_argument("--warmup", type=float, default=3.0, help="unrecorded seconds before each load")
    parser.add_argument("--max-requests", type=int, default=2_000_000, help="upper bound of requests per load")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds")
    parser.add_argument("--formats", default="csv20,generic21", help="formats mixed at random")
    parser.add_argument("--seed", type=int, default=2030)
    parser.add_argument(
        "--client", choices=["raw", "httpx"], default="raw", help="load generator: raw asyncio HTTP/1.1 or httpx"
    )
    parser.add_argument("--skip-health", action="store_true", help="skip the GET /health reference")
    parser.add_argument("--profile", type=Path, help="sample one worker with py-spy during the data load into FILE")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="S",
        help="before each load, wait up to S seconds for other processes to leave the CPUs idle",
    )
    parser.add_argument(
        "--sweep",
        default="",
        metavar="N,N,…",
        help="afterwards, the data load again at these client counts (a fresh server each, --sweep-duration s)",
    )
    parser.add_argument("--sweep-duration", type=float, default=10.0)
    args = parser.parse_args()
    backend = "PostgreSQL" if args.url else "SQLite"
    print(f"Voices Exchange concurrency benchmark — {backend}, {machine()}")
    rng = random.Random(args.seed)
    formats = args.formats.split(",")
    with scratch_database(args.url) as url:
        loaded = load_dataset(url, args.observations)
        print(f"loaded {loaded.observations:,} observations in {loaded.series:,} series in {loaded.seconds:.0f} s")
        paths = [f"/sdmx/v1/data/LNOB,DF_LNOB,1.0/{'.'.join(key)}/LNOB,KEN" for key in loaded.keys]

        def pick_series() -> Request:
            fmt = rng.choice(formats)
            return fmt, rng.choice(paths), {"Accept": FORMATS[fmt], "Accept-Encoding": "identity"}

        def pick_health() -> Request:
            return "health", "/health", {}

        with Server(url, workers=args.workers) as server:
            print(f"server: {args.workers} workers up in {server.startup_seconds:.1f} s (pid {server.pid})")
            check = httpx.get(server.base_url + paths[-1], headers={"Accept": FORMATS["csv20"]}, timeout=30)
            rows = check.text.count("\n") - 1
            print(f"sanity: one series in SDMX-CSV 2.0 → HTTP {check.status_code}, {rows} observation rows")
            health_p99 = None
            if not args.skip_health:
                health = run_load(server, pick_health, args)
                health_p99, _ = report("GET /health (framework floor)", health, args, {})
            series = run_load(server, pick_series, args, args.profile)
            labels = {"csv20": "one series, SDMX-CSV 2.0", "generic21": "one series, SDMX-ML 2.1 generic"}
            p99, errors = report("One-series data queries", series, args, labels)
            if errors:
                time.sleep(25)  # requests the clients gave up on may still be waiting inside the server
            logged, last = server.log_problems()
            if logged:
                print(f"server log: {logged} tracebacks, the last: {last[:200]}")
            if args.profile is not None and args.profile.exists():
                print(summarize_profile(args.profile))
        if args.sweep:
            sweep(url, pick_series, args)
    ok = p99 <= P99_TARGET_MS and errors == 0
    floor = f" (GET /health p99 {health_p99:.1f} ms)" if health_p99 is not None else ""
    print()
    print(
        f"Closed loop: mean latency ≈ clients / throughput, so {args.clients} clients under a p99 of "
        f"{P99_TARGET_MS:.0f} ms need well over {args.clients * 1000 / P99_TARGET_MS:,.0f} req/s."
    )
    print(
        f"Target p99 ≤ {P99_TARGET_MS:.0f} ms with no errors: {verdict(ok)} — p99 {p99:.1f} ms, {errors} errors{floor}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
