"""Breakpoints and live edits end to end: a real trainer, the built dashboard, Chromium.

A NaN breakpoint armed in the page stops `bcl-nan-demo` at its first non-finite step and the
banner names the module (the inspector's Step ×50 ends early; a free run pauses there). A learning
rate changed in the page applies at the next step and shows as a marker on the loss timeline.
Screenshots are kept under tests/e2e/artifacts/.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, get_json, post_json
from tests.e2e.test_attach_model_page import start_example

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT_MS = 60_000  # a step or a setup on a busy CI machine
FIRST_STEP = 7  # bcl-nan-demo, seed 0: the first non-finite step (test_nonfinite.py)


def test_nan_breakpoint_stops_the_inspector_and_names_the_module(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard.url + "/inspect")
    page.get_by_test_id("inspect-condition").select_option("bcl-nan-demo")
    page.get_by_test_id("inspect-setup-btn").click()
    expect(page.get_by_test_id("inspect-session-condition")).to_have_text(
        "bcl-nan-demo", timeout=TIMEOUT_MS
    )

    page.get_by_test_id("inspect-bp-nonfinite").check()
    page.get_by_test_id("inspect-bp-arm").click()
    expect(page.get_by_test_id("inspect-breakpoints-armed")).to_have_text("armed: nonfinite")
    assert get_json(trainer, "/inspect/breakpoints")["breakpoints"]["nonfinite"] is True

    page.get_by_test_id("inspect-step50-btn").click()
    expect(page.get_by_test_id("inspect-step-number")).to_have_text(
        str(FIRST_STEP), timeout=TIMEOUT_MS
    )
    banner = page.get_by_test_id("inspect-break-reason")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("data-step", str(FIRST_STEP))
    expect(banner).to_have_attribute("data-condition", "nonfinite")
    where = get_json(trainer, "/inspect/state")["break_reason"]["where"]
    assert where.startswith("encoder.0")
    expect(page.get_by_test_id("inspect-break-reason-text")).to_contain_text(
        f"at step {FIRST_STEP}: {where}"
    )
    # The timeline marks the break.
    marker = page.locator(f'[data-testid="inspect-timeline-event"][data-step="{FIRST_STEP}"]')
    expect(marker).to_have_count(1)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "breakpoint-inspect.png"), full_page=True)
    assert errors == []


def test_nan_breakpoint_pauses_a_free_run_on_the_runs_page(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    post_json(trainer, "/runs", {"condition": "bcl-nan-demo", "steps": 300, "paused": True})
    page.goto(dashboard.url + "/")
    page.get_by_test_id("run-bp-nonfinite").check()
    page.get_by_test_id("run-bp-arm").click()
    expect(page.get_by_test_id("run-breakpoints-armed")).to_have_text(
        "armed: nonfinite", timeout=TIMEOUT_MS
    )
    page.get_by_test_id("runs-resume-btn").click()
    banner = page.get_by_test_id("run-break-reason")
    expect(banner).to_have_attribute("data-step", str(FIRST_STEP), timeout=TIMEOUT_MS)
    expect(banner).to_have_attribute(
        "data-where", get_json(trainer, "/debug/state")["break_reason"]["where"]
    )
    state = get_json(trainer, "/debug/state")
    assert state["status"] == "paused" and state["step"] == FIRST_STEP
    page.get_by_test_id("run-break-reason-jump").click()
    expect(page.get_by_test_id("runs-step-panel")).to_contain_text(str(FIRST_STEP))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "breakpoint-runs.png"), full_page=True)
    post_json(trainer, "/runs/stop", {})


def test_lr_edit_shows_as_an_event_on_the_timeline(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    page.goto(dashboard.url + "/inspect")
    page.get_by_test_id("inspect-condition").select_option("bcl-med")
    page.get_by_test_id("inspect-setup-btn").click()
    page.get_by_test_id("inspect-step10-btn").click()
    step_number = page.get_by_test_id("inspect-step-number")
    expect(step_number).to_have_text("10", timeout=TIMEOUT_MS)

    page.get_by_test_id("inspect-hp-lr").fill("0.01")
    page.get_by_test_id("inspect-hp-apply").click()
    expect(page.get_by_test_id("inspect-hp-pending")).to_contain_text("lr → 0.01000")
    page.get_by_test_id("inspect-step10-btn").click()
    expect(step_number).to_have_text("20", timeout=TIMEOUT_MS)
    marker = page.get_by_test_id("inspect-timeline-event")
    expect(marker).to_have_count(1)
    expect(marker).to_have_attribute("data-step", "11")
    expect(marker).to_have_attribute("data-names", "lr")
    expect(page.get_by_test_id("inspect-hp-lr-now")).to_have_text("0.01000")
    events = get_json(trainer, "/inspect/history?since=1")["events"]
    assert events == [{"step": 11, "kind": "hparam", "name": "lr", "old": 0.001, "new": 0.01}]
    # A bad value is refused with the trainer's words.
    page.get_by_test_id("inspect-hp-lr").fill("-1")
    page.get_by_test_id("inspect-hp-apply").click()
    expect(page.get_by_test_id("inspect-hp-error")).to_contain_text("lr must be a number in 0..10")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "live-edit-inspect.png"), full_page=True)


def test_breakpoint_pauses_an_attached_loop_on_the_model_page(page: Page) -> None:
    loop = start_example("examples/own_loop.py")
    try:
        page.goto(loop.url + "/model")
        status = page.get_by_test_id("model-status")
        expect(status).to_have_attribute("data-status", "running", timeout=TIMEOUT_MS)
        page.get_by_test_id("model-bp-loss_above").check()
        page.get_by_test_id("model-bp-loss_above-value").fill("0")
        page.get_by_test_id("model-bp-arm").click()
        banner = page.get_by_test_id("model-break-reason")
        expect(banner).to_have_attribute("data-condition", "loss_above", timeout=TIMEOUT_MS)
        expect(status).to_have_attribute("data-status", "paused", timeout=TIMEOUT_MS)
        state = get_json(loop, "/debug/state")
        assert state["break_reason"]["step"] == state["step"]
        expect(banner).to_have_attribute("data-step", str(state["step"]))
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "breakpoint-model.png"))
    finally:
        loop.stop()
