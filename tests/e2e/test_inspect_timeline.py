"""The inspector's loss timeline over a long session (issue 8): a real trainer, the built
dashboard, Chromium.

A thousand steps are more than the timeline has pixel columns, so it draws them downsampled; a drag
zooms into a window that is drawn exactly with a point per step, a click on a point there loads that
step, Ctrl+wheel zooms further, and double-click or Reset shows every step again. The page asks
the history for its scalar keys only, and an evicted step's labels for that one step.
"""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server

STEPS = 1_000
MARGIN_LEFT, MARGIN_RIGHT = 66, 22  # InspectLossTimeline's MARGIN


def post(trainer: Server, path: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        trainer.url + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=300).close()


def step_x(page: Page, step: float) -> tuple[float, float]:
    """The page coordinates of `step` on the timeline's x axis (at the plot's middle height)."""
    svg = page.get_by_test_id("inspect-timeline")
    box = svg.bounding_box()
    assert box is not None
    lo = float(svg.get_attribute("data-lo") or "nan")
    hi = float(svg.get_attribute("data-hi") or "nan")
    plot = box["width"] - MARGIN_LEFT - MARGIN_RIGHT
    return box["x"] + MARGIN_LEFT + (step - lo) / (hi - lo) * plot, box["y"] + box["height"] / 2


def drag(page: Page, first: float, last: float) -> None:
    x0, y = step_x(page, first)
    x1, _ = step_x(page, last)
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, y, steps=4)
    expect(page.get_by_test_id("inspect-timeline-drag")).to_be_visible()
    page.mouse.move(x1, y, steps=4)
    page.mouse.up()


def window_of(page: Page) -> tuple[float, float]:
    svg = page.get_by_test_id("inspect-timeline")
    return float(svg.get_attribute("data-lo") or "nan"), float(
        svg.get_attribute("data-hi") or "nan"
    )


def test_long_timeline_downsamples_zooms_and_selects(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    history_urls: list[str] = []
    page.on(
        "request",
        lambda request: (
            history_urls.append(request.url) if "/inspect/history" in request.url else None
        ),
    )
    post(trainer, "/inspect/setup", {"condition": "bcl-med", "seed": 0})
    for _ in range(STEPS // 500):
        post(trainer, "/inspect/step", {"n": 500})

    page.set_viewport_size({"width": 1000, "height": 900})
    page.goto(dashboard.url + "/inspect")
    step_number = page.get_by_test_id("inspect-step-number")
    expect(step_number).to_have_text("1,000")
    expect(page.get_by_test_id("inspect-timeline-count")).to_have_text("1,000 steps")

    # More steps than pixel columns: downsampled, no point drawn one by one, at most 5 per column.
    svg = page.get_by_test_id("inspect-timeline")
    expect(svg).to_have_attribute("data-mode", "downsampled")
    plot = (svg.bounding_box() or {"width": 0})["width"] - MARGIN_LEFT - MARGIN_RIGHT
    drawn = int(svg.get_attribute("data-drawn") or "0")
    assert plot < STEPS and plot <= drawn <= min(STEPS, 5 * plot), (plot, drawn)
    expect(page.get_by_test_id("inspect-timeline-point")).to_have_count(0)
    expect(page.get_by_test_id("inspect-timeline-zoom")).to_have_attribute("data-zoomed", "false")
    expect(page.get_by_test_id("inspect-timeline-reset")).to_have_count(0)

    # A drag from step 100 to 160 zooms into those steps, drawn exactly, a point per step.
    drag(page, 100, 160)
    expect(page.get_by_test_id("inspect-timeline-zoom")).to_have_attribute("data-zoomed", "true")
    expect(svg).to_have_attribute("data-mode", "exact")
    lo, hi = window_of(page)
    assert abs(lo - 100) < 2 and abs(hi - 160) < 2, (lo, hi)
    shown = list(range(int(lo) + 1, int(hi) + 1))
    points = page.get_by_test_id("inspect-timeline-point")
    expect(points).to_have_count(len(shown))
    assert points.evaluate_all("els => els.map(el => Number(el.dataset.step))") == shown
    expect(page.get_by_test_id("inspect-timeline-window")).to_contain_text(
        f"steps {shown[0]}–{shown[-1]}"
    )
    expect(step_number).to_have_text("1,000")  # a drag does not select

    # A click on a point there loads that step: long evicted, its labels asked for that step only.
    page.locator('[data-testid="inspect-timeline-point"][data-step="120"]').click()
    expect(step_number).to_have_text("120")
    expect(page.get_by_test_id("inspect-evicted")).to_be_visible()
    expect(page.get_by_test_id("inspect-loss")).to_have_text(re.compile(r"^0\.\d+$"))
    counts = page.get_by_test_id("inspect-label-counts")
    expect(counts).to_be_visible()
    expect(page.locator('[data-testid="inspect-timeline-point"].selected')).to_have_attribute(
        "data-step", "120"
    )

    # Ctrl+wheel zooms in around the pointer; the window stays around step 130.
    x, y = step_x(page, 130)
    before = svg.get_attribute("data-lo") or ""
    page.mouse.move(x, y)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -120)
    page.keyboard.up("Control")
    expect(svg).not_to_have_attribute("data-lo", before)
    lo2, hi2 = window_of(page)
    assert hi2 - lo2 < hi - lo and lo2 < 130 < hi2, (lo2, hi2)

    # Double-click shows every step again; so does Reset after another drag.
    page.get_by_test_id("inspect-timeline").dblclick()
    expect(page.get_by_test_id("inspect-timeline-zoom")).to_have_attribute("data-zoomed", "false")
    expect(svg).to_have_attribute("data-mode", "downsampled")
    drag(page, 500, 900)
    expect(page.get_by_test_id("inspect-timeline-zoom")).to_have_attribute("data-zoomed", "true")
    expect(svg).to_have_attribute("data-mode", "exact")  # 400 steps, fewer than the columns
    page.get_by_test_id("inspect-timeline-reset").click()
    expect(page.get_by_test_id("inspect-timeline-zoom")).to_have_attribute("data-zoomed", "false")
    assert window_of(page) == (0.5, STEPS + 0.5)

    # A click on the full timeline still selects the step under the pointer.
    x, y = step_x(page, 700)
    page.mouse.click(x, y)
    expect(step_number).to_have_text(re.compile(r"^(69\d|70\d)$"))

    # A Step still lands on the timeline.
    page.get_by_test_id("inspect-step-btn").click()
    expect(step_number).to_have_text("1,001")
    expect(page.get_by_test_id("inspect-timeline-count")).to_have_text("1,001 steps")

    # What the page asked for: scalar columns for every step, the labels of one step.
    assert history_urls, "no history request"
    page_requests = [u for u in history_urls if "limit=1&" not in u]
    row_requests = [u for u in history_urls if "limit=1&" in u]
    assert all("keys=" in u and "batch_labels" not in u for u in page_requests), page_requests
    assert any(re.search(r"since=120&limit=1&keys=batch_labels$", u) for u in row_requests)
    expect(page.get_by_test_id("inspect-error")).to_have_count(0)
    assert errors == []
