"""The step views at D = 1024 end to end: a real trainer, the built dashboard, Chromium.

The step frame leaves the large tensors out (over its 1 MiB budget); every view reads what it
draws on its own: heatmaps reduced to the canvas, a zoom into a cosine matrix exact (the values
the trainer's JSON gives), weight grids a page of features, the focused feature's rows. The same
views on the runs page, for a paused run's step. Screenshots go to tests/e2e/artifacts/.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WIDE = 1024
# The [B, D] and [D, D] keys a bcl-med step draws as heatmaps, and its [D, P] weight grids.
HEATMAP_KEYS = ("strength", "rank_score", "local_coverage", "local_novelty", "in_nbr", "grad_mask")
COSINE_KEYS = ("weight_cosine", "som_target_cosine", "grad_cosine")


def api(trainer: Server, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(trainer.url + path) as answer:
        data: dict[str, Any] = json.load(answer)
        return data


def every_view_reads_its_tensors(page: Page, step: int, deferred: dict[str, Any]) -> None:
    views = page.get_by_test_id("step-views")
    expect(views).to_have_attribute("data-step", str(step), timeout=60_000)
    # Every deferred heatmap is read reduced (a [B, D] key that fits the frame draws as before).
    drawn = [key for key in (*HEATMAP_KEYS, *COSINE_KEYS) if key in deferred]
    assert len(drawn) >= len(COSINE_KEYS) + len(HEATMAP_KEYS) - 1, deferred
    for key in (*HEATMAP_KEYS, *COSINE_KEYS):
        if key not in drawn:
            expect(
                page.locator(f'[data-testid="heatmap-canvas"][data-key="{key}"]')
            ).to_be_visible()
    # Each reduced heatmap and weight-grid page came back; none is left loading or failed.
    grids = page.locator('[data-testid^="grid-heatmap-"][data-status]')
    expect(grids).to_have_count(len(drawn))
    for i in range(grids.count()):
        grid = grids.nth(i)
        expect(grid).not_to_have_attribute("data-status", "loading", timeout=30_000)
        assert grid.get_attribute("data-status") == "ready", grid.inner_text()
    expect(page.locator('[data-testid^="loading-"]')).to_have_count(0, timeout=30_000)
    # Every weight grid drew its page (a figure without a canvas would still be loading).
    figures = page.locator('figure[data-view="weight-grid"]')
    assert figures.count() >= 5
    expect(page.locator('[data-testid="weight-grid-canvas"]')).to_have_count(figures.count())
    label = page.locator('[data-testid^="page-label-"]').first
    expect(label).to_have_text(f"0–63 of {WIDE:,}")
    # The metrics table has every feature, its [B, D] columns from the batch means read apart.
    expect(page.get_by_test_id("metrics-row")).to_have_count(WIDE)
    expect(page.get_by_test_id("metrics-missing")).to_have_count(0)
    expect(page.get_by_test_id("metrics-loading")).to_have_count(0)


def test_inspector_at_width_1024(page: Page, trainer: Server, dashboard: Server) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    frames: list[int] = []
    page.on(
        "response",
        lambda r: frames.append(len(r.body())) if r.url.endswith("/api/inspect/step") else None,
    )
    page.goto(dashboard.url + "/inspect")
    width = page.get_by_test_id("inspect-width")
    width.fill(str(WIDE))
    width.press("Enter")
    page.get_by_test_id("inspect-step-btn").click()
    expect(page.get_by_test_id("step-views")).to_have_attribute("data-step", "1", timeout=60_000)
    every_view_reads_its_tensors(page, 1, api(trainer, "/inspect/step/1")["deferred"])
    state = api(trainer, "/inspect/state")
    assert (state["model_dim"], state["options"]) == (WIDE, {"dim": WIDE})
    assert frames and max(frames) <= 1 << 20, frames  # the step frame stayed within its budget

    # Weight grids page through the features.
    page.locator('[data-testid^="page-next-"]').first.click()
    expect(page.locator('[data-testid^="page-label-"]').first).to_have_text(f"64–127 of {WIDE:,}")

    # A cosine matrix is drawn reduced; a click zooms into a window whose values are exact.
    cosine = page.get_by_test_id("grid-heatmap-weight_cosine")
    expect(cosine).to_have_attribute("data-exact", "false")
    canvas = cosine.get_by_test_id("grid-heatmap-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    canvas.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.25})
    expect(cosine).to_have_attribute("data-exact", "true", timeout=15_000)
    r0, r1, c0, c1 = (int(v) for v in (cosine.get_attribute("data-window") or "").split(","))
    assert (r1 - r0, c1 - c0) == (48, 48)
    exact = api(
        trainer,
        f"/inspect/step/1/tensor/weight_cosine?rows=48&cols=48&r0={r0}&r1={r1}&c0={c0}&c1={c1}",
    )
    box = canvas.bounding_box()
    assert box is not None
    canvas.hover(position={"x": 3.5 * box["width"] / 48, "y": 2.5 * box["height"] / 48})
    tip = page.get_by_test_id("grid-heatmap-tooltip")
    expect(tip).to_have_attribute("data-row", str(r0 + 2))
    expect(tip).to_have_attribute("data-col", str(c0 + 3))
    assert float(tip.get_attribute("data-value") or "nan") == pytest.approx(
        exact["mean"][2][3], abs=1e-6
    )
    page.screenshot(path=str(ARTIFACTS / "wide-inspect-zoom.png"))

    # A click in the exact window focuses that feature; the focus reads its rows on its own.
    canvas.click(position={"x": 3.5 * box["width"] / 48, "y": 2.5 * box["height"] / 48})
    focus = page.get_by_test_id("feature-focus")
    expect(focus).to_have_attribute("data-feature", str(c0 + 3))
    expect(page.get_by_test_id("focus-picture")).to_have_count(4, timeout=15_000)
    expect(page.get_by_test_id("focus-cosine")).not_to_have_attribute("data-value", "")
    # The weight grids turned to the focused feature's page.
    page_start = (c0 + 3) // 64 * 64
    expect(page.locator('[data-testid^="page-label-"]').first).to_have_text(
        f"{page_start:,}–{page_start + 63:,} of {WIDE:,}"
    )
    page.get_by_test_id("zoom-out-weight_cosine").click()
    expect(cosine).to_have_attribute("data-exact", "false")
    page.screenshot(path=str(ARTIFACTS / "wide-inspect.png"), full_page=True)
    assert errors == []


def test_runs_page_at_width_1024(page: Page, trainer: Server, dashboard: Server) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard.url + "/")
    expect(page.get_by_test_id("runs-stream")).to_have_attribute("data-state", "open")
    page.get_by_test_id("runs-width").fill(str(WIDE))
    page.get_by_test_id("runs-steps").fill("100000")
    page.get_by_test_id("runs-start-btn").click()
    status = page.get_by_test_id("runs-status")
    expect(status).to_have_attribute("data-status", "running")
    assert api(trainer, "/runs/current")["options"] == {"dim": WIDE}
    page.get_by_test_id("runs-pause-btn").click()
    expect(status).to_have_attribute("data-blocked", "true", timeout=30_000)
    frozen = int(page.get_by_test_id("runs-step-number").get_attribute("data-step") or "0")
    page.get_by_test_id("runs-step-btn").click()
    step = frozen + 1
    views = page.get_by_test_id("runs-step-views")
    expect(views).to_have_attribute("data-step", str(step), timeout=30_000)
    every_view_reads_its_tensors(page, step, api(trainer, f"/runs/step/{step}")["deferred"])
    page.screenshot(path=str(ARTIFACTS / "wide-runs.png"), full_page=True)
    page.get_by_test_id("runs-stop-btn").click()
    assert errors == []
