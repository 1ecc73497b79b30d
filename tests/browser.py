"""A real browser for the tests of HTML pages: headless chromium renders a page to a screenshot (the tests that need
it are skipped, with the reason, where there is none; .ci/run installs Debian's chromium)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest


def chromium() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(browser: str, page: Path, shot: Path, profile: Path) -> "numpy.ndarray":
    """Render `page` headless and return the screenshot's RGB pixels (0..255)."""
    from matplotlib.image import imread

    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               "--hide-scrollbars", "--window-size=1000,1600", f"--screenshot={shot}", page.resolve().as_uri()]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, errors = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("chromium did not finish rendering within 60 s")
    assert shot.is_file(), f"chromium wrote no screenshot: {errors.decode(errors='replace')[-2000:]}"
    return (imread(shot)[..., :3] * 255).round()


def pixels_of(image, colour: str) -> int:
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return int((abs(image - [red, green, blue]).max(axis=-1) <= 4).sum())
