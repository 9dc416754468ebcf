"""Which files of this package a module can execute, and a fingerprint of that code.

A module's code is what it imports — at module level and inside functions, relative or
absolute — followed transitively (:func:`closure`). A package whose ``__init__`` imports all
its modules (``pkgutil.iter_modules``) brings them all, unless it is a registry that a caller
looks entries up in (:data:`REGISTRY_LOOKUPS`): then the caller depends on the entries it
uses, not on every module registered there. The DVC pipeline (:mod:`reference_impl.pipeline`)
and the experiment caches (:func:`code_fingerprint`) both read this; it is kept apart from the
pipeline so that a change to how stages are written leaves the caches valid.
"""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
NAME = PACKAGE.name


def _module_file(dotted: str) -> Path | None:
    """The file of module ``reference_impl.x.y`` (a package's ``__init__.py``), if it exists."""
    parts = dotted.split(".")
    if parts[0] != NAME:
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _dotted(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(path: Path) -> str:
    dotted = _dotted(path)
    return dotted if path.name == "__init__.py" else dotted.rpartition(".")[0]


#: packages that import all their modules to fill a registry: a stage depends on the entries it
#: looks up (its formulations, its figure), not on every module registered there. The instance
#: generators and loaders run in the ``instances`` stage; every other stage reads what they built
#: (the library's files it names), so a new instance family leaves those stages current.
REGISTRY_LOOKUPS = {PACKAGE / "reports" / "paper" / "__init__.py",
                    PACKAGE / "solvers" / "adapters" / "__init__.py",
                    PACKAGE / "commands" / "__init__.py",
                    PACKAGE / "instances" / "generators" / "__init__.py",
                    PACKAGE / "instances" / "loaders" / "__init__.py"}


@lru_cache(maxsize=None)
def _imports(path: Path) -> frozenset[Path]:
    """Files of this package that ``path`` imports, anywhere in its body."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _package_of(path)
    found: set[Path] = set()

    def add(dotted: str) -> None:
        parts = dotted.split(".")
        for end in range(2, len(parts) + 1):  # a package's __init__ runs before its submodules
            file = _module_file(".".join(parts[:end]))
            if file is not None:
                found.add(file)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            add(module)
            for alias in node.names:  # ``from . import x``: x may be a submodule
                add(f"{module}.{alias.name}")
    if path.name == "__init__.py" and "pkgutil.iter_modules" in path.read_text() and path not in REGISTRY_LOOKUPS:
        found.update(p for p in path.parent.glob("*.py"))  # a package that imports all its modules
    found.discard(path)
    return frozenset(found)


def closure(entries: list[Path]) -> set[Path]:
    """Every package file reachable from ``entries`` by imports."""
    seen: set[Path] = set()
    todo = list(entries)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo.extend(_imports(path) - seen)
    return seen


def code_fingerprint(entries: list[Path]) -> str:
    """sha256 (12 hex digits) of every package file reachable from ``entries``: changes when
    any code they can execute changes (read once per process: the code a process runs)."""
    return _fingerprint(tuple(sorted(Path(e).resolve() for e in entries)))


@lru_cache(maxsize=None)
def _fingerprint(entries: tuple[Path, ...]) -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(closure(list(entries))):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]
