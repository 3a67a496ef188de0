"""Reports: the evaluation summary a pipeline writes, and the HTML/Markdown page of a run."""

from polyret.report.manifest import Manifest, Stage, read_manifest
from polyret.report.summary import RECALL_DEPTHS, summarize
from polyret.report.write import write_report

__all__ = ["RECALL_DEPTHS", "Manifest", "Stage", "read_manifest", "summarize", "write_report"]
