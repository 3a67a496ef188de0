"""Named collections: the embedded demo collection, any BEIR folder on disk, and adapters for
ir_datasets (``irds:...``) and Hugging Face datasets in BEIR layout (``hf:...``)."""

from polyret.datasets.adapters import (
    DatasetNotAvailableError,
    HFLayout,
    from_hf,
    from_ir_datasets,
    load_uri,
)
from polyret.datasets.catalogue import DatasetInfo, list_datasets, load
from polyret.datasets.sources import corpus_from, queries_from
from polyret.datasets.subset import DatasetConfig, prepare

__all__ = [
    "DatasetConfig",
    "DatasetInfo",
    "DatasetNotAvailableError",
    "HFLayout",
    "corpus_from",
    "from_hf",
    "from_ir_datasets",
    "list_datasets",
    "load",
    "load_uri",
    "prepare",
    "queries_from",
]
