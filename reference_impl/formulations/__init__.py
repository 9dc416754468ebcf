"""One module per formulation family; each formulation registers under its catalogue id.

Modules here are imported by :func:`reference_impl.registry.formulations`; a new family is a
new module with classes decorated by :func:`reference_impl.registry.register`.
"""
