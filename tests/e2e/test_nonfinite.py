"""Non-finite values end to end (issue 8): a real trainer, the built dashboard, Chromium.

The `bcl-nan-demo` condition drives training to NaN/Inf on purpose (seed 0: first in
`som_magnitude` at step 7). The inspector names that step in a badge, a click on it shows the step,
and every view still draws it and the steps after it; the runs page names it for a run too.
A screenshot of the inspector on that step is kept under tests/e2e/artifacts/.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, get_json, post_json

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FIRST_STEP, FIRST_KEY = 7, "som_magnitude"

# How many pixels of a canvas are the views' non-finite colour (magenta), and how many are painted.
_NONFINITE_PIXELS = """(canvas) => {
  const context = canvas.getContext('2d');
  const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
  let magenta = 0, painted = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] === 0) continue;
    painted++;
    if (data[i] === 255 && data[i + 1] === 0 && data[i + 2] === 255) magenta++;
  }
  return [magenta, painted];
}"""


def test_inspector_names_the_first_nonfinite_step_and_draws_it(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard.url + "/inspect")
    step_number = page.get_by_test_id("inspect-step-number")
    expect(page.get_by_test_id("inspect-controls")).to_have_attribute("data-state", "inactive")
    page.get_by_test_id("inspect-condition").select_option("bcl-nan-demo")
    page.get_by_test_id("inspect-setup-btn").click()
    expect(page.get_by_test_id("inspect-session-condition")).to_have_text("bcl-nan-demo")
    expect(step_number).to_have_text("0")
    badge = page.get_by_test_id("inspect-first-nonfinite")
    expect(badge).to_have_count(0)  # nothing non-finite yet

    page.get_by_test_id("inspect-step10-btn").click()
    expect(step_number).to_have_text("10")

    # The badge says what the trainer says: the first step and key, and how many values.
    first = get_json(trainer, "/inspect/state")["first_nonfinite"]
    assert (first["step"], first["key"]) == (FIRST_STEP, FIRST_KEY)
    expect(badge).to_be_visible()
    expect(badge).to_have_attribute("data-step", str(FIRST_STEP))
    expect(badge).to_have_attribute("data-key", FIRST_KEY)
    expect(page.get_by_test_id("inspect-first-nonfinite-text")).to_have_text(
        f"NaN/Inf first at step {FIRST_STEP} in {FIRST_KEY} ({first['count']} values)"
    )
    # The timeline marks the step too.
    expect(page.get_by_test_id("inspect-timeline-nonfinite")).to_have_attribute(
        "data-step", str(FIRST_STEP)
    )

    # A click shows step 7: its number, its views, and the per-step warning naming the key.
    page.get_by_test_id("inspect-first-nonfinite-jump").click()
    expect(step_number).to_have_text(str(FIRST_STEP))
    expect(page.get_by_test_id("inspect-first-nonfinite-jump")).to_have_attribute(
        "aria-current", "step"
    )
    views = page.locator(f'[data-testid="step-views"][data-step="{FIRST_STEP}"]')
    expect(views).to_be_visible()
    step_badge = page.get_by_test_id("nonfinite-badge")
    expect(step_badge).to_have_attribute("data-step", str(FIRST_STEP))
    expect(step_badge.locator(f'[data-key="{FIRST_KEY}"]')).to_be_visible()
    expect(page.get_by_test_id("inspect-batch-grid")).to_be_visible()

    # Every view drew the step: canvases of the right step, painted.
    canvases = page.locator(f'canvas[data-step="{FIRST_STEP}"]')
    assert canvases.count() >= 10
    for canvas in (canvases.first, page.get_by_test_id("heatmap-canvas").first):
        canvas.scroll_into_view_if_needed()
        expect(canvas).to_be_visible()
        assert canvas.evaluate(_NONFINITE_PIXELS)[1] > 0
    # som_magnitude itself (+Inf in every feature) is marked in the feature table, not hidden.
    cells = page.locator(f'[data-testid="metrics-row"] [role="cell"][data-key="{FIRST_KEY}"]')
    expect(cells).to_have_count(64)
    expect(cells.and_(page.locator(".bad"))).to_have_count(first["count"])

    # Ten steps later everything has diverged: the loss is NaN from step 14 on. The timeline
    # leaves a gap there, and every view of step 20 still draws, its NaN cells in magenta.
    page.get_by_test_id("inspect-step10-btn").click()
    expect(step_number).to_have_text("20")
    expect(page.get_by_test_id("inspect-timeline-point")).to_have_count(20)
    nan_points = page.locator('[data-testid="inspect-timeline-point"].nonfinite')
    assert nan_points.evaluate_all("els => els.map(el => Number(el.dataset.step))") == list(
        range(14, 21)
    )
    expect(badge).to_have_attribute("data-step", str(FIRST_STEP))  # still the first one
    views = page.locator('[data-testid="step-views"][data-step="20"]')
    expect(views).to_be_visible()
    expect(page.get_by_test_id("inspect-loss")).to_have_text("NaN")
    frame = get_json(trainer, "/inspect/step/20")
    assert frame["nonfinite"]["loss"] == 1
    heatmaps = page.locator('[data-testid="heatmap-canvas"][data-step="20"]')
    keys = heatmaps.evaluate_all("els => els.map(el => el.dataset.key)")
    assert len(keys) >= 6
    for key in keys:
        canvas = page.locator(f'[data-testid="heatmap-canvas"][data-key="{key}"]')
        canvas.scroll_into_view_if_needed()
        expect(canvas).to_be_visible()
        magenta, painted = canvas.evaluate(_NONFINITE_PIXELS)
        assert magenta == frame["nonfinite"].get(key, 0) and painted > 0, key
    grids = page.locator('[data-testid="weight-grid-canvas"][data-step="20"]')
    assert grids.count() >= 4
    for i in range(grids.count()):
        assert grids.nth(i).evaluate(_NONFINITE_PIXELS)[0] > 0
    # Bar charts count their NaN/Inf bars (drawn full height in the danger colour).
    bars = page.locator('[data-testid="bar-chart-canvas"][data-step="20"]')
    bar_keys = bars.evaluate_all("els => els.map(el => el.dataset.key)")
    assert len(bar_keys) >= 4
    for key in bar_keys:
        count = frame["nonfinite"].get(key, 0)
        figure = page.locator(f'figure[data-view="bar-chart"][data-key="{key}"]').first
        if count:
            expect(figure.locator(".bar-nan")).to_have_text(f" · {count} NaN/Inf")
    ARTIFACTS.mkdir(exist_ok=True)
    page.add_style_tag(content="* { content-visibility: visible !important; }")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "inspect_nonfinite_diverged.png"), full_page=True)

    # Back to step 7 for the picture.
    page.get_by_test_id("inspect-first-nonfinite-jump").click()
    expect(step_number).to_have_text(str(FIRST_STEP))
    page.add_style_tag(content=".focus-dock { position: static !important; }")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "inspect_nonfinite.png"), full_page=True)
    expect(page.get_by_test_id("inspect-error")).to_have_count(0)

    # Too many steps for a dot each: the diverged stretch is one strip along the top edge.
    while int(get_json(trainer, "/inspect/state")["step"]) < 700:
        post_json(trainer, "/inspect/step", {"n": 500})
    page.reload()
    losses = get_json(trainer, "/inspect/history?keys=loss")
    bad = [s for s, v in zip(losses["steps"], losses["columns"]["loss"], strict=True) if v is None]
    runs = 1 + sum(1 for a, b in zip(bad, bad[1:], strict=False) if b != a + 1)
    assert bad[-1] == losses["steps"][-1] and len(bad) > 600  # diverged for good
    strips = page.get_by_test_id("inspect-timeline-nan-strip")
    expect(strips.first).to_have_attribute("data-first", str(bad[0]))
    expect(strips.last).to_have_attribute("data-last", str(bad[-1]))
    assert 1 <= strips.count() <= runs  # runs a pixel apart merge
    expect(page.get_by_test_id("inspect-timeline-point")).to_have_count(0)  # downsampled
    assert errors == []


def test_runs_page_names_the_runs_first_nonfinite_step(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard.url + "/")
    expect(page.get_by_test_id("runs-stream")).to_have_attribute("data-state", "open")
    page.get_by_test_id("runs-condition").select_option("bcl-nan-demo")
    page.get_by_test_id("runs-steps").fill("20")
    page.get_by_test_id("runs-capture-every").fill("1")  # every step kept in full
    page.get_by_test_id("runs-start-btn").click()

    badge = page.get_by_test_id("runs-first-nonfinite")
    expect(badge).to_have_attribute("data-step", str(FIRST_STEP))
    expect(badge).to_have_attribute("data-key", FIRST_KEY)
    first = get_json(trainer, "/runs/current")["first_nonfinite"]
    expect(page.get_by_test_id("runs-first-nonfinite-text")).to_have_text(
        f"NaN/Inf first at step {FIRST_STEP} in {FIRST_KEY} ({first['count']} values)"
    )

    # A click shows that step in the step panel and its views below.
    page.get_by_test_id("runs-first-nonfinite-jump").click()
    expect(page.get_by_test_id("runs-step-panel")).to_have_attribute("data-step", str(FIRST_STEP))
    expect(page.get_by_test_id("runs-step-views")).to_have_attribute("data-step", str(FIRST_STEP))
    expect(page.get_by_test_id("nonfinite-badge")).to_have_attribute("data-step", str(FIRST_STEP))
    expect(page.get_by_test_id("runs-step-views-error")).to_have_count(0)
    assert errors == []
