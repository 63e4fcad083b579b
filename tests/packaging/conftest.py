"""The headless Chromium of the end-to-end tests, for the installed-wheel test."""

from tests.e2e.conftest import browser, page, playwright  # noqa: F401 (fixtures)
