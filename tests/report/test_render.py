"""The HTML report renders in a real browser: headless Chromium takes a screenshot.

Skipped when no Chromium/Chrome binary is found: set ``$POLYRET_CHROMIUM`` to one, or put
``chromium``, ``chromium-browser`` or ``google-chrome`` on PATH (Debian: ``apt-get install
chromium``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from polyret.report import write_report

BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BLUE = (0x00, 0x72, 0xB2)  # first series colour: BM25's bars and lines
ORANGE = (0xE6, 0x9F, 0x00)  # second series colour


def chromium() -> str:
    """The browser binary, or skip the test saying how to provide one."""
    configured = os.environ.get("POLYRET_CHROMIUM")
    if configured:
        found = shutil.which(configured)
        if found is None:
            pytest.fail(f"$POLYRET_CHROMIUM={configured!r} is not an executable")
        return found
    for name in BINARIES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "no headless browser: set $POLYRET_CHROMIUM or put one of "
        f"{', '.join(BINARIES)} on PATH (Debian: apt-get install chromium)"
    )


def screenshot(html: Path, png: Path, width: int, height: int, profile: Path) -> None:
    """Render ``html`` at ``width`` × ``height`` CSS pixels into ``png`` (headless)."""
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-extensions",
        "--no-first-run",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        f"--screenshot={png}",
        html.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert png.is_file(), f"no screenshot (exit {done.returncode}): {done.stderr[-2000:]}"


def test_report_renders_in_headless_chromium(run_dir, tmp_path):
    image_module = pytest.importorskip("PIL.Image", reason="Pillow reads the screenshot")
    html, _ = write_report(run_dir, tmp_path)
    png = tmp_path / "report.png"
    screenshot(html, png, 1280, 2400, tmp_path / "profile")

    image = image_module.open(png).convert("RGB")
    assert image.size == (1280, 2400)
    assert png.stat().st_size > 50_000  # a blank page compresses to a few kB
    pixels = np.asarray(image).reshape(-1, 3)
    colours = np.unique(pixels, axis=0)
    assert len(colours) > 50, "the page looks blank or flat"
    light = (pixels.min(axis=1) > 235).mean()
    dark = (pixels.max(axis=1) < 100).mean()
    assert 0.5 < light < 0.98  # mostly white background, not all of it
    assert dark > 0.002  # there is text
    present = {tuple(c) for c in colours.tolist()}
    assert BLUE in present and ORANGE in present  # the bar charts drew their series


def test_report_fits_a_phone_screen(run_dir, tmp_path):
    image_module = pytest.importorskip("PIL.Image", reason="Pillow reads the screenshot")
    html, _ = write_report(run_dir, tmp_path)
    png = tmp_path / "phone.png"
    screenshot(html, png, 390, 1600, tmp_path / "profile")
    image = image_module.open(png).convert("RGB")
    assert image.size == (390, 1600)
    # content on both halves of the narrow screen: nothing was laid out for a wide one only
    pixels = np.asarray(image)
    for half in (pixels[:, :195], pixels[:, 195:]):
        assert len(np.unique(half.reshape(-1, 3), axis=0)) > 20


# Appended to a copy of the page (the report itself has no scripts): the layout facts that
# a screenshot cannot state, written into <body> attributes for --dump-dom.
PROBE = (
    "<script>const b=document.body.dataset;"
    "b.scrolling=[...document.querySelectorAll('.scroll')]"
    ".filter(d=>d.scrollWidth>d.clientWidth+1).length;"
    "b.tables=document.querySelectorAll('.scroll').length;"
    "b.width=document.documentElement.clientWidth;</script></body>"
)


def layout(html: Path, width: int, profile: Path) -> dict[str, int]:
    """The probe's numbers for ``html`` laid out ``width`` CSS pixels wide."""
    probed = html.with_name("probed.html")
    probed.write_text(html.read_text(encoding="utf-8").replace("</body>", PROBE), "utf-8")
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--window-size={width},1600",
        "--dump-dom",
        probed.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    found = re.search(r"<body ([^>]*)>", done.stdout)
    assert found, f"no DOM (exit {done.returncode}): {done.stderr[-2000:]}"
    return {k: int(v) for k, v in re.findall(r'data-(\w+)="(\d+)"', found.group(1))}


@pytest.mark.parametrize("width", [1280, 1440])
def test_eight_systems_tables_fit_a_desktop_screen(wide_run_dir, tmp_path, width):
    html, _ = write_report(wide_run_dir, tmp_path)
    facts = layout(html, width, tmp_path / "profile")
    assert facts["width"] > width - 40  # laid out at that width (less a scrollbar)
    assert facts["tables"] == 1 + 3 + 1 + 1 + 1  # overall, per metric, recall, tests, timings
    assert facts["scrolling"] == 0, "a table is cut off behind a horizontal scrollbar"
