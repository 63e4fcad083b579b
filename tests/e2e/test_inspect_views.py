"""The inspector's step views end to end (issue 5): a real trainer, the built dashboard, Chromium.

After one Step the feature table, every heatmap, the cosine matrices, the nine trace sections and
the feature focus show the numbers the trainer's JSON API returns for the same step; a screenshot
of the whole page is kept under tests/e2e/artifacts/.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# Every [M, N] key the trace and the cosine card draw as a heatmap for a bcl-med step.
HEATMAP_KEYS = {
    "strength",
    "rank_score",
    "local_coverage",
    "local_novelty",
    "in_nbr",
    "grad_mask",
    "weight_cosine",
    "som_target_cosine",
    "grad_cosine",
}
COSINE_KEYS = ("weight_cosine", "som_target_cosine", "grad_cosine")
TRACE_SECTIONS = 9


def api(trainer: Server, path: str) -> dict[str, Any]:
    """The trainer's JSON answer to GET `path` (what `curl` gets)."""
    with urllib.request.urlopen(trainer.url + path) as answer:
        data: dict[str, Any] = json.load(answer)
        return data


def fixed3(value: float) -> str:
    """A number as the views print statistics: 3 decimals, a real minus sign, no negative zero."""
    text = f"{value:.3f}"
    return ("0.000" if text == "-0.000" else text).replace("-", "\u2212")


