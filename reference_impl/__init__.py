"""miobench reference implementations: registry, solvers, instances, harness, reports.

>>> from reference_impl import solve
>>> record = solve("sparse_regression.perspective", "synreg-n30-p8-k3", solver="scip", k=3, lambda2=0.1)
"""
__version__ = "0.1.0"


def solve(*args, **kwargs):
    """Solve a registered formulation on an instance; see :func:`reference_impl.api.solve`."""
    from .api import solve as _solve

    return _solve(*args, **kwargs)


__all__ = ["solve", "__version__"]
