"""The per-feature timeline on /inspect: a [D] history key over the session's steps (a real
trainer, the built dashboard, headless Chromium)."""

from __future__ import annotations

import json
import math
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
STEPS = 30
FEATURES = 64


def history(trainer: Server, key: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{trainer.url}/inspect/history?since=1&keys={key}") as answer:
        data: dict[str, Any] = json.load(answer)
        return data


def test_feature_timeline_shows_every_feature_over_the_steps(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard.url + "/inspect")
    timeline = page.get_by_test_id("feature-timeline")
    expect(timeline.get_by_test_id("feature-timeline-empty")).to_be_visible()

    # Step ×10 three times (the first sets up the session): 30 steps.
    step10 = page.get_by_test_id("inspect-step10-btn")
    step_number = page.get_by_test_id("inspect-step-number")
    for done in (10, 20, 30):
        step10.click()
        expect(step_number).to_have_text(str(done))

    canvas = page.get_by_test_id("feature-timeline-canvas")
    expect(canvas).to_have_attribute("data-steps", str(STEPS))
    expect(canvas).to_have_attribute("data-features", str(FEATURES))
    expect(canvas).to_have_attribute("data-key", "win_rate")
    expect(canvas).to_have_attribute("data-mode", "exact")
    expect(canvas).to_have_attribute("data-first-step", "1")
    expect(canvas).to_have_attribute("data-last-step", str(STEPS))
    expect(page.get_by_test_id("feature-timeline-count")).to_have_text("30 steps × 64 features")

    # What is drawn is the trainer's win_rate: the fingerprint is the sum of every value.
    rows = history(trainer, "win_rate")["columns"]["win_rate"]
    assert len(rows) == STEPS and all(len(row) == FEATURES for row in rows)
    win_sum = float(canvas.get_attribute("data-sum") or "nan")
    assert math.isclose(win_sum, sum(sum(row) for row in rows), rel_tol=1e-4)

    # Hover over step 12, feature 5: the tooltip names them with the trainer's value.
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    canvas.hover(
        position={
            "x": (12 - 0.5) * box["width"] / STEPS,
            "y": (5 + 0.5) * box["height"] / FEATURES,
        }
    )
    tip = page.get_by_test_id("feature-timeline-tooltip")
    expect(tip).to_be_visible()
    expect(tip).to_have_attribute("data-step", "12")
    expect(tip).to_have_attribute("data-feature", "5")
    shown = float(tip.get_attribute("data-value") or "nan")
    assert math.isclose(shown, rows[11][5], rel_tol=1e-5, abs_tol=1e-7)
    expect(tip).to_contain_text("feature 5")

    # A click on the row focuses feature 5 and draws its line.
    page.mouse.down()
    page.mouse.up()
    expect(page.get_by_test_id("feature-timeline-focus")).to_have_attribute("data-feature", "5")
    line = page.get_by_test_id("feature-timeline-line")
    expect(line).to_have_attribute("data-feature", "5")
    page.screenshot(path=str(ARTIFACTS / "inspect_feature_timeline.png"), full_page=True)

    # Another [D] key: the drawn data changes to that key's values.
    page.get_by_test_id("feature-timeline-key").select_option("grad_magnitude")
    expect(canvas).to_have_attribute("data-key", "grad_magnitude")
    expect(canvas).to_have_attribute("data-steps", str(STEPS))
    grad = history(trainer, "grad_magnitude")["columns"]["grad_magnitude"]
    grad_sum = sum(sum(v for v in row if v is not None) for row in grad)
    assert math.isclose(float(canvas.get_attribute("data-sum") or "nan"), grad_sum, rel_tol=1e-4)
    assert not math.isclose(grad_sum, win_sum, rel_tol=1e-3)
    expect(line).to_have_attribute("data-key", "grad_magnitude")

    # More steps follow: Step ×10 adds ten columns.
    step10.click()
    expect(step_number).to_have_text("40")
    expect(canvas).to_have_attribute("data-steps", "40")
    expect(page.get_by_test_id("inspect-error")).to_have_count(0)
    assert errors == []
