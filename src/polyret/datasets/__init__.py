"""Named collections: the embedded demo collection and any BEIR folder on disk."""

from polyret.datasets.catalogue import DatasetInfo, list_datasets, load
from polyret.datasets.sources import corpus_from, queries_from

__all__ = ["DatasetInfo", "corpus_from", "list_datasets", "load", "queries_from"]
