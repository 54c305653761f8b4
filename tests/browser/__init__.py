"""Browser tests (tests/jupyter/test_browser_sidebar.py) and scripts/screenshots.py drive Debian's chromium (never a
browser downloaded by a test tool), headless, with these flags."""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
