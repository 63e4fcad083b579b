"""The runs page end to end: a real trainer, the built dashboard, headless Chromium.

A researcher's first session: start a bcl-med run, see the live chart
move, pause (the counter freezes), step and see the batch, the forces and the inspector views,
watch five features, step 20 times and see 20 points per line, resume (the points keep growing),
stop.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Server

WATCHED = [0, 15, 31, 47, 63]

# The PNG on screen, read back from its blob: URL.
_PNG_SIGNATURE = """async (img) => {
  const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
  return Array.from(bytes.slice(0, 8));
}"""


def trainer_json(trainer: Server, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        trainer.url + path, data=data, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def points(locator: Locator) -> list[int]:
    """The per-line point counts a chart publishes in data-points ("20,20,20")."""
    text = locator.get_attribute("data-points") or ""
    return [int(part) for part in text.split(",") if part]


def wait_for_points(page: Page, test_id: str, at_least: int, line: int = 0) -> None:
    page.wait_for_function(
        """([id, n, line]) => {
          const el = document.querySelector(`[data-testid="${id}"]`);
          const counts = (el?.dataset.points ?? "").split(",").filter(Boolean).map(Number);
          return counts.length > line && counts[line] >= n;
        }""",
        arg=[test_id, at_least, line],
        timeout=20_000,
    )


def test_run_pause_step_watch_resume_stop(page: Page, trainer: Server, dashboard: Server) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard.url + "/")

    status = page.get_by_test_id("runs-status")
    step_number = page.get_by_test_id("runs-step-number")
    loss_chart = page.get_by_test_id("runs-loss-chart")
    step_button = page.get_by_test_id("runs-step-btn")

    # The event stream is open before anything runs; the trainer panel stays on the page.
    expect(page.get_by_test_id("runs-stream")).to_have_attribute("data-state", "open")
    expect(status).to_have_attribute("data-status", "none")
    expect(page.get_by_test_id("health-panel")).to_be_visible()
    expect(step_button).to_be_disabled()

    # Start: bcl-med, long enough not to finish during the test.
    page.get_by_test_id("runs-condition").select_option("bcl-med")
    page.get_by_test_id("runs-steps").fill("100000")
    page.get_by_test_id("runs-capture-every").fill("10")
    page.get_by_test_id("runs-start-btn").click()
    expect(status).to_have_attribute("data-status", "running")
    run = trainer_json(trainer, "/runs/current")
    assert (run["condition"], run["steps"], run["capture_every"]) == ("bcl-med", 100000, 10)

    # The live chart moves: its points grow while the run trains (server-sent events).
    wait_for_points(page, "runs-loss-chart", 20)
    before = points(loss_chart)[0]
    wait_for_points(page, "runs-loss-chart", before + 30)
    expect(step_button).to_be_disabled()

    # Pause: the loop blocks at a step boundary and the counter stays frozen.
    page.get_by_test_id("runs-pause-btn").click()
    expect(status).to_have_attribute("data-status", "paused")
    expect(status).to_have_attribute("data-blocked", "true")
    frozen = int(step_number.get_attribute("data-step") or "0")
    assert frozen > 0
    expect(loss_chart).to_have_attribute("data-points", str(frozen))
    page.wait_for_timeout(1_000)
    assert int(step_number.get_attribute("data-step") or "0") == frozen
    expect(loss_chart).to_have_attribute("data-points", str(frozen))
    assert trainer_json(trainer, "/runs/current")["step"] == frozen

    # Step: exactly one batch, with its grid, loss and step number, the forces and the views.
    expect(step_button).to_be_enabled()
    step_button.click()
    stepped = frozen + 1
    expect(step_number).to_have_attribute("data-step", str(stepped))
    expect(step_number).to_have_text(f"{stepped:,}")
    grid = page.locator(f'[data-testid="runs-batch-grid"][data-step="{stepped}"]')
    expect(grid).to_be_visible()
    assert grid.evaluate(_PNG_SIGNATURE) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    expect(page.get_by_test_id("runs-stepped-step")).to_have_text(f"{stepped:,}")
    expect(page.get_by_test_id("runs-stepped-loss")).to_have_text(re.compile(r"^0\.\d+$"))
    expect(page.get_by_test_id("runs-step-views")).to_have_attribute("data-step", str(stepped))
    expect(page.get_by_test_id("step-views")).to_have_attribute("data-step", str(stepped))
    expect(loss_chart).to_have_attribute("data-points", str(stepped))

    # The force scatter shows this step; a click opens the feature's detail.
    scatter = page.get_by_test_id("runs-force-scatter")
    expect(scatter).to_have_attribute("data-step", str(stepped))
    expect(scatter).to_have_attribute("data-points", "64")
    page.locator('[data-testid="runs-force-point"][data-feature="3"]').dispatch_event("click")
    detail = page.get_by_test_id("runs-feature-detail")
    expect(detail).to_have_attribute("data-feature", "3")
    expect(detail).to_have_attribute("data-status", "ready")
    expect(page.get_by_test_id("runs-detail-cosine")).to_have_text(re.compile(r"^−?-?\d\.\d{3}$"))
    for key in ("weight", "opt_delta", "som_delta", "combined_delta"):
        expect(page.get_by_test_id(f"runs-detail-{key}")).to_be_visible()

    # Watch five features by typing their ids.
    page.get_by_test_id("runs-watch-input").fill(", ".join(map(str, WATCHED)))
    page.get_by_test_id("runs-watch-btn").click()
    expect(page.get_by_test_id("runs-watch-chip")).to_have_count(5)
    assert trainer_json(trainer, "/debug/watch")["watched"] == WATCHED

    # Step 20 times: 20 points on each of the five lines.
    for k in range(1, 21):
        step_button.click()
        expect(step_number).to_have_attribute("data-step", str(stepped + k))
        expect(step_button).to_be_enabled()
    trajectory = page.get_by_test_id("runs-trajectory-chart")
    expect(trajectory).to_have_attribute("data-points", "20,20,20,20,20")
    expect(trajectory).to_have_attribute("data-features", ",".join(map(str, WATCHED)))
    expect(page.locator('[data-testid="runs-trajectory-line"]')).to_have_count(5)
    expect(page.get_by_test_id("runs-similarity")).to_have_attribute("data-size", "5")
    page.get_by_test_id("runs-metric-weight_cos_to_init").click()
    expect(trajectory).to_have_attribute("data-metric", "weight_cos_to_init")
    expect(trajectory).to_have_attribute("data-points", "20,20,20,20,20")

    # Export downloads the trajectories as JSON.
    with page.expect_download() as download:
        page.get_by_test_id("runs-export-btn").click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["watched"] == WATCHED
    assert sorted(exported["features"], key=int) == [str(f) for f in WATCHED]
    assert all(len(t["step"]) == 20 for t in exported["features"].values())

    # Resume: full speed again, the trajectories keep growing while it runs.
    page.get_by_test_id("runs-resume-btn").click()
    expect(status).to_have_attribute("data-status", "running")
    expect(step_button).to_be_disabled()
    wait_for_points(page, "runs-trajectory-chart", 60)
    wait_for_points(page, "runs-loss-chart", stepped + 20 + 60)

    # Stop: the final state is shown, the controls follow it.
    page.get_by_test_id("runs-stop-btn").click()
    expect(status).to_have_attribute("data-status", "stopped")
    expect(status).to_have_text("Stopped")
    for button in ("runs-pause-btn", "runs-step-btn", "runs-resume-btn", "runs-stop-btn"):
        expect(page.get_by_test_id(button)).to_be_disabled()
    expect(page.get_by_test_id("runs-start-btn")).to_be_enabled()
    assert trainer_json(trainer, "/runs/current")["status"] == "stopped"
    expect(page.get_by_test_id("runs-error")).to_have_count(0)
    assert errors == []


def test_a_run_refused_while_the_inspector_holds_the_model(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    trainer_json(trainer, "/inspect/setup", {"condition": "bcl-med"})
    page.goto(dashboard.url + "/")
    expect(page.get_by_test_id("runs-stream")).to_have_attribute("data-state", "open")
    page.get_by_test_id("runs-start-btn").click()

    error = page.get_by_test_id("runs-error")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("data-status", "409")
    expect(page.get_by_test_id("runs-error-detail")).to_contain_text("inspector")
    expect(error).to_contain_text("the model is busy")
    expect(page.get_by_test_id("runs-status")).to_have_attribute("data-status", "none")
