"""The /inspect page end to end: a real trainer, the built dashboard, headless Chromium.

Follows the M-DBG-1 verification list: set up, Step ×5 with five different batches, the
timeline, a past step loaded back, Step ×10, the slider, another condition, teardown. Opening the
page sets nothing up (test_inspect_owner.py); Set up or the first Step does.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.request

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server

# The PNG on screen, read back from its blob: URL (the bytes the trainer sent, not a re-encoding).
_READ_IMAGE = """async (img) => {
  const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}"""


def shown_grid(page: Page, step: int) -> bytes:
    """The batch grid PNG once the page shows `step`."""
    grid = page.locator(f'[data-testid="inspect-batch-grid"][data-step="{step}"]')
    expect(grid).to_be_visible()
    png = base64.b64decode(grid.evaluate(_READ_IMAGE))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return png


def trainer_grid(trainer: Server, step: int) -> bytes:
    """The batch grid PNG of `step` as the trainer's JSON encoding sends it."""
    with urllib.request.urlopen(f"{trainer.url}/inspect/step/{step}") as answer:
        return base64.b64decode(json.load(answer)["batch_images"]["data"])


def trainer_state(trainer: Server) -> dict[str, object]:
    with urllib.request.urlopen(f"{trainer.url}/inspect/state") as answer:
        state: dict[str, object] = json.load(answer)
        return state


def test_inspect_page_steps_through_a_session(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard.url + "/inspect")

    # Opening the page offers bcl-med; Set up starts a session of it at step 0.
    step_number = page.get_by_test_id("inspect-step-number")
    controls = page.get_by_test_id("inspect-controls")
    expect(controls).to_have_attribute("data-state", "inactive")
    expect(page.get_by_test_id("inspect-condition")).to_have_value("bcl-med")
    page.get_by_test_id("inspect-setup-btn").click()
    expect(controls).to_have_attribute("data-state", "active")
    expect(page.get_by_test_id("inspect-session-condition")).to_have_text("bcl-med")
    expect(step_number).to_have_text("0")
    expect(page.get_by_test_id("inspect-batch-empty")).to_be_visible()
    assert trainer_state(trainer)["condition"] == "bcl-med"

    # Step 5 times: five different batches, the counter follows.
    step_button = page.get_by_test_id("inspect-step-btn")
    grids: list[bytes] = []
    losses: list[str] = []
    for step in range(1, 6):
        step_button.click()
        expect(step_number).to_have_text(str(step))
        grids.append(shown_grid(page, step))
        losses.append(page.get_by_test_id("inspect-loss").inner_text())
        expect(step_button).to_be_enabled()
    assert len(set(grids)) == 5
    assert all(loss.startswith("0.") for loss in losses)

    points = page.get_by_test_id("inspect-timeline-point")
    expect(points).to_have_count(5)
    assert points.evaluate_all("els => els.map(el => el.dataset.step)") == ["1", "2", "3", "4", "5"]

    # Clicking step 2 on the timeline brings back its batch and loss.
    page.locator('[data-testid="inspect-timeline-point"][data-step="2"]').click()
    expect(step_number).to_have_text("2")
    assert shown_grid(page, 2) == grids[1]
    expect(page.get_by_test_id("inspect-loss")).to_have_text(losses[1])

    # Step ×10 runs ten steps and shows the last.
    page.get_by_test_id("inspect-step10-btn").click()
    expect(step_number).to_have_text("15")
    expect(points).to_have_count(15)
    assert shown_grid(page, 15) == trainer_grid(trainer, 15)

    # The slider loads the step it is moved to.
    page.get_by_test_id("inspect-slider").fill("12")
    expect(step_number).to_have_text("12")
    assert shown_grid(page, 12) == trainer_grid(trainer, 12)

    # Another condition starts a fresh session at step 0.
    page.get_by_test_id("inspect-condition").select_option("bcl-slow")
    expect(page.get_by_test_id("inspect-session-condition")).to_have_text("bcl-slow")
    expect(step_number).to_have_text("0")
    expect(points).to_have_count(0)
    expect(page.get_by_test_id("inspect-batch-empty")).to_be_visible()
    state = trainer_state(trainer)
    assert (state["condition"], state["step"]) == ("bcl-slow", 0)

    # Teardown ends it on the trainer.
    page.get_by_test_id("inspect-teardown-btn").click()
    expect(page.get_by_test_id("inspect-controls")).to_have_attribute("data-state", "inactive")
    expect(page.get_by_test_id("inspect-setup-btn")).to_be_visible()
    assert trainer_state(trainer)["active"] is False

    expect(page.get_by_test_id("inspect-error")).to_have_count(0)
    assert errors == []


# Notes whether the page ever showed a run in progress: the busy chip with the step buttons
# disabled. An observer, because a fast machine may finish the run between two polls.
_WATCH_BUSY = """() => {
  window.__sawBusy = false;
  const check = () => {
    const busy = document.querySelector('[data-testid="inspect-busy"]');
    const step = document.querySelector('[data-testid="inspect-step-btn"]');
    if (busy && step && step.disabled) window.__sawBusy = true;
  };
  new MutationObserver(check).observe(document.body, {
    subtree: true, childList: true, attributes: true,
  });
}"""


def test_inspect_page_shows_runs_evicted_steps_and_errors(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    page.goto(dashboard.url + "/inspect")
    step_number = page.get_by_test_id("inspect-step-number")
    expect(page.get_by_test_id("inspect-controls")).to_have_attribute("data-state", "inactive")

    # A long run (the first Step sets up the session) shows itself while it goes, then the last step.
    page.evaluate(_WATCH_BUSY)
    page.get_by_test_id("inspect-step50-btn").click()
    expect(step_number).to_have_text("50", timeout=30_000)  # setup, then 50 steps
    assert page.evaluate("window.__sawBusy") is True
    expect(page.get_by_test_id("inspect-busy")).to_have_count(0)
    page.get_by_test_id("inspect-step10-btn").click()
    expect(step_number).to_have_text("60")

    # Step 3 is out of the last-50 buffer: its loss comes from the history, its tensors are gone.
    page.locator('[data-testid="inspect-timeline-point"][data-step="3"]').click()
    expect(step_number).to_have_text("3")
    evicted = page.get_by_test_id("inspect-evicted")
    expect(evicted).to_be_visible()
    expect(evicted).to_contain_text("full data is held for steps 11..60")
    expect(page.get_by_test_id("inspect-loss")).to_have_text(re.compile(r"^0\.\d+$"))
    expect(page.get_by_test_id("inspect-batch-grid")).to_have_count(0)

    # The trainer's answer to a failed call is shown, and can be dismissed.
    urllib.request.urlopen(
        urllib.request.Request(
            f"{trainer.url}/inspect/teardown",
            data=b"{}",
            headers={"content-type": "application/json"},
            method="POST",
        )
    ).close()
    page.get_by_test_id("inspect-step-btn").click()
    error = page.get_by_test_id("inspect-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Step failed")
    # (The trainer's wording after "no inspector session" changed with acc/model_seat.py.)
    expect(page.get_by_test_id("inspect-error-detail")).to_contain_text("no inspector session")
    expect(page.get_by_test_id("inspect-controls")).to_have_attribute("data-state", "inactive")
    page.get_by_test_id("inspect-error-dismiss").click()
    expect(error).to_have_count(0)
