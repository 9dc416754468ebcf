"""The ``miobench`` sub-commands: one module per command, found here by :func:`modules`.

A command module declares ``NAME`` (the command), ``ORDER`` (its place in ``miobench --help``),
``add(sub)`` (adds its sub-parser and sets ``func=run``) and ``run(args) -> int`` (the exit
status). Adding a command is one new module; :mod:`reference_impl.cli` builds its parser from
whatever is here. Modules whose names start with ``_`` (shared helpers) are not commands.
A command module imports only what its command needs, heavy modules inside its functions, so
that ``miobench --help`` stays fast and the DVC pipeline can follow what each command runs.
"""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from types import ModuleType

#: what every command module defines
REQUIRED = ("NAME", "ORDER", "add", "run")


@lru_cache(maxsize=None)
def modules() -> tuple[ModuleType, ...]:
    """Every command module, in ``ORDER`` (then ``NAME``): the order of ``miobench --help``."""
    # a submodule named like a builtin (list) becomes an attribute of this package: no builtins here
    found = tuple(importlib.import_module(f"{__name__}.{info.name}")
                  for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))
    for module in found:
        missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
        if missing:
            raise TypeError(f"command module {module.__name__} lacks {', '.join(missing)}")
    names = [module.NAME for module in found]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise TypeError(f"more than one command module is named {', '.join(duplicated)}")
    return tuple(sorted(found, key=lambda module: (module.ORDER, module.NAME)))
