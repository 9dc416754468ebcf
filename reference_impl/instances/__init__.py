"""Instances: generators, real-data loaders, the catalogue, and the on-disk library.

An :class:`Instance` is a named bundle of arrays (``X``, ``y``, plus family-specific arrays)
with the sha256 of its canonical serialisation. :func:`resolve_instance` turns whatever a
user passes (catalogue id, ``.npz`` path, or a mapping of arrays) into one.
"""
from .instance import Instance
from .library import build_library, catalogue, catalogue_entry, resolve_instance

__all__ = ["Instance", "build_library", "catalogue", "catalogue_entry", "resolve_instance"]
