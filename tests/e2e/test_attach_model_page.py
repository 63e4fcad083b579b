"""The examples in a real Chromium, on the one port each serves: the model page pauses the user's
own loop (examples/own_loop.py), steps it by exactly 3, shows the layer table and a weight
heatmap, resumes and stops it, and the script exits 0; the same page pauses and steps the
Lightning example."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, free_port, start_server

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 60_000


def start_example(script: str) -> Server:
    port = free_port()
    return start_server(
        [sys.executable, script, "--port", str(port), "--steps", "1000000", "--batch-size", "32"],
        f"http://127.0.0.1:{port}",
        "/health",
        {},
    )


@pytest.fixture
def own_loop() -> Iterator[Server]:
    server = start_example("examples/own_loop.py")
    yield server
    server.stop()


@pytest.fixture
def lightning_loop() -> Iterator[Server]:
    server = start_example("examples/lightning_module.py")
    yield server
    server.stop()


def loop_step(trainer: Server) -> int:
    """The loop's own step counter, as the attached server reports it."""
    with urllib.request.urlopen(trainer.url + "/debug/state", timeout=10) as answer:
        return int(json.load(answer)["step"])


def held_step(trainer: Server, timeout: float = TIMEOUT_MS / 1000) -> int:
    """The step the paused loop is held after: "paused" shows as soon as the pause is asked,
    but a step in progress (a slow one on a loaded machine) still ends first."""
    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(trainer.url + "/debug/state", timeout=10) as answer:
            state = json.load(answer)
        if state["blocked"]:
            return int(state["step"])
        assert time.monotonic() < deadline, f"the loop never blocked: {state}"
        time.sleep(0.05)


def test_pause_step_three_inspect_resume_stop(page: Page, own_loop: Server) -> None:
    # One port: the script's own server answers the dashboard's pages and its API.
    page.goto(own_loop.url + "/model")
    status = page.get_by_test_id("model-status")
    expect(status).to_have_attribute("data-status", "running", timeout=TIMEOUT_MS)

    page.get_by_test_id("model-pause").click()
    expect(status).to_have_attribute("data-status", "paused", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("model-step")).to_be_enabled(timeout=TIMEOUT_MS)
    paused_at = held_step(own_loop)
    expect(status).to_have_attribute("data-step", str(paused_at), timeout=TIMEOUT_MS)

    page.get_by_test_id("model-step-count").fill("3")
    page.get_by_test_id("model-step").click()
    expect(status).to_have_attribute("data-step", str(paused_at + 3), timeout=TIMEOUT_MS)
    assert loop_step(own_loop) == paused_at + 3  # the loop moved by exactly 3

    table = page.get_by_test_id("model-layer-table")
    expect(table.locator('[data-name="features.0.weight"]')).to_be_visible(timeout=TIMEOUT_MS)
    expect(table.locator('[data-name="classifier.3.bias"]')).to_be_visible()
    expect(page.get_by_test_id("model-module-row")).to_have_count(10)
    heatmap = page.get_by_test_id("model-heatmap")
    expect(heatmap).to_have_attribute("data-step", str(paused_at + 3), timeout=TIMEOUT_MS)
    expect(heatmap).to_have_attribute("data-key", "weight/features.0.weight")
    # a [8, 1, 3, 3] convolution is drawn as 8 x 9, one element a cell
    expect(heatmap).to_have_attribute("data-rows", "8")
    expect(heatmap).to_have_attribute("data-cols", "9")
    expect(page.get_by_test_id("model-scalars")).to_have_attribute("data-lines", "2")

    # sorting by update ratio puts the largest first
    page.get_by_test_id("model-sort-update_ratio").click()
    ratios = [
        float(text.replace("−", "-"))
        for text in page.get_by_test_id("model-update-ratio").all_inner_texts()
    ]
    assert ratios == sorted(ratios, reverse=True)

    page.get_by_test_id("model-resume").click()
    expect(status).to_have_attribute("data-status", "running", timeout=TIMEOUT_MS)
    page.get_by_test_id("model-stop").click()
    own_loop.process.wait(TIMEOUT_MS / 1000)
    assert own_loop.process.returncode == 0


def test_pause_and_step_the_lightning_example(page: Page, lightning_loop: Server) -> None:
    page.goto(lightning_loop.url + "/model")
    status = page.get_by_test_id("model-status")
    expect(status).to_have_attribute("data-status", "running", timeout=TIMEOUT_MS)
    page.get_by_test_id("model-pause").click()
    expect(status).to_have_attribute("data-status", "paused", timeout=TIMEOUT_MS)
    paused_at = held_step(lightning_loop)
    page.get_by_test_id("model-step-count").fill("2")
    page.get_by_test_id("model-step").click()
    expect(status).to_have_attribute("data-step", str(paused_at + 2), timeout=TIMEOUT_MS)
    assert loop_step(lightning_loop) == paused_at + 2
    table = page.get_by_test_id("model-layer-table")
    expect(table.locator('[data-name="net.features.0.weight"]')).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("model-heatmap")).to_have_attribute(
        "data-step", str(paused_at + 2), timeout=TIMEOUT_MS
    )
    page.get_by_test_id("model-stop").click()
    lightning_loop.process.wait(TIMEOUT_MS / 1000)
    assert lightning_loop.process.returncode == 0
