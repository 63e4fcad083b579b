"""Two DDP ranks (gloo, CPU) of examples/ddp.py, each its own process as torchrun starts them,
driven over rank 0's HTTP API: pause, step 3 (both ranks move by exactly 3), per-rank loss,
resume, stop (both exit 0); a killed rank makes the other stop with a clear message.

`ACC_DDP_BACKEND=nccl` runs the same ranks on NCCL, one GPU each (a machine with two GPUs)."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
import torch

from acc.debugger import attach

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ddp.py"
WAIT_S = 60.0  # bounds every wait on the ranks (loading MNIST and torch on a busy machine)
LOST_S = 30.0  # a killed rank is seen within this (its connections close at once)
JSON = {"content-type": "application/json"}
BACKEND = ("--backend", os.environ.get("ACC_DDP_BACKEND", "gloo"))


@dataclass
class Rank:
    process: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def expect(self, pattern: str, timeout: float = WAIT_S) -> re.Match[str]:
        """The first output line (stdout and stderr) matching `pattern`, within `timeout`."""
        for line in self.seen:
            if found := re.search(pattern, line):
                return found
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line like {pattern!r}; saw {self.seen}") from None
            self.seen.append(line)
            if found := re.search(pattern, line):
                return found

    def finish(self, timeout: float = WAIT_S) -> tuple[int, str]:
        code = self.process.wait(timeout)
        self.close()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code, "".join(self.seen)

    def close(self) -> None:
        """Once the process has ended: the reader has seen the end of its output."""
        if self.reader is not None:
            self.reader.join(WAIT_S)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _read(process: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(tmp_path: Path, *args: str) -> list[Rank]:
    master = str(_free_port())
    ranks = []
    for rank in range(2):
        env = {
            **os.environ,
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": "2",
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": master,
            "ACC_RUNS_DIR": str(tmp_path / "runs"),
            "OMP_NUM_THREADS": "1",
        }
        process = subprocess.Popen(
            [sys.executable, str(EXAMPLE), "--port", "0", "--steps", "100000", *BACKEND, *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started = Rank(process)
        started.reader = threading.Thread(target=_read, args=(process, started.lines), daemon=True)
        started.reader.start()
        ranks.append(started)
    return ranks


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Any]:
    started: list[Rank] = []

    def run(*args: str) -> tuple[list[Rank], httpx2.Client]:
        ranks = _start(tmp_path, *args)
        started.extend(ranks)
        url = ranks[0].expect(r"acc: watching .* at (http://[\d.:]+)")[1]
        client = httpx2.Client(base_url=f"{url}/api", timeout=WAIT_S)
        return ranks, client

    yield run
    for rank in started:
        if rank.process.poll() is None:
            rank.process.kill()
        rank.process.wait(WAIT_S)
        rank.close()


def _post(client: httpx2.Client, path: str, body: dict[str, Any] | None = None) -> Any:
    response = client.post(path, json=body or {}, headers=JSON)
    assert response.status_code == 200, response.text
    return response.json()


def _wait_blocked(client: httpx2.Client) -> None:
    """Until the loop holds: the state events say so (bounded by the client's timeout)."""
    with client.stream("GET", "/model/events") as events:
        for line in events.iter_lines():
            if line.startswith("data:") and json.loads(line[5:])["blocked"]:
                return
    raise AssertionError("the event stream ended before the loop held")


def _ranks_at(state: dict[str, Any]) -> list[tuple[int, int, bool]]:
    return [(row["rank"], row["step"], row["paused"]) for row in state["ranks"]]


def test_pause_step_resume_stop_move_every_rank_together(launch: Any) -> None:
    ranks, client = launch()
    with client:
        if not _post(client, "/debug/pause")["blocked"]:  # a step slower than the 2 s answer
            _wait_blocked(client)
        state = client.get("/debug/state").json()
        held = state["step"]
        assert _ranks_at(state) == [(0, held, True), (1, held, True)]

        stepped = _post(client, "/debug/step", {"n": 3})
        assert stepped["stepped_to"] == held + 3
        assert _ranks_at(stepped) == [(0, held + 3, True), (1, held + 3, True)]
        for row in stepped["ranks"]:  # each rank's own loss, gradient norm and batch
            assert row["loss"] is not None and row["loss"] > 0
            assert row["grad_norm"] is not None and row["grad_norm"] > 0
            assert row["batch_size"] == 64
        assert stepped["ranks"][0]["batch_mean"] != stepped["ranks"][1]["batch_mean"]

        history = client.get("/model/ranks", params={"since": held + 1}).json()
        assert history["world_size"] == 2
        assert history["steps"] == [held + 1, held + 2, held + 3]
        assert all(None not in series for series in history["loss"])
        assert history["loss"][0] != history["loss"][1]  # each rank's loss on its own shard

        images = []
        for rank in (0, 1):  # each rank's own batch of the held step
            batch = client.get("/model/ranks/batch", params={"rank": rank}).json()
            assert (batch["step"], batch["rank"], batch["shape"]) == (
                held + 3,
                rank,
                [64, 1, 28, 28],
            )
            images.append(batch["image"])
        assert images[0] and images[1] and images[0] != images[1]
        assert client.get("/model/ranks/batch", params={"rank": 2}).status_code == 404

        resumed = _post(client, "/debug/resume")
        assert resumed["paused"] is False
        _post(client, "/runs/stop")
    results = [rank.finish() for rank in ranks]
    steps = []
    for index, (code, output) in enumerate(results):
        assert code == 0, output
        steps.append(int(re.findall(rf"rank {index}: finished after (\d+) steps", output)[0]))
    assert steps[0] == steps[1] >= held + 3  # both stopped at the same boundary


def test_ranks_given_the_same_data_report_the_same_batch(launch: Any) -> None:
    ranks, client = launch("--paused", "--same-data")
    with client:
        rows = _post(client, "/debug/step", {"n": 1})["ranks"]
        _post(client, "/runs/stop")
    assert [row["step"] for row in rows] == [2, 2]
    fingerprints = {(row["batch_mean"], row["batch_std"], row["batch_size"]) for row in rows}
    assert len(fingerprints) == 1  # the comparison shows both ranks on the same batch
    assert rows[0]["loss"] == rows[1]["loss"]
    assert [rank.finish()[0] for rank in ranks] == [0, 0]


def test_a_loop_in_one_process_has_no_ranks() -> None:
    model = torch.nn.Linear(4, 2)
    with attach(model, port=0, quiet=True, record=False, dashboard=False) as dbg:
        dbg.step(loss=1.0)
        with httpx2.Client(base_url=f"{dbg.url}/api", timeout=WAIT_S) as client:
            assert client.get("/debug/state").json()["ranks"] is None
            answer = client.get("/model/ranks")
            assert answer.status_code == 409
            assert "one process" in answer.json()["detail"]


@pytest.mark.parametrize("killed", [1, 0])
def test_a_killed_rank_stops_the_other_with_a_clear_message(launch: Any, killed: int) -> None:
    ranks, client = launch("--paused", "--rank-timeout", "20")
    with client:
        # Paused from the start: one granted step answers once every rank holds again.
        stepped = _post(client, "/debug/step", {"n": 1})
        assert _ranks_at(stepped) == [(0, 2, True), (1, 2, True)]
    ranks[killed].process.send_signal(signal.SIGKILL)
    survivor = ranks[1 - killed]
    code, output = survivor.finish(LOST_S)
    assert code != 0, output
    assert "RankLost" in output, output
    assert f"rank {killed} stopped answering" in output, output
