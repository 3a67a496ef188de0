"""Label-free adaptation of an encoder to a corpus (:func:`adapt`), with a dev check.

The recipe is :class:`AdaptConfig`; the pipeline's ``adapt`` stage and ``polyret adapt``
run :func:`adapt`.
"""

from polyret.adapt.adapt import ADAPTATION_FILE, Adaptation, adapt
from polyret.adapt.check import CheckResult, dev_check
from polyret.adapt.config import AdaptConfig, AdaptMining, AdaptTraining, DevCheck

__all__ = [
    "ADAPTATION_FILE",
    "AdaptConfig",
    "AdaptMining",
    "AdaptTraining",
    "Adaptation",
    "CheckResult",
    "DevCheck",
    "adapt",
    "dev_check",
]
