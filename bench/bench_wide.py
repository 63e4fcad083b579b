"""Benchmark of the step views at large widths (run by hand, prints figures; not a test).

    .venv/bin/python bench/bench_wide.py [--dims 64,256,1024] [--steps 5]

For each width D of the BCL recipe, against the real app on a local uvicorn server: the median
`POST /inspect/step` (n=1, binary frame) time, the frame's bytes (budget: 1 MiB) and what the step
holds in all, then the latency of reading each deferred tensor as the dashboard does (heatmaps at
canvas size, weight grids a page of 64 features exactly), and a whole 1024 x 1024 reduced grid
as a frame and as JSON. Target: a reduced 1024 x 1024 grid well under 200 ms.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time
from collections.abc import Callable

import httpx2
import uvicorn

from acc.api.app import create_app
from acc.api.server import server_config
from acc.data import load_mnist
from acc.settings import Settings
from acc.tensor_wire import FRAME_BUDGET, FRAME_CONTENT_TYPE, decode_frame

FRAME = {"accept": FRAME_CONTENT_TYPE}
CANVAS = 320  # cells a side the step views draw a heatmap with
PAGE = 64  # features a weight-grid page reads


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Median milliseconds of `repeats` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def view_query(shape: list[int]) -> str:
    """The query the dashboard sends for a deferred tensor of `shape`."""
    rows, cols = shape[0], shape[1]
    if cols == 784:  # a weight grid: the first page of features, exactly
        return f"rows={min(PAGE, rows)}&cols=784&r0=0&r1={min(PAGE, rows)}&c0=0&c1=784"
    side = CANVAS if rows == cols else None
    return f"rows={min(rows, side or 384)}&cols={min(cols, side or CANVAS)}"


def bench_width(client: httpx2.Client, dim: int, steps: int, repeats: int) -> None:
    setup = client.post("/inspect/setup", json={"options": {"dim": dim}})
    setup.raise_for_status()
    client.post("/inspect/step", json={"n": 1}, headers=FRAME).raise_for_status()  # warm up
    sizes: list[int] = []

    def step() -> None:
        answer = client.post("/inspect/step", json={"n": 1}, headers=FRAME, timeout=120)
        answer.raise_for_status()
        sizes.append(len(answer.content))

    step_ms = timed(step, steps)
    last = client.get("/inspect/state").json()["step"]
    frame = client.get(f"/inspect/step/{last}", headers=FRAME).content
    header, _, _ = decode_frame(frame)
    held = sum(spec["nbytes"] for spec in header["tensors"].values())
    held += sum(spec["nbytes"] for spec in header["deferred"].values())
    print(
        f"D = {dim:5d}: step {step_ms:7.1f} ms   frame {max(sizes):9,d} B "
        f"(budget {FRAME_BUDGET:,})   tensors held {held / 1e6:6.1f} MB   "
        f"deferred {len(header['deferred'])} keys"
    )
    for key, spec in header["deferred"].items():
        query = view_query(spec["shape"])
        path = f"/inspect/step/{last}/tensor/{key}?{query}"
        body: list[int] = []

        def read(path: str = path, body: list[int] = body) -> None:
            answer = client.get(path, headers=FRAME)
            answer.raise_for_status()
            body.append(len(answer.content))

        ms = timed(read, repeats)
        print(f"    {key:<22} {str(spec['shape']):<13} {query:<48} {ms:6.1f} ms {body[-1]:9,d} B")
    square = [key for key, spec in header["deferred"].items() if spec["shape"][0] == dim == 1024]
    if square and header["deferred"][square[-1]]["shape"] == [1024, 1024]:
        path = f"/inspect/step/{last}/tensor/{square[-1]}?rows=1024&cols=1024"
        as_frame = timed(lambda: client.get(path, headers=FRAME).raise_for_status(), repeats)
        as_json = timed(lambda: client.get(path).raise_for_status(), repeats)
        path = f"/inspect/step/{last}/tensor/{square[-1]}?rows=512&cols=512"
        half = timed(lambda: client.get(path, headers=FRAME).raise_for_status(), repeats)
        print(
            f"    a 1024 x 1024 grid of {square[-1]}: frame {as_frame:.1f} ms, JSON {as_json:.1f} ms;"
            f" reduced to 512 x 512 (frame) {half:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", default="64,256,1024", help="comma-separated widths D")
    parser.add_argument("--steps", type=int, default=5, help="measured steps per width")
    parser.add_argument("--repeats", type=int, default=5, help="measured reads per tensor")
    args = parser.parse_args()
    app = create_app(settings=Settings(device="cpu"), data=load_mnist())
    port = free_port()
    server = uvicorn.Server(server_config(app, "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)  # uvicorn has no start event; bounded by the deadline
    try:
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for dim in (int(part) for part in args.dims.split(",")):
                bench_width(client, dim, args.steps, args.repeats)
            client.post("/inspect/teardown", json={})
    finally:
        server.should_exit = True
        thread.join(timeout=30)


if __name__ == "__main__":
    main()
