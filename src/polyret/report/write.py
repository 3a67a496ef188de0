"""``write_report(run_dir)``: the HTML page and its Markdown twin for a pipeline run."""

from __future__ import annotations

import logging
from pathlib import Path

from polyret.io.atomic import atomic_write
from polyret.report.html import render_html
from polyret.report.manifest import collect
from polyret.report.markdown import render_markdown

log = logging.getLogger(__name__)

HTML_FILE = "report.html"
MARKDOWN_FILE = "report.md"


def write_report(run_dir: str | Path, out: str | Path | None = None) -> tuple[Path, Path]:
    """Write ``report.html`` (one self-contained page) and ``report.md`` for a run directory.

    Reads ``run_dir/manifest.json`` and the outputs of its evaluate, generate/filter/mine and
    training stages (see :mod:`polyret.report.manifest`). The page holds per-language metric
    tables (best per row in bold, ▲/▼ where a system is significantly better/worse than the
    baseline, with its p-value), bar charts per language and system, recall@k curves, the
    training curves (loss and dev metrics vs step), the curation funnel per language and the
    stage timings. It has no scripts and fetches nothing: CSS and SVG charts are inline.

    Args:
        run_dir: A pipeline run directory (with ``manifest.json``).
        out: Folder to write both files to (default: ``run_dir``).

    Returns:
        The paths of the HTML and the Markdown file.

    Raises:
        InvalidInputError: when ``manifest.json`` is missing or malformed.
    """
    contents = collect(run_dir)
    folder = Path(out) if out is not None else Path(run_dir)
    html_path, md_path = folder / HTML_FILE, folder / MARKDOWN_FILE
    with atomic_write(html_path) as handle:
        handle.write(render_html(contents))
    with atomic_write(md_path) as handle:
        handle.write(render_markdown(contents))
    for path in (html_path, md_path):
        path.chmod(0o644)  # a page to share and serve, not a private temporary file
    log.info("report: wrote %s and %s", html_path, md_path)
    return html_path, md_path
