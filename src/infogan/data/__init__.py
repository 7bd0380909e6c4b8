"""Datasets: every loader returns an `ImageData` of uint8 images in [N, C, H, W].

`load_dataset("NAME")` or `load_dataset("NAME:key=value,...")`; `DATASETS` lists the names and
`describe()` what each is, where it comes from, its licence and whether it is on this machine.
`open_dataset` leaves image files too large for memory on disk, as `ImageFiles`.
"""

from infogan.data.folder import ImageFiles
from infogan.data.image_data import Factors, ImageData
from infogan.data.registry import DATASETS, REGISTRY, dataset_name, describe, load_dataset, open_dataset

__all__ = ["DATASETS", "REGISTRY", "Factors", "ImageData", "ImageFiles", "dataset_name", "describe", "load_dataset",
           "open_dataset"]
