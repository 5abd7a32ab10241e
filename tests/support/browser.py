"""Debian's Chromium, driven by Playwright, for the tests of the web pages."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
# No network here: keep Chromium from calling home (it would retry and slow every start).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
