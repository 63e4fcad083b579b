from __future__ import annotations

import re

import torch
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server


def test_runs_page_shows_live_trainer_status_then_the_banner(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    page.goto(dashboard.url + "/")
    panel = page.get_by_test_id("health-panel")
    expect(panel).to_be_visible()
    expect(page.get_by_test_id("health-torch-version")).to_have_text(torch.__version__)
    expect(page.get_by_test_id("health-dataset-size")).to_have_text(
        re.compile(r"^10[,\u202f ]?000$")
    )
    expect(page.get_by_test_id("health-device")).to_have_text("cpu")
    expect(page.get_by_test_id("health-threads")).to_have_text(re.compile(r"^[1-9][0-9]*$"))
    expect(page.get_by_test_id("trainer-banner")).to_have_count(0)

    trainer.stop()
    expect(page.get_by_test_id("trainer-banner")).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("trainer-banner")).to_contain_text("not reachable")
