"""Concurrency benchmark of the trainer API (run by hand, prints figures; not part of the suite).

    .venv/bin/python bench/bench_load.py [--seconds 60] [--clients 20] [--think-ms 0]
                                         [--sse-connects 1000] [--sse-batch 50]

Starts the real API (`create_app` served as `acc serve` serves it) in a child process on a free
loopback port. The child wraps the app in one extra route, `/_bench/probe`, which answers the
number of asyncio tasks on the server's loop, the live `/runs/events` stream generators and the
threads; RSS and threads are also read from /proc/<pid>.

1. Load: an inspector session (bcl-med); for `--seconds` one client POSTs /inspect/step (n=1,
   every tenth call n=10) in a loop while `--clients` clients poll GET /health, /inspect/state,
   /inspect/history?since=<recent> and /inspect/step/<a retained step> (binary frame and JSON
   alternately). Reports requests, errors (non-2xx other than 404 for an evicted step), latency
   p50/p95/p99/max per route, the stepping rate, and that steps never interleave: each POST's
   step is the previous one + n, every history answer is gap-free from `since`, and the full
   history at the end is 1..N.
2. SSE: `--sse-connects` connections to GET /runs/events, `--sse-batch` at a time, each reading
   its first event (and with a run, its first `steps` event) and disconnecting; with no run, a
   paused run and a running one. Reports server RSS, tasks, stream generators and threads before,
   right after and after settling.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx2

FRAME = "application/x-acc-frame"
JSON = "application/json"
PROBE = "/_bench/probe"


# -- the server (child process) --------------------------------------------------------------------


def serve(port: int) -> None:
    """`acc serve` plus the probe route."""
    import gc
    import threading
    import types

    from acc.api import runs
    from acc.api.app import create_app
    from acc.api.server import AccServer, server_config
    from acc.data import load_mnist
    from acc.settings import Settings

    app = create_app(settings=Settings(port=port), data=load_mnist())

    def live_streams() -> int:
        gc.collect()
        return sum(
            1
            for obj in gc.get_objects()
            if type(obj) is types.AsyncGeneratorType
            and obj.ag_code.co_filename == runs.__file__
            and obj.ag_frame is not None
        )

    async def with_probe(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == PROBE:
            body = json.dumps(
                {
                    "tasks": len(asyncio.all_tasks()) - 1,  # not this request's own task
                    "streams": live_streams(),
                    "threads": threading.active_count(),
                }
            ).encode()
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    # As `acc serve` serves it: the same protocol, timeouts and shutdown.
    AccServer(server_config(with_probe, "127.0.0.1", port), app.state.shutdown.set).run()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_figures(pid: int) -> dict[str, float]:
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return {"rss_mb": round(rss, 1), "os_threads": len(os.listdir(f"/proc/{pid}/task"))}


async def probe(http: httpx2.AsyncClient, pid: int) -> dict[str, Any]:
    response = await http.get(PROBE)
    response.raise_for_status()
    return {**response.json(), **proc_figures(pid)}


# -- latency bookkeeping ---------------------------------------------------------------------------


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, Counter[int]] = defaultdict(Counter)
        self.errors: list[str] = []
        self.evicted = 0
        self.slowest: list[tuple[float, float, str]] = []  # (ms, seconds into the run, route)
        self.origin = time.perf_counter()

    async def call(
        self,
        route: str,
        http: httpx2.AsyncClient,
        method: str,
        url: str,
        allow_404: bool = False,
        **kwargs: Any,
    ) -> httpx2.Response | None:
        started = time.perf_counter()
        try:
            response = await http.request(method, url, **kwargs)
        except httpx2.HTTPError as error:
            self.status[route][0] += 1
            self.errors.append(f"{route}: {type(error).__name__}: {error}")
            return None
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.latency[route].append(elapsed_ms)
        if elapsed_ms > 250:
            self.slowest.append((elapsed_ms, started - self.origin, route))
        self.status[route][response.status_code] += 1
        if response.status_code == 404 and allow_404:
            self.evicted += 1
        elif not 200 <= response.status_code < 300:
            self.errors.append(f"{route} -> {response.status_code}: {response.text[:200]}")
        return response


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def print_latencies(stats: Stats, seconds: float) -> None:
    print(
        f"   {'route':<34} {'requests':>8} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7}"
        f" {'max':>7}  statuses"
    )
    for route in sorted(stats.latency):
        times = stats.latency[route]
        statuses = " ".join(f"{code}:{n}" for code, n in sorted(stats.status[route].items()))
        print(
            f"   {route:<34} {len(times):8d} {len(times) / seconds:7.1f} "
            f"{percentile(times, 0.5):7.1f} {percentile(times, 0.95):7.1f} "
            f"{percentile(times, 0.99):7.1f} {max(times):7.1f}  {statuses}"
        )


# -- 1. load ---------------------------------------------------------------------------------------


async def load_phase(url: str, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    async with httpx2.AsyncClient(base_url=url, timeout=120) as http:
        (await http.post("/inspect/setup", json={"condition": "bcl-med"})).raise_for_status()
        warm = await http.post("/inspect/step", json={"n": 5}, headers={"accept": FRAME})
        warm.raise_for_status()
        quiet: list[float] = []
        for _ in range(200):
            started = time.perf_counter()
            (await http.get("/health")).raise_for_status()
            quiet.append((time.perf_counter() - started) * 1000)
        before = await probe(http, pid)

    stats = Stats()
    shared: dict[str, Any] = {"last": int(warm.headers["x-acc-step"]), "retained": None}
    interleaved: list[str] = []
    history_gaps: list[str] = []
    stepped = {"steps": 0, "calls": 0}
    server: list[dict[str, Any]] = []
    think = args.think_ms / 1000
    # Every client is made before the clock starts: making one costs ~20 ms of client CPU (its
    # TLS context), which would otherwise show up as a stall of the first requests.
    clients = [httpx2.AsyncClient(base_url=url, timeout=120) for _ in range(args.clients + 1)]

    async def stepper(http: httpx2.AsyncClient) -> None:
        async with http:
            previous = shared["last"]
            call = 0
            while time.monotonic() < stop_at:
                call += 1
                n = 10 if call % 10 == 0 else 1
                response = await stats.call(
                    f"POST /inspect/step n={n}",
                    http,
                    "POST",
                    "/inspect/step",
                    json={"n": n},
                    headers={"accept": FRAME},
                )
                if response is None or response.status_code != 200:
                    continue
                step = int(response.headers["x-acc-step"])
                if step != previous + n:
                    interleaved.append(f"n={n} after step {previous} answered step {step}")
                previous = shared["last"] = step
                stepped["steps"] += n
                stepped["calls"] += 1

    async def poller(index: int, http: httpx2.AsyncClient) -> None:
        async with http:
            turn = index  # the pollers start on different routes
            while time.monotonic() < stop_at:
                kind = turn % 4
                turn += 1
                if kind == 0:
                    await stats.call("GET /health", http, "GET", "/health")
                elif kind == 1:
                    response = await stats.call("GET /inspect/state", http, "GET", "/inspect/state")
                    if response is not None and response.status_code == 200:
                        shared["retained"] = response.json().get("retained")
                elif kind == 2:
                    since = max(1, shared["last"] - 20)
                    response = await stats.call(
                        "GET /inspect/history?since=",
                        http,
                        "GET",
                        f"/inspect/history?since={since}",
                    )
                    if response is not None and response.status_code == 200:
                        steps = response.json()["steps"]
                        if not steps or steps[0] != since:
                            history_gaps.append(f"since={since}: starts at {steps[:1]}")
                        elif steps != list(range(since, since + len(steps))):
                            history_gaps.append(f"since={since}: not consecutive")
                else:
                    retained = shared["retained"]
                    if not retained:
                        continue
                    step = random.randint(retained[0], retained[1])
                    accept = FRAME if turn % 8 < 4 else JSON
                    await stats.call(
                        f"GET /inspect/step/{{k}} {'frame' if accept == FRAME else 'json'}",
                        http,
                        "GET",
                        f"/inspect/step/{step}",
                        allow_404=True,
                        headers={"accept": accept},
                    )
                if think:
                    await asyncio.sleep(think * random.uniform(0.5, 1.5))

    async def sampler() -> None:
        while time.monotonic() < stop_at:
            server.append(
                {"t": round(args.seconds - (stop_at - time.monotonic()), 1), **proc_figures(pid)}
            )
            await asyncio.sleep(1)

    started = stats.origin = time.perf_counter()
    stop_at = time.monotonic() + args.seconds
    await asyncio.gather(
        stepper(clients[0]),
        sampler(),
        *(poller(i, http) for i, http in enumerate(clients[1:])),
    )
    elapsed = time.perf_counter() - started

    async with httpx2.AsyncClient(base_url=url, timeout=120) as http:
        state = (await http.get("/inspect/state")).json()
        steps: list[int] = []
        since, more = 0, True
        while more:  # the history comes in pages of at most `limit` steps
            page = (await http.get(f"/inspect/history?since={since}")).json()
            steps += page["steps"]
            more = bool(page.get("more")) and bool(page["steps"])
            since = steps[-1] + 1 if steps else since
        after = await probe(http, pid)
        (await http.post("/inspect/teardown", json={})).raise_for_status()
        torn_down = await probe(http, pid)
    final_ok = steps == list(range(1, state["step"] + 1))
    return {
        "seconds": round(elapsed, 1),
        "clients": args.clients,
        "think_ms": args.think_ms,
        "quiet_health_ms": {
            "p50": round(percentile(quiet, 0.5), 2),
            "p99": round(percentile(quiet, 0.99), 2),
            "max": round(max(quiet), 2),
        },
        "stats": stats,
        "steps_per_s": stepped["steps"] / elapsed,
        "step_calls": stepped["calls"],
        "final_step": state["step"],
        "interleaved": interleaved,
        "history_gaps": history_gaps,
        "final_history_ok": final_ok,
        "final_history_steps": len(steps),
        "server_before": before,
        "server_after": after,
        "server_torn_down": torn_down,
        "server_curve": server,
    }


def print_load(result: dict[str, Any]) -> None:
    stats: Stats = result["stats"]
    print(
        f"\n== load: {result['seconds']} s, 1 stepping client + {result['clients']} polling "
        f"clients (think time {result['think_ms']} ms)"
    )
    quiet = result["quiet_health_ms"]
    print(
        f"   GET /health with no load: p50 {quiet['p50']} ms, p99 {quiet['p99']} ms, "
        f"max {quiet['max']} ms"
    )
    print_latencies(stats, result["seconds"])
    total = sum(len(v) for v in stats.latency.values())
    print(
        f"   requests {total} ({total / result['seconds']:.0f}/s); errors {len(stats.errors)}; "
        f"404 for evicted steps {stats.evicted}"
    )
    for error in stats.errors[:10]:
        print(f"     error: {error}")
    slow = [
        entry for entry in stats.slowest if not entry[2].startswith(("POST", "GET /inspect/step/"))
    ]
    if slow:
        moments = sorted({round(at) for _, at, _ in slow})
        print(
            f"   light requests (health, state, history) over 250 ms: {len(slow)}, started at "
            f"{', '.join(f'{m} s' for m in moments[:12])}{' …' if len(moments) > 12 else ''}"
        )
    print(
        f"   stepping client: {result['step_calls']} calls, {result['steps_per_s']:.1f} steps/s; "
        f"session at step {result['final_step']}"
    )
    print(
        f"   interleaving: {len(result['interleaved'])} POSTs whose step was not previous + n; "
        f"{len(result['history_gaps'])} history answers with a gap; full history 1..N "
        f"{'ok' if result['final_history_ok'] else 'BROKEN'} ({result['final_history_steps']} steps)"
    )
    for problem in (result["interleaved"] + result["history_gaps"])[:10]:
        print(f"     {problem}")
    for label in ("server_before", "server_after", "server_torn_down"):
        figures = result[label]
        print(
            f"   server {label[7:]:<10} RSS {figures['rss_mb']:7.1f} MB, {figures['tasks']} tasks, "
            f"{figures['threads']} Python threads ({figures['os_threads']} OS threads)"
        )
    health = stats.latency.get("GET /health", [])
    if health:
        print(
            f"SUMMARY load: {total} requests in {result['seconds']} s, {len(stats.errors)} errors, "
            f"/health p99 {percentile(health, 0.99):.1f} ms (max {max(health):.1f}), stepping "
            f"{result['steps_per_s']:.1f} steps/s, interleaved {len(result['interleaved'])}, "
            f"history gaps {len(result['history_gaps'])}"
        )


# -- 2. SSE connects -------------------------------------------------------------------------------


async def sse_once(http: httpx2.AsyncClient, with_steps: bool) -> tuple[float, float | None]:
    """Connect, read the first event (and the first `steps` event when asked), disconnect.
    Returns the time to the first event and to the first `steps` event, in ms."""
    started = time.perf_counter()
    first: float | None = None
    async with http.stream("GET", "/runs/events") as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                if first is None:
                    first = (time.perf_counter() - started) * 1000
                    if not with_steps:
                        break
                elif line == "event: steps":
                    return first, (time.perf_counter() - started) * 1000
    assert first is not None
    return first, None


async def settle(http: httpx2.AsyncClient, pid: int, baseline: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    started = time.monotonic()
    while True:
        figures = await probe(http, pid)
        back = figures["tasks"] <= baseline["tasks"] + 1 and figures["streams"] == 0
        if back or time.monotonic() > deadline:
            return {**figures, "settle_s": round(time.monotonic() - started, 1)}
        await asyncio.sleep(0.25)


async def sse_phase(url: str, pid: int, scenario: str, connects: int, batch: int) -> dict[str, Any]:
    async with httpx2.AsyncClient(base_url=url, timeout=60) as http:
        if scenario != "no run":
            paused = scenario == "paused run"
            body = {"condition": "bcl-med", "steps": 1_000_000, "paused": paused}
            (await http.post("/runs", json=body)).raise_for_status()
            # A running run is measured once its 50 full snapshots (every 10th step) are held,
            # so that their filling up does not count as growth.
            while not paused and (await http.get("/runs/current")).json()["step"] < 700:
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.5)
        before = await probe(http, pid)
        limits = httpx2.Limits(max_connections=batch, max_keepalive_connections=0)
        firsts: list[float] = []
        steps_ms: list[float] = []
        failures: list[str] = []
        started = time.perf_counter()
        async with httpx2.AsyncClient(base_url=url, timeout=60, limits=limits) as sse:
            done = 0
            while done < connects:
                n = min(batch, connects - done)
                results = await asyncio.gather(
                    *(sse_once(sse, scenario != "no run") for _ in range(n)),
                    return_exceptions=True,
                )
                for result in results:
                    if isinstance(result, BaseException):
                        failures.append(f"{type(result).__name__}: {result}")
                    else:
                        firsts.append(result[0])
                        if result[1] is not None:
                            steps_ms.append(result[1])
                done += n
        elapsed = time.perf_counter() - started
        right_after = await probe(http, pid)
        settled = await settle(http, pid, before)
        run_step = None
        if scenario != "no run":
            run_step = (await http.get("/runs/current")).json()["step"]
            (await http.post("/runs/stop", json={})).raise_for_status()
    return {
        "scenario": scenario,
        "connects": connects,
        "batch": batch,
        "seconds": round(elapsed, 1),
        "failures": failures,
        "first_event_ms": firsts,
        "first_steps_ms": steps_ms,
        "run_step": run_step,
        "before": before,
        "right_after": right_after,
        "settled": settled,
    }


def print_sse(result: dict[str, Any]) -> None:
    before, after, settled = result["before"], result["right_after"], result["settled"]
    firsts = result["first_event_ms"]
    line = (
        f"   {result['scenario']:<12} {result['connects']} connects in {result['seconds']} s, "
        f"{len(result['failures'])} failed; first event p50 {percentile(firsts, 0.5):.1f} "
        f"p99 {percentile(firsts, 0.99):.1f} ms"
    )
    if result["first_steps_ms"]:
        steps = result["first_steps_ms"]
        line += f"; first steps event p50 {percentile(steps, 0.5):.1f} ms"
    if result["run_step"] is not None:
        line += f" (run at step {result['run_step']})"
    print(line)
    for label, figures in (("before", before), ("right after", after), ("settled", settled)):
        extra = f" after {figures['settle_s']} s" if "settle_s" in figures else ""
        print(
            f"     {label:<12} RSS {figures['rss_mb']:7.1f} MB, tasks {figures['tasks']:4d}, "
            f"live streams {figures['streams']:4d}, threads {figures['threads']} "
            f"(OS {figures['os_threads']}){extra}"
        )
    for failure in result["failures"][:5]:
        print(f"     failure: {failure}")
    print(
        f"SUMMARY sse {result['scenario']}: {result['connects']} connects, growth RSS "
        f"{settled['rss_mb'] - before['rss_mb']:+.1f} MB, tasks {settled['tasks'] - before['tasks']:+d}, "
        f"live streams {settled['streams']}, OS threads {settled['os_threads'] - before['os_threads']:+d}"
    )


# -- main ------------------------------------------------------------------------------------------


def start_server(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)],
        cwd=Path(__file__).resolve().parents[1],
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            httpx2.get(f"http://127.0.0.1:{port}/health", timeout=2).raise_for_status()
            return server
        except httpx2.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the load phase")
    parser.add_argument("--clients", type=int, default=20, help="polling clients")
    parser.add_argument("--think-ms", type=float, default=0.0, help="pause between polls")
    parser.add_argument("--sse-connects", type=int, default=1000)
    parser.add_argument("--sse-batch", type=int, default=50)
    parser.add_argument(
        "--sse-scenarios", default="no run,paused run,running run", help="comma-separated"
    )
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--out", default="/tmp/acc_load.json", help="JSON with the figures")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    port = free_port()
    load_start = [round(v, 2) for v in os.getloadavg()]
    server = start_server(port)
    url = f"http://127.0.0.1:{port}"
    report: dict[str, Any] = {"cpus": os.cpu_count(), "load_at_start": load_start}
    try:
        if not args.skip_load:
            load = asyncio.run(load_phase(url, server.pid, args))
            print_load(load)
            stats: Stats = load.pop("stats")
            load["routes"] = {
                route: {
                    "requests": len(times),
                    "p50_ms": percentile(times, 0.5),
                    "p95_ms": percentile(times, 0.95),
                    "p99_ms": percentile(times, 0.99),
                    "max_ms": max(times),
                    "statuses": dict(stats.status[route]),
                }
                for route, times in stats.latency.items()
            }
            load["errors"] = stats.errors
            load["evicted_404"] = stats.evicted
            report["load"] = load
        print(
            f"\n== SSE: {args.sse_connects} connects to GET /runs/events, {args.sse_batch} at a "
            "time, each reading its first event(s) and disconnecting"
        )
        report["sse"] = []
        for scenario in args.sse_scenarios.split(","):
            result = asyncio.run(
                sse_phase(url, server.pid, scenario.strip(), args.sse_connects, args.sse_batch)
            )
            print_sse(result)
            for key in ("first_event_ms", "first_steps_ms"):
                values = result.pop(key)
                result[key] = (
                    {
                        "p50": percentile(values, 0.5),
                        "p99": percentile(values, 0.99),
                        "max": max(values),
                    }
                    if values
                    else None
                )
            report["sse"].append(result)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(20)
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    report["load_at_end"] = [round(v, 2) for v in os.getloadavg()]
    Path(args.out).write_text(json.dumps(report, indent=1, default=str))
    print(
        f"\nload average {report['load_at_start']} → {report['load_at_end']} on "
        f"{os.cpu_count()} CPUs; figures written to {args.out}"
    )


if __name__ == "__main__":
    main()
