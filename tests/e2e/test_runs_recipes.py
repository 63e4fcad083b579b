"""The runs page offers every recipe with its own conditions, whatever recipe the last run had."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server


def _call(trainer: Server, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        trainer.url + path, data=data, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)


def test_after_a_vq_run_the_form_still_offers_bcl_recipes_and_conditions(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    _call(trainer, "/codebook/start", {"condition": "ema", "steps": 3, "levels": 2})
    deadline = time.monotonic() + 120
    while _call(trainer, "/runs/current")["status"] != "completed":
        assert time.monotonic() < deadline, "the VQ run did not finish"
        time.sleep(0.1)

    page.goto(dashboard.url + "/")
    recipe = page.get_by_test_id("runs-recipe")
    condition = page.get_by_test_id("runs-condition")
    expect(recipe.locator("option")).to_have_text(["gradient_gating_l0", "vqvae"])
    expect(recipe).to_have_value("gradient_gating_l0")
    expect(condition).to_have_value("bcl-med")
    expect(condition.locator("option", has_text="ema")).to_have_count(0)
    expect(condition.locator("option", has_text="bcl-fast")).to_have_count(1)

    recipe.select_option("vqvae")
    expect(condition).to_have_value("ema")
    expect(condition.locator("option", has_text="bcl-med")).to_have_count(0)
    recipe.select_option("gradient_gating_l0")
    expect(condition).to_have_value("bcl-med")

    page.get_by_test_id("runs-steps").fill("5")
    page.get_by_test_id("runs-form").evaluate("form => form.requestSubmit()")
    deadline = time.monotonic() + 120
    while (state := _call(trainer, "/runs/current")).get("recipe") != "gradient_gating_l0":
        assert time.monotonic() < deadline, f"no BCL run started: {state}"
        time.sleep(0.1)
    assert state["condition"] == "bcl-med"
