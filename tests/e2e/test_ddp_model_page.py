"""The DDP example (examples/ddp.py: two ranks spawned, gloo on the CPU) in a real Chromium on
rank 0's port: the model page pauses both ranks, steps them by exactly 3, the rank picker shows
both ranks with their own loss and batch, resume and stop end both ranks (the launcher exits
0)."""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, free_port, start_server

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 60_000
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture
def ddp_loop() -> Iterator[Server]:
    port = free_port()
    server = start_server(
        [sys.executable, "examples/ddp.py", "--port", str(port), "--steps", "1000000"],
        f"http://127.0.0.1:{port}",
        "/health",
        {"OMP_NUM_THREADS": "1"},
    )
    yield server
    server.stop()


def rank_steps(trainer: Server) -> list[int]:
    with urllib.request.urlopen(trainer.url + "/debug/state", timeout=10) as answer:
        return [row["step"] for row in json.load(answer)["ranks"]]


def test_pause_step_three_compare_ranks_resume_stop(page: Page, ddp_loop: Server) -> None:
    page.goto(ddp_loop.url + "/model")
    status = page.get_by_test_id("model-status")
    expect(status).to_have_attribute("data-status", "running", timeout=TIMEOUT_MS)
    ranks = page.get_by_test_id("model-ranks")
    expect(ranks).to_have_attribute("data-world", "2", timeout=TIMEOUT_MS)

    page.get_by_test_id("model-pause").click()
    expect(status).to_have_attribute("data-status", "paused", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("model-step")).to_be_enabled(timeout=TIMEOUT_MS)
    held = rank_steps(ddp_loop)
    assert held[0] == held[1]
    paused_at = held[0]

    page.get_by_test_id("model-step-count").fill("3")
    page.get_by_test_id("model-step").click()
    expect(status).to_have_attribute("data-step", str(paused_at + 3), timeout=TIMEOUT_MS)
    assert rank_steps(ddp_loop) == [paused_at + 3, paused_at + 3]  # both moved by exactly 3

    rows = page.get_by_test_id("model-rank-row")
    expect(rows).to_have_count(2)
    for rank in (0, 1):
        row = rows.nth(rank)
        expect(row).to_have_attribute("data-step", str(paused_at + 3), timeout=TIMEOUT_MS)
        expect(row.get_by_test_id("model-rank-state")).to_have_text("paused")
    picker = page.get_by_test_id("model-rank-picker")
    expect(picker.locator("option")).to_have_count(2)
    losses = []
    for rank in ("0", "1"):
        picker.select_option(rank)
        detail = page.get_by_test_id("model-rank-detail")
        expect(detail).to_have_attribute("data-rank", rank)
        losses.append(float(detail.get_by_test_id("model-rank-loss").inner_text()))
        batch = page.get_by_test_id("model-rank-batch")  # the rank's own batch, as images
        expect(batch).to_have_attribute("data-rank", rank, timeout=TIMEOUT_MS)
        expect(batch).to_have_attribute("data-step", str(paused_at + 3))
    assert all(loss > 0 for loss in losses)
    assert losses[0] != losses[1]  # each rank's own loss on its own shard
    expect(page.get_by_test_id("model-rank-loss-chart")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    ranks.screenshot(path=str(ARTIFACTS / "ddp_model_ranks.png"))

    page.get_by_test_id("model-resume").click()
    expect(status).to_have_attribute("data-status", "running", timeout=TIMEOUT_MS)
    page.get_by_test_id("model-stop").click()
    ddp_loop.process.wait(TIMEOUT_MS / 1000)
    assert ddp_loop.process.returncode == 0  # the launcher exits 0 only if both ranks did
