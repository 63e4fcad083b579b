"""The /history page in Chromium: runs recorded by the trainer and a headless loop (what `acc run`
records) are listed with their summary, two of them are overlaid on one chart, a kept step opens
in the inspector's views, filters narrow the list, and a run is deleted after a confirmation."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, expect

from acc.archive.recorder import recording
from acc.data import MnistData
from acc.recipes import get_recipe
from tests.e2e.conftest import Server, free_port, start_server

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def recording_trainer(runs_dir: Path) -> Iterator[Server]:
    port = free_port()
    server = start_server(
        [
            sys.executable,
            "-m",
            "acc.cli",
            "serve",
            "--port",
            str(port),
            "--runs-dir",
            str(runs_dir),
        ],
        f"http://127.0.0.1:{port}",
        "/health",
        {},
    )
    yield server
    server.stop()


@pytest.fixture
def history_dashboard(recording_trainer: Server) -> Iterator[Server]:
    port = free_port()
    server = start_server(
        ["./run_ui.sh", "--port", str(port), "--trainer", recording_trainer.url],
        f"http://127.0.0.1:{port}",
        "/",
        {},
    )
    yield server
    server.stop()


def _call(trainer: Server, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        trainer.url + path, data=data, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)


def _free_run(trainer: Server, condition: str, steps: int) -> str:
    # A full step every 10th, so a 30-step run keeps steps to open.
    body = {"condition": condition, "steps": steps, "capture_every": 10}
    run_id = str(_call(trainer, "/runs", body)["run_id"])
    deadline = time.monotonic() + 120
    while _call(trainer, "/runs/current")["status"] != "completed":
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.1)
    return run_id


def _headless_run(runs_dir: Path, mnist: MnistData, steps: int) -> str:
    setup = get_recipe("gradient_gating_l0").build("control", 0, mnist, "cpu")
    try:
        with recording(runs_dir, recipe="gradient_gating_l0", condition="control", seed=0) as rec:
            setup.trainer.train(steps, callbacks=[rec], keep_results=False)
            # A live edit, recorded as a session's recorder records one.
            rec.record_event("hparam", steps // 2, name="lr", old=0.001, new=0.01)
    finally:
        setup.close()
    return rec.run_id


def test_recorded_runs_are_listed_overlaid_filtered_and_deleted(
    page: Page,
    recording_trainer: Server,
    history_dashboard: Server,
    runs_dir: Path,
    mnist: MnistData,
) -> None:
    first = _free_run(recording_trainer, "control", 30)
    second = _free_run(recording_trainer, "bcl-fast", 20)
    headless = _headless_run(runs_dir, mnist, 50)

    page.goto(history_dashboard.url + "/history")
    rows = page.get_by_test_id("history-row")
    expect(rows).to_have_count(3)
    expect(page.get_by_test_id("history-count")).to_have_text("3 runs")
    # Newest first: the headless loop, then the second and the first free run.
    expect(rows.nth(0)).to_have_attribute("data-run", headless)
    expect(rows.nth(0)).to_contain_text("cli run")
    expect(rows.nth(0)).to_contain_text("50")
    expect(rows.nth(1)).to_have_attribute("data-run", second)
    expect(rows.nth(1)).to_contain_text("bcl-fast")
    expect(rows.nth(2)).to_contain_text("control")
    expect(rows.nth(2)).to_contain_text("steps=30")
    for row in range(3):
        expect(rows.nth(row).get_by_test_id("history-status")).to_have_text("completed")
    expect(page.get_by_test_id("history-size")).to_contain_text(str(runs_dir))

    # Two runs on one chart, one line each with every step.
    page.locator(f'[data-run="{first}"]').get_by_test_id("history-pick").check()
    page.locator(f'[data-run="{headless}"]').get_by_test_id("history-pick").check()
    chart = page.get_by_test_id("history-chart")
    expect(chart).to_have_attribute("data-lines", "2")
    expect(chart.locator(f'[data-testid="history-line"][data-run="{first}"]')).to_have_attribute(
        "data-points", "30"
    )
    expect(chart.locator(f'[data-testid="history-line"][data-run="{headless}"]')).to_have_attribute(
        "data-points", "50"
    )
    # The headless run's live edit is a marker at its step (on the step axis only).
    marker = chart.get_by_test_id("history-chart-event")
    expect(marker).to_have_attribute("data-step", "25")
    expect(marker).to_have_attribute("data-names", "lr")
    page.get_by_test_id("history-axis-wall").click()
    expect(chart).to_have_attribute("data-axis", "wall")
    expect(marker).to_have_count(0)
    page.get_by_test_id("history-scale-log").click()
    expect(chart).to_have_attribute("data-scale", "log")
    page.screenshot(path=str(ARTIFACTS / "history_overlay.png"), full_page=True)

    # A kept step of the first run opens in the inspector's views.
    page.get_by_test_id("history-kept-run").select_option(first)
    expect(page.get_by_test_id("history-kept-step").locator("option")).to_have_text(
        ["10", "20", "30"]
    )
    page.get_by_test_id("history-kept-step").select_option("20")
    page.get_by_test_id("history-kept-open").click()
    views = page.get_by_test_id("history-kept-views")
    expect(views).to_have_attribute("data-step", "20")
    expect(views.get_by_test_id("step-views")).to_have_attribute("data-step", "20")

    # Filters ask the trainer again.
    page.get_by_test_id("history-filter-status").select_option("failed")
    expect(page.get_by_test_id("history-empty")).to_be_visible()
    page.get_by_test_id("history-filter-status").select_option("")
    expect(rows).to_have_count(3)

    # Delete, confirmed: the run leaves the list and the chart.
    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.locator(f'[data-run="{first}"]').get_by_test_id("history-delete").click()
    expect(rows).to_have_count(2)
    expect(chart).to_have_attribute("data-lines", "1")
    expect(page.get_by_test_id("history-kept-views")).to_have_count(0)
    assert dialogs and first in dialogs[0]
    assert all(run["id"] != first for run in _call(recording_trainer, "/archive/runs")["runs"])
