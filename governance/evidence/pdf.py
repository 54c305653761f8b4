"""HTML to PDF with Debian's headless Chromium (`--print-to-pdf`): the browser the admin is tested in, no other
renderer. The document is written to a temporary folder and printed from there, with the network off; where no
Chromium is installed (`CHROMIUM` names another binary), PdfUnavailable says so."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-pdf-header-footer",
)
TIMEOUT_S = 60


class PdfUnavailable(RuntimeError):
    pass


def chromium() -> str | None:
    return shutil.which(os.environ.get("CHROMIUM", "chromium"))


def html_to_pdf(html: str) -> bytes:
    binary = chromium()
    if binary is None:
        raise PdfUnavailable("PDF rendering needs Chromium (apt-get install -y chromium, or CHROMIUM=<its path>)")
    with tempfile.TemporaryDirectory(prefix="pack-pdf-") as folder:
        source, target = Path(folder) / "pack.html", Path(folder) / "pack.pdf"
        source.write_text(html, encoding="utf-8")
        done = subprocess.run(  # noqa: S603 - a binary found by shutil.which, arguments of our own
            [binary, *CHROMIUM_ARGS, f"--user-data-dir={folder}/profile", f"--print-to-pdf={target}", source.as_uri()],
            capture_output=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        if not target.exists() or target.stat().st_size == 0:
            raise PdfUnavailable(f"Chromium printed no PDF (exit {done.returncode})")
        return target.read_bytes()
