"""The headless Debian Chromium options every browser test uses (root needs --no-sandbox; no network)."""

from __future__ import annotations

from selenium.webdriver.chrome.options import Options

CHROMIUM = "/usr/bin/chromium"
ARGS: tuple[str, ...] = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
)


def chromium_options(*extra_args: str, console_log: bool = False) -> Options:
    """Options for headless Chromium: ARGS plus `extra_args`; `console_log` keeps the browser console's entries."""
    options = Options()
    for arg in (*ARGS, *extra_args):
        options.add_argument(arg)
    options.binary_location = CHROMIUM
    if console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options
