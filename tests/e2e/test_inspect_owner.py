"""Opening /inspect does not take the trainer's model; a free run that holds it is named, and the
page releases it on request (a real trainer, the built dashboard, headless Chromium)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Dialog, Page, expect

from tests.e2e.conftest import Server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def get(trainer: Server, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(trainer.url + path, timeout=30) as answer:
        data: dict[str, Any] = json.load(answer)
        return data


def post(trainer: Server, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        trainer.url + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=120) as answer:
        data: dict[str, Any] = json.load(answer)
        return answer.status, data


def test_opening_inspect_leaves_the_model_free_and_releases_a_run(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard.url + "/inspect")

    # The page only reads the state: no session, the model stays free, Step and Set up offered.
    controls = page.get_by_test_id("inspect-controls")
    expect(controls).to_have_attribute("data-state", "inactive")
    expect(page.get_by_test_id("inspect-setup-btn")).to_be_enabled()
    expect(page.get_by_test_id("inspect-step-btn")).to_be_enabled()
    expect(page.get_by_test_id("inspect-owner-banner")).to_have_count(0)
    state = get(trainer, "/inspect/state")
    assert state["active"] is False
    assert state["owner"] is None

    # So a free run starts (what the runs page's Start does).
    status, run = post(trainer, "/runs", {"condition": "bcl-med", "steps": 100_000})
    assert status == 200
    run_id = run["run_id"]
    assert run["status"] in ("running", "starting")

    # Back on /inspect the banner names the run that holds the model; stepping waits for it.
    page.reload()
    banner = page.get_by_test_id("inspect-owner-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("data-owner-kind", "free run")
    expect(banner).to_have_attribute("data-owner-id", run_id)
    expect(page.get_by_test_id("inspect-owner-text")).to_contain_text(
        f"The model is held by the free run {run_id[:6]}"
    )
    expect(page.get_by_test_id("inspect-step-btn")).to_be_disabled()
    page.screenshot(path=str(ARTIFACTS / "inspect_owner_banner.png"))

    # Dismissing the confirm changes nothing.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_test_id("inspect-release-btn").click()
    expect(banner).to_be_visible()
    assert get(trainer, "/runs/current")["status"] == "running"

    # Release (confirmed) stops the run; the banner goes and the model is free.
    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_test_id("inspect-release-btn").click()
    expect(banner).to_have_count(0)
    assert asked and run_id[:6] in asked[0]
    assert get(trainer, "/runs/current")["status"] == "stopped"
    assert get(trainer, "/inspect/state")["owner"] is None

    # Step now sets up a session of the picked condition and runs it.
    page.get_by_test_id("inspect-step-btn").click()
    expect(page.get_by_test_id("inspect-step-number")).to_have_text("1")
    expect(controls).to_have_attribute("data-state", "active")
    state = get(trainer, "/inspect/state")
    assert (state["active"], state["condition"], state["step"]) == (True, "bcl-med", 1)
    expect(page.get_by_test_id("inspect-error")).to_have_count(0)
    assert errors == []


def test_a_step_refused_by_another_owner_shows_the_owner_banner(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard.url + "/inspect")
    controls = page.get_by_test_id("inspect-controls")
    expect(controls).to_have_attribute("data-state", "inactive")

    # Picking a condition without a session only picks it.
    page.get_by_test_id("inspect-condition").select_option("bcl-slow")
    expect(page.get_by_test_id("inspect-condition")).to_have_value("bcl-slow")
    expect(controls).to_have_attribute("data-state", "inactive")
    assert get(trainer, "/inspect/state")["active"] is False

    # A run starts behind the page's back: the next Step is answered 409, shown as the banner.
    _, run = post(trainer, "/runs", {"condition": "bcl-med", "steps": 100_000})
    page.get_by_test_id("inspect-step-btn").click()
    banner = page.get_by_test_id("inspect-owner-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("data-owner-id", run["run_id"])
    expect(page.get_by_test_id("inspect-error")).to_have_count(0)
    expect(controls).to_have_attribute("data-state", "inactive")

    # The run ends by itself (stopped elsewhere): the page notices and the banner goes.
    post(trainer, "/runs/stop", {})
    expect(banner).to_have_count(0, timeout=15_000)

    # Set up uses the picked condition.
    page.get_by_test_id("inspect-setup-btn").click()
    expect(page.get_by_test_id("inspect-session-condition")).to_have_text("bcl-slow")
    expect(page.get_by_test_id("inspect-step-number")).to_have_text("0")
    assert errors == []
