"""The runs page's charts in Chromium: a real trainer, the built dashboard.

The live loss chart takes a log axis, an EMA smoothing (the raw curve stays behind it, faint) and a
zoom to a range of steps (drag, Ctrl+wheel, double-click resets); the watched features'
trajectories zoom the same way; every tick label on an axis is distinct; the pairwise similarity
switches between the diverging −1..1 scale and 0..1; the force scatter counts how many features'
optimizer and SOM updates agree or fight.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Server

WATCHED = "0, 15, 31"


def window(chart: Locator) -> tuple[float, float]:
    """The steps a chart shows: its data-lo and data-hi."""
    return float(chart.get_attribute("data-lo") or "nan"), float(
        chart.get_attribute("data-hi") or "nan"
    )


def drag_across(page: Page, chart: Locator, start: float, end: float) -> None:
    """Press at `start` of the plot's width, move to `end`, release (fractions of the SVG's width)."""
    box = chart.locator("svg").first.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * start, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * (start + end) / 2, y, steps=4)
    page.mouse.move(box["x"] + box["width"] * end, y, steps=4)
    page.mouse.up()


def ctrl_wheel(page: Page, chart: Locator, at: float, delta: float) -> None:
    box = chart.locator("svg").first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * at, box["y"] + box["height"] / 2)
    page.keyboard.down("Control")
    page.mouse.wheel(0, delta)
    page.keyboard.up("Control")


def plot_width(chart: Locator) -> float:
    """The width in pixels of a line chart's plot area (its clip rectangle)."""
    return float(chart.locator("clipPath rect").first.get_attribute("width") or "0")


def tick_labels(chart: Locator) -> list[str]:
    """The y tick labels of a step chart (the text beside its horizontal grid lines)."""
    texts: list[str] = chart.locator("svg g > text.chart-tick").evaluate_all(
        "els => els.map(el => el.textContent)"
    )
    return texts


def assert_zooms_and_resets(page: Page, chart: Locator, reset: str) -> None:
    """Drag zooms into those steps, Ctrl+wheel zooms further, `reset` shows every step again."""
    full = window(chart)
    expect(chart).to_have_attribute("data-zoomed", "false")
    drag_across(page, chart, 0.3, 0.7)
    expect(chart).to_have_attribute("data-zoomed", "true")
    lo, hi = window(chart)
    assert full[0] < lo < hi < full[1], (full, lo, hi)
    assert hi - lo < 0.6 * (full[1] - full[0])
    expect(page.get_by_test_id(f"{chart.get_attribute('data-testid')}-window")).to_contain_text(
        "steps"
    )

    ctrl_wheel(page, chart, 0.5, -240)
    page.wait_for_function(
        "([el, span]) => Number(el.dataset.hi) - Number(el.dataset.lo) < span",
        arg=[chart.element_handle(), hi - lo],
    )
    zoomed_lo, zoomed_hi = window(chart)
    assert lo <= zoomed_lo < zoomed_hi <= hi

    if reset == "dblclick":
        chart.locator("svg").first.dblclick()
    else:
        page.get_by_test_id(reset).click()
    expect(chart).to_have_attribute("data-zoomed", "false")
    now = window(chart)
    assert now[0] == full[0] and now[1] >= full[1]


