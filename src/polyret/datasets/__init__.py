"""Named collections: the embedded demo collection and any BEIR folder on disk."""

from polyret.datasets.catalogue import DatasetInfo, list_datasets, load

__all__ = ["DatasetInfo", "list_datasets", "load"]
