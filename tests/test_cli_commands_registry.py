"""The ``miobench`` commands are a registry: every module of ``reference_impl.commands`` (not
the ``_``-prefixed helpers) is one command, and the parser offers exactly those, in ``ORDER``."""
import argparse
import pkgutil

import reference_impl.commands as commands
from reference_impl.cli import build_parser

# today's order of `miobench --help`; a new command module adds its NAME here
EXPECTED = ["list", "solvers", "solve", "rashomon", "export", "import-solution", "instances", "run", "suites", "report",
            "figures", "bench"]


def subparsers() -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_command_module_is_discovered_and_declares_the_contract():
    files = sorted(info.name for info in pkgutil.iter_modules(commands.__path__) if not info.name.startswith("_"))
    found = commands.modules()
    assert sorted(module.__name__.rpartition(".")[2] for module in found) == files
    for module in found:
        assert isinstance(module.NAME, str) and module.NAME, module.__name__
        assert isinstance(module.ORDER, int) and not isinstance(module.ORDER, bool), module.__name__
        assert callable(module.add) and callable(module.run), module.__name__
    assert len({module.NAME for module in found}) == len(found)
    assert len({module.ORDER for module in found}) == len(found)  # a stable order that names do not decide


def test_discovery_is_in_order_and_skips_helper_modules():
    found = commands.modules()
    assert [module.ORDER for module in found] == sorted(module.ORDER for module in found)
    assert all(not module.__name__.rpartition(".")[2].startswith("_") for module in found)
    assert commands.modules() is found  # discovered once


def test_parser_subcommands_are_the_discovered_names_in_order():
    names = [module.NAME for module in commands.modules()]
    assert names == EXPECTED
    assert list(subparsers()) == names


def test_each_subcommand_dispatches_to_its_module_run():
    parsers = subparsers()
    for module in commands.modules():
        required = {"solve": ["x", "--instance", "y"], "instances": ["list"], "figures": ["list"], "bench": ["check"],
                    "rashomon": ["x", "--k", "2", "--top", "1"],
                    "export": ["x", "--instance", "y", "--out", "z"],
                    "import-solution": ["x", "--instance", "y", "--solution", "z"]}
        args = parsers[module.NAME].parse_args(required.get(module.NAME, []))
        assert args.func is module.run, module.NAME