def hover_cell(page: Page, canvas: Locator, row: int, col: int, rows: int, cols: int) -> Locator:
    """Hover the centre of cell (row, col) of a heatmap canvas; the tooltip that names it."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    canvas.hover(
        position={"x": (col + 0.5) * box["width"] / cols, "y": (row + 0.5) * box["height"] / rows}
    )
    tip = page.get_by_test_id("heatmap-tooltip")
    expect(tip).to_have_attribute("data-row", str(row))
    expect(tip).to_have_attribute("data-col", str(col))
    return tip


def test_step_views_show_the_trainers_tensors(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard.url + "/inspect")
    expect(page.get_by_test_id("inspect-controls")).to_have_attribute("data-state", "inactive")
    page.get_by_test_id("inspect-step-btn").click()  # sets up a bcl-med session, then steps
    expect(page.locator('[data-testid="step-views"][data-step="1"]')).to_be_visible()
    step = api(trainer, "/inspect/step/1")
    assert step["nonfinite"] == {}

    # The metrics table: one row per feature; win_rate descending puts the largest first.
    rows = page.get_by_test_id("metrics-row")
    expect(rows).to_have_count(64)
    page.get_by_test_id("metrics-sort-win_rate").click()
    expect(page.locator('[role="columnheader"][data-key="win_rate"]')).to_have_attribute(
        "aria-sort", "descending"
    )
    win_rate = np.array(step["win_rate"])
    shown = page.locator(
        '[data-testid="metrics-row"] [role="cell"][data-key="win_rate"]'
    ).evaluate_all("cells => cells.map(c => Number(c.dataset.value))")
    assert shown == pytest.approx(sorted(win_rate, reverse=True), rel=1e-6)
    assert rows.first.get_attribute("data-feature") == str(int(win_rate.argmax()))
    page.get_by_test_id("metrics-sort-win_rate").click()
    expect(page.locator('[role="columnheader"][data-key="win_rate"]')).to_have_attribute(
        "aria-sort", "ascending"
    )
    assert rows.first.get_attribute("data-feature") == str(int(win_rate.argmin()))

    # Every heatmap: a canvas of its tensor's size, whose hover shows the API's value per cell.
    canvases = page.get_by_test_id("heatmap-canvas")
    keys = canvases.evaluate_all("els => els.map(el => el.dataset.key)")
    assert set(keys) == HEATMAP_KEYS
    for key in keys:
        matrix = np.array(step[key], dtype=np.float64)
        n_rows, n_cols = matrix.shape
        canvas = page.locator(f'[data-testid="heatmap-canvas"][data-key="{key}"]')
        assert canvas.evaluate("c => [c.width, c.height]") == [n_cols, n_rows], key
        for row, col in ((0, 0), (n_rows - 1, n_cols - 1), (n_rows // 3, n_cols // 2 + 1)):
            tip = hover_cell(page, canvas, row, col, n_rows, n_cols)
            value = float(tip.get_attribute("data-value") or "nan")
            assert value == pytest.approx(matrix[row, col], rel=1e-6, abs=1e-12), (key, row, col)

    # The cosine matrices: mean off-diagonal equals the mean computed here from the API's matrix.
    for key in COSINE_KEYS:
        matrix = np.array(step[key], dtype=np.float64)
        off = matrix[~np.eye(matrix.shape[0], dtype=bool)]
        expect(page.get_by_test_id(f"cosine-mean-{key}")).to_have_text(fixed3(off.mean()))
        expect(page.get_by_test_id(f"cosine-std-{key}")).to_have_text(fixed3(off.std()))
        expect(page.get_by_test_id(f"cosine-max-{key}")).to_have_text(fixed3(off.max()))
        assert fixed3(off.mean()) == fixed3(step[f"{key}_mean"])  # and the trainer's own mean

    # The algorithm trace: nine sections in order, each collapses and expands.
    sections = page.locator('[data-testid^="trace-section-"]')
    expect(sections).to_have_count(TRACE_SECTIONS)
    assert sections.evaluate_all("els => els.map(el => Number(el.dataset.n))") == list(
        range(1, TRACE_SECTIONS + 1)
    )
    for i in range(TRACE_SECTIONS):
        section = sections.nth(i)
        toggle = section.locator('[data-testid^="trace-toggle-"]')
        body = section.locator('[data-testid^="trace-body-"]')
        expect(body).to_be_visible()
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(body).to_have_count(0)
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(body).to_be_visible()

    # Feature focus from the table: the dock shows that feature, its four 28×28 pictures and the
    # cosine between its gradient (opt_delta) and SOM (som_delta) steps.
    row = rows.nth(5)
    feature = int(row.get_attribute("data-feature") or "-1")
    row.click()
    expect(row).to_have_attribute("aria-selected", "true")
    focus = page.get_by_test_id("feature-focus")
    expect(focus).to_have_attribute("data-feature", str(feature))
    expect(page.get_by_test_id("focus-feature")).to_have_text(str(feature))
    pictures = page.get_by_test_id("focus-picture")
    expect(pictures).to_have_count(4)
    assert pictures.evaluate_all("els => els.map(c => [c.width, c.height])") == [[28, 28]] * 4
    opt = np.array(step["opt_delta"][feature], dtype=np.float64)
    som = np.array(step["som_delta"][feature], dtype=np.float64)
    cosine = float(opt @ som / (np.linalg.norm(opt) * np.linalg.norm(som)))
    shown_cosine = float(page.get_by_test_id("focus-cosine").get_attribute("data-value") or "nan")
    assert shown_cosine == pytest.approx(cosine, abs=1e-5)
    # ... and the other views highlight it: the cosine matrices mark its row and column.
    expect(page.locator('[data-testid="cosine-weight_cosine"] .hm-focus')).to_have_count(2)

    ARTIFACTS.mkdir(exist_ok=True)
    # Off-screen sections skip rendering (content-visibility: auto): draw them all for the picture,
    # and put the docked feature focus at its place in the page, after the views.
    page.add_style_tag(
        content="* { content-visibility: visible !important; } "
        ".focus-dock { position: static !important; }"
    )
    page.evaluate("window.scrollTo(0, 0)")  # sticky header and dock at their natural places
    page.screenshot(path=str(ARTIFACTS / "inspect_views.png"), full_page=True)
    assert errors == []


def test_step_views_of_a_condition_without_bcl(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard.url + "/inspect")
    expect(page.get_by_test_id("inspect-controls")).to_have_attribute("data-state", "inactive")
    page.get_by_test_id("inspect-condition").select_option("control")
    page.get_by_test_id("inspect-step-btn").click()  # sets up a control session, then steps
    expect(page.get_by_test_id("inspect-session-condition")).to_have_text("control")
    expect(page.locator('[data-testid="step-views"][data-step="1"]')).to_be_visible()

    # What control does capture is drawn; what it does not says so instead of breaking.
    expect(page.get_by_test_id("metrics-row")).to_have_count(64)  # grad_magnitude
    expect(page.get_by_test_id("missing-som_target_cosine")).to_contain_text("not captured")
    expect(page.get_by_test_id("cosine-mean-weight_cosine")).to_be_visible()
    expect(page.get_by_test_id("cosine-order")).to_have_count(1)
    expect(page.locator('[data-testid="trace-body-strength"]')).to_contain_text(
        "not captured in this condition"
    )
    expect(
        page.locator('[data-testid="weight-grid-canvas"][data-key="encoder_weights"]')
    ).to_be_visible()
    assert errors == []


_PIXEL = """(canvas, [x, y]) => Array.from(canvas.getContext("2d").getImageData(x, y, 1, 1).data.slice(0, 3))"""


def test_cosine_heatmaps_diverge_around_zero_and_switch_to_0_1(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard.url + "/inspect")
    expect(page.get_by_test_id("inspect-controls")).to_have_attribute("data-state", "inactive")
    page.get_by_test_id("inspect-step-btn").click()  # sets up a bcl-med session, then steps
    expect(page.locator('[data-testid="step-views"][data-step="1"]')).to_be_visible()
    matrix = np.array(api(trainer, "/inspect/step/1")["weight_cosine"], dtype=np.float64)
    off = matrix + np.eye(matrix.shape[0]) * 9  # the diagonal out of the way
    row, col = (int(i) for i in np.unravel_index(off.argmin(), off.shape))
    assert matrix[row, col] < -0.05  # random weights: some pairs point apart

    view = page.get_by_test_id("view-weight_cosine")
    canvas = view.get_by_test_id("heatmap-canvas")
    bar = view.get_by_test_id("colour-bar")
    # Default: diverging over −1..1, cosine 1 (the diagonal) red, the most negative cell blue.
    expect(canvas).to_have_attribute("data-range", "signed")
    expect(bar).to_have_attribute("data-lo", "-1")
    expect(bar).to_have_attribute("data-hi", "1")
    r, g, b = canvas.evaluate(_PIXEL, [0, 0])
    assert r > b + 50 and r > g, (r, g, b)
    r, g, b = canvas.evaluate(_PIXEL, [col, row])
    assert b > r, (matrix[row, col], r, g, b)

    # The 0..1 scale of before: the diagonal yellow, a negative cosine drawn as 0 (dark purple).
    view.get_by_test_id("range-weight_cosine").locator('[data-value="fixed"]').click()
    expect(canvas).to_have_attribute("data-range", "fixed")
    expect(bar).to_have_attribute("data-lo", "0")
    r, g, b = canvas.evaluate(_PIXEL, [0, 0])
    assert r > 200 and g > 200 and b < 100, (r, g, b)
    assert canvas.evaluate(_PIXEL, [col, row]) == [0x44, 0x01, 0x54]

    # And back.
    view.get_by_test_id("range-weight_cosine").locator('[data-value="signed"]').click()
    expect(canvas).to_have_attribute("data-range", "signed")
    expect(bar).to_have_attribute("data-lo", "-1")
    assert errors == []