def test_loss_and_trajectory_charts_zoom_smooth_and_read(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard.url + "/")
    expect(page.get_by_test_id("runs-stream")).to_have_attribute("data-state", "open")

    page.get_by_test_id("runs-condition").select_option("bcl-med")
    page.get_by_test_id("runs-steps").fill("100000")
    page.get_by_test_id("runs-capture-every").fill("10")
    page.get_by_test_id("runs-start-btn").click()
    status = page.get_by_test_id("runs-status")
    expect(status).to_have_attribute("data-status", "running")
    page.get_by_test_id("runs-watch-input").fill(WATCHED)
    page.get_by_test_id("runs-watch-btn").click()
    expect(page.get_by_test_id("runs-watch-chip")).to_have_count(3)

    loss = page.get_by_test_id("runs-loss-chart")
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=\"runs-loss-chart\"]')?.dataset.points) >= 120",
        timeout=30_000,
    )
    page.get_by_test_id("runs-pause-btn").click()
    expect(status).to_have_attribute("data-status", "paused")
    expect(status).to_have_attribute("data-blocked", "true")
    step_number = page.get_by_test_id("runs-step-number")
    stepped = str(int(step_number.get_attribute("data-step") or "0") + 1)
    page.get_by_test_id("runs-step-btn").click()
    expect(step_number).to_have_attribute("data-step", stepped)
    expect(page.get_by_test_id("runs-force-scatter")).to_have_attribute("data-step", stepped)

    # A line with more points than the plot has pixels is drawn as a hairline ("dense").
    line = page.get_by_test_id("runs-loss-line")
    points = int(loss.get_attribute("data-points") or "0")
    assert points < plot_width(loss)
    expect(line).not_to_have_class(re.compile(r"\bdense\b"))
    # Narrowed to fewer pixels than points, the same line turns dense; widened again, it does not.
    loss.evaluate("el => { el.style.width = '160px'; }")
    expect(line).to_have_class(re.compile(r"\bdense\b"))
    assert points > plot_width(loss)
    assert line.evaluate("el => getComputedStyle(el).strokeWidth") == "1px"
    loss.evaluate("el => { el.style.width = ''; }")
    expect(line).not_to_have_class(re.compile(r"\bdense\b"))

    # Axis titles, and y ticks that never repeat.
    expect(loss.get_by_test_id("chart-x-title")).to_have_text("step →")
    expect(loss.get_by_test_id("chart-y-title")).to_have_text("loss")
    labels = tick_labels(loss)
    assert len(labels) >= 2 and len(set(labels)) == len(labels), labels

    # Log scale: the axis changes, its labels stay distinct; back to linear.
    page.get_by_test_id("runs-loss-scale-log").click()
    expect(loss).to_have_attribute("data-scale", "log")
    log_labels = tick_labels(loss)
    assert len(log_labels) >= 2 and len(set(log_labels)) == len(log_labels), log_labels
    assert log_labels != labels
    page.get_by_test_id("runs-loss-scale-linear").click()
    expect(loss).to_have_attribute("data-scale", "linear")

    # Smoothing: a smoothed line over the raw one, which turns faint; 0 takes it away again.
    expect(page.get_by_test_id("runs-loss-smoothed")).to_have_count(0)
    page.get_by_test_id("runs-loss-smoothing").fill("0.9")
    expect(page.get_by_test_id("runs-loss-smoothing-value")).to_have_text("0.90")
    expect(loss).to_have_attribute("data-smoothing", "0.9")
    smoothed = page.get_by_test_id("runs-loss-smoothed")
    expect(smoothed).to_have_count(1)
    expect(page.get_by_test_id("runs-loss-line")).to_have_class(re.compile(r"\bfaint\b"))
    assert smoothed.get_attribute("d") != page.get_by_test_id("runs-loss-line").get_attribute("d")
    page.get_by_test_id("runs-loss-smoothing").fill("0")
    expect(page.get_by_test_id("runs-loss-smoothed")).to_have_count(0)

    # Zoom the loss chart: drag, Ctrl+wheel, double-click.
    assert_zooms_and_resets(page, loss, "dblclick")

    # Step 12 more times: each watched feature has points to zoom into.
    for _ in range(12):
        page.get_by_test_id("runs-step-btn").click()
        expect(page.get_by_test_id("runs-step-btn")).to_be_enabled()
    trajectory = page.get_by_test_id("runs-trajectory-chart")
    page.get_by_test_id("runs-metric-weight_cos_to_init").click()
    expect(trajectory).to_have_attribute("data-metric", "weight_cos_to_init")
    expect(trajectory.get_by_test_id("chart-y-title")).to_have_text("cos to start")
    labels = tick_labels(trajectory)
    assert len(labels) >= 2 and len(set(labels)) == len(labels), labels
    assert_zooms_and_resets(page, trajectory, "runs-trajectory-chart-reset")

    # Pairwise similarity: diverging −1..1 by default (cosine 1 is red), 0..1 viridis (yellow).
    similarity = page.get_by_test_id("runs-similarity")
    expect(similarity).to_have_attribute("data-scale", "signed")
    cells = page.get_by_test_id("runs-similarity-cell")
    expect(cells).to_have_count(9)
    values = [float(v) for v in cells.evaluate_all("els => els.map(el => el.dataset.value)")]
    diagonal = cells.nth(values.index(max(values)))  # a feature with itself: cosine 1
    assert max(values) > 0.99, values
    red = diagonal.evaluate("el => getComputedStyle(el).fill")
    r, g, b = (int(v) for v in red.removeprefix("rgb(").rstrip(")").replace(",", " ").split())
    assert r > b + 50 and r > g, red
    page.get_by_test_id("runs-similarity-scale-fixed").click()
    expect(similarity).to_have_attribute("data-scale", "fixed")
    yellow = diagonal.evaluate("el => getComputedStyle(el).fill")
    r, g, b = (int(v) for v in yellow.removeprefix("rgb(").rstrip(")").replace(",", " ").split())
    assert r > 200 and g > 200 and b < 100, yellow

    # The force scatter counts the features whose two updates agree or fight, under the scatter.
    counts = page.get_by_test_id("runs-force-counts")
    expect(counts).to_contain_text("agree")
    expect(counts).to_contain_text("fight")
    numbers = [
        int(counts.get_attribute(f"data-{k}") or "-1") for k in ("agree", "fight", "orthogonal")
    ]
    assert all(n >= 0 for n in numbers) and sum(numbers) <= 64 and sum(numbers) >= 60, numbers
    # One name per quantity: the optimizer's update is not "Grad Δ" beside the gradient's norm.
    page.locator('[data-testid="runs-force-point"][data-feature="3"]').dispatch_event("click")
    detail = page.get_by_test_id("runs-feature-detail")
    expect(detail).to_have_attribute("data-status", "ready")
    expect(detail).to_contain_text("optimizer update Δw")
    expect(detail).to_contain_text("SOM update Δw")
    expect(detail).to_contain_text("gradient ‖∇w‖")
    expect(detail).to_contain_text("cos(optimizer update, SOM update)")
    expect(detail).not_to_contain_text("Grad Δ")
    expect(page.get_by_test_id("runs-force-scatter")).to_contain_text("gradient ‖∇w‖")
    x_labels = page.get_by_test_id("runs-scatter-xtick").evaluate_all(
        "els => els.map(el => el.textContent)"
    )
    assert len(set(x_labels)) == len(x_labels), x_labels

    page.get_by_test_id("runs-stop-btn").click()
    expect(status).to_have_attribute("data-status", "stopped")
    assert errors == []
