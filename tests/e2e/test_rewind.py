"""Rewind on /inspect and on the runs page (a real trainer, the built dashboard, headless
Chromium): rewind 5 steps, step 5, see identical losses; the abandoned steps stay as a branch
whose losses the timeline overlays and whose held steps open read-only."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# The trainer shares a few cores with other work: a setup and ten steps may take a while.
SLOW_MS = 60_000


def _get(trainer: Server, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{trainer.url}{path}") as answer:
        data: dict[str, Any] = json.load(answer)
        return data


def _post(trainer: Server, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{trainer.url}{path}",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        data: dict[str, Any] = json.load(answer)
        return data


def _losses(trainer: Server, prefix: str, since: int) -> list[float]:
    history = _get(trainer, f"{prefix}/history?since={since}&keys=loss")
    return [float(value) for value in history["columns"]["loss"]]


def test_rewind_five_steps_step_five_and_see_identical_losses(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard.url + "/inspect")
    step_number = page.get_by_test_id("inspect-step-number")
    page.get_by_test_id("inspect-step10-btn").click()
    expect(step_number).to_have_text("10", timeout=SLOW_MS)
    before = _losses(trainer, "/inspect", 6)
    assert len(before) == 5

    rewind = page.get_by_test_id("inspect-rewind")
    expect(rewind.get_by_test_id("inspect-rewindable")).to_have_text("back to steps 0–10")
    rewind.get_by_test_id("inspect-rewind-back").click()
    expect(step_number).to_have_text("5", timeout=SLOW_MS)
    expect(page.get_by_test_id("inspect-timeline-point")).to_have_count(5)
    branch = rewind.get_by_test_id("inspect-branch")
    expect(branch).to_have_count(1)
    expect(branch).to_contain_text("from step 5")
    expect(branch).to_contain_text("steps 6–10")
    overlay = page.get_by_test_id("inspect-branch-line")
    expect(overlay).to_have_attribute("data-points", "6")  # from the fork step on

    step1 = page.get_by_test_id("inspect-step-btn")
    for done in range(6, 11):
        step1.click()
        expect(step_number).to_have_text(str(done), timeout=SLOW_MS)
    expect(page.get_by_test_id("inspect-timeline-point")).to_have_count(10)
    assert _losses(trainer, "/inspect", 6) == before  # identical, bit for bit
    # the branch's line lies on the replayed one: the same losses at the same steps
    branch_losses = _losses(trainer, "/inspect/branches/1", 0)
    assert branch_losses == before

    # browse a step the branch holds, read-only
    branch.get_by_test_id("inspect-branch-browse").click()
    branch.locator('[data-testid="inspect-branch-held-step"][data-step="8"]').click()
    shown = rewind.get_by_test_id("inspect-branch-step")
    expect(shown).to_have_attribute("data-step", "8")
    shown_loss = shown.get_by_test_id("inspect-branch-step-loss")
    expect(shown_loss).to_contain_text("loss ")
    assert abs(float(shown_loss.inner_text().split()[1]) - before[2]) <= 1e-3 * abs(before[2])
    ARTIFACTS.mkdir(exist_ok=True)
    rewind.screenshot(path=str(ARTIFACTS / "rewind_inspect_panel.png"))
    shown.get_by_test_id("inspect-branch-step-tensors").click()
    expect(shown.get_by_test_id("step-views")).to_have_attribute("data-step", "8")

    # rewind again, edit the learning rate, step on: a different line; both branches overlaid
    rewind.get_by_test_id("inspect-rewind-back").click()
    expect(step_number).to_have_text("5", timeout=SLOW_MS)
    _post(trainer, "/inspect/hparams", {"lr": 0.05})
    for done in range(6, 11):
        step1.click()
        expect(step_number).to_have_text(str(done), timeout=SLOW_MS)
    edited = _losses(trainer, "/inspect", 6)
    assert edited[0] == before[0] and edited[1:] != before[1:]  # lr acts from step 6's update
    expect(page.get_by_test_id("inspect-branch-line")).to_have_count(2)
    page.get_by_test_id("inspect-timeline").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "rewind_inspect.png"), full_page=False)
    assert errors == []


def test_a_paused_run_rewinds_from_the_runs_page(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _post(
        trainer,
        "/runs",
        {"condition": "bcl-med", "steps": 200, "seed": 0, "capture_every": 10, "paused": True},
    )
    page.goto(dashboard.url + "/")
    rewind = page.get_by_test_id("run-rewind")
    expect(rewind).to_be_visible(timeout=SLOW_MS)
    held = _get(trainer, "/runs/current")
    deadline_steps = held["step"] + 8
    for _ in range(8):
        _post(trainer, "/debug/step", {"n": 1})
    state = _get(trainer, "/runs/current")
    assert state["step"] == deadline_steps
    before = _losses(trainer, "/runs", state["step"] - 4)

    back = rewind.get_by_test_id("run-rewind-back")
    # "Back 5 steps" counts from the step the page shows: wait until it shows the last one.
    expect(back).to_have_attribute(
        "title", re.compile(rf"end of step {state['step'] - 5};"), timeout=SLOW_MS
    )
    expect(back).to_be_enabled(timeout=SLOW_MS)
    back.click()
    expect(rewind.get_by_test_id("run-branch")).to_have_count(1, timeout=SLOW_MS)
    assert _get(trainer, "/runs/current")["step"] == state["step"] - 5
    expect(page.get_by_test_id("run-branch-line")).to_have_count(1)
    for _ in range(5):
        _post(trainer, "/debug/step", {"n": 1})
    assert _losses(trainer, "/runs", state["step"] - 4) == before
    # the live chart followed the rewind: as many points as steps, none twice
    expect(page.get_by_test_id("runs-loss-count")).to_have_text(
        f"{state['step']} steps", timeout=SLOW_MS
    )
    rewind.screenshot(path=str(ARTIFACTS / "rewind_runs_panel.png"))
    page.get_by_test_id("runs-loss-chart").screenshot(path=str(ARTIFACTS / "rewind_runs_chart.png"))
    _post(trainer, "/runs/stop", {})
    assert errors == []
