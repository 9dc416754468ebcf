"""An instance reads back from the library exactly as it was generated: no formulation sees
different shapes in a suite run (library) than in a test (generated in memory)."""
import io

import numpy as np
import pytest

from reference_impl.errors import DataMissingError
from reference_impl.instances import catalogue
from reference_impl.instances.library import generate
from reference_impl.instances.storage import npz_bytes


@pytest.mark.parametrize("instance_id", sorted(catalogue()))
def test_generated_arrays_survive_the_library_round_trip(instance_id):
    try:
        instance = generate(instance_id)
    except DataMissingError as exc:
        pytest.skip(f"real data missing here: {exc}")
    with np.load(io.BytesIO(npz_bytes(instance.arrays)), allow_pickle=False) as stored:
        for name, array in instance.arrays.items():
            assert stored[name].shape == np.asarray(array).shape, (
                f"{instance_id}: {name} is {np.asarray(array).shape} in memory but {stored[name].shape} in the "
                "library (store one-element arrays, not 0-d ones)")
            assert stored[name].dtype == np.asarray(array).dtype
