"""The command line explains itself and pipes cleanly: every option has a help line that states
its default, listings are one tab-separated line per id in a pipe, usage errors exit 2, and an
empty results store is refused before the report folder is created."""
import argparse
import io
import subprocess
import sys

import pytest

from reference_impl.cli import build_parser, main
from reference_impl.registry import formulations


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "reference_impl", *args], capture_output=True, text=True, timeout=300)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def arguments(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]


def takes_value(action: argparse.Action) -> bool:
    return action.nargs != 0  # store_true / store_const flags take none


def flat(text: str) -> str:
    return " ".join(text.split())


ALL_ARGUMENTS = [(name, action) for name, parser in subcommands().items() for action in arguments(parser)]


def test_every_subcommand_is_listed_and_described():
    assert set(subcommands()) == {"list", "solvers", "solve", "rashomon", "export", "import-solution", "instances", "run",
                                  "suites", "report", "figures", "bench"}
    for name, parser in subcommands().items():
        assert parser.description and parser.description.strip(), name


@pytest.mark.parametrize("name, action", ALL_ARGUMENTS, ids=[f"{n}:{a.dest}" for n, a in ALL_ARGUMENTS])
def test_every_argument_has_help_that_states_its_default(name, action):
    assert action.help and action.help.strip(), f"{name} {action.dest} has no help"
    optional_value = action.option_strings and takes_value(action) and not action.required
    if optional_value:  # an option whose value may be left out: say what happens then
        assert "default" in action.help, f"{name} {action.option_strings[0]}: help does not state the default"


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_subcommand_help_shows_each_default(name):
    parser = subcommands()[name]
    text = flat(parser.format_help())
    for action in arguments(parser):
        if action.option_strings and action.default not in (None, False):
            assert f"default: {action.default}" in text, f"{name} {action.option_strings[0]}"
    assert "``" not in text


def test_top_level_help_is_plain_text_with_examples():
    text = build_parser().format_help()
    assert "``" not in text and ":class:" not in text
    assert "examples:" in text
    for example in ("miobench list", "miobench run --suite default",
                    "miobench report --store results/default --out reports/default"):
        assert example in text
    for name in subcommands():
        assert f"    {name}" in text


def test_memory_limit_default_comes_from_the_suite():
    text = flat(subcommands()["run"].format_help())
    assert "default: the suite's memory_limit_gb, 8 GB unless the suite says otherwise" in text


@pytest.mark.parametrize("argv", [["nope"], [], ["solve"], ["solve", "sparse_regression.perspective"],
                                  ["instances"], ["figures", "draw"], ["run", "--time-limit", "abc"]])
def test_usage_errors_exit_2_and_point_at_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "--help" in err and "Traceback" not in err


def test_help_exits_0(capsys):
    for argv in (["--help"], *([name, "--help"] for name in subcommands())):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 0
    assert "usage: miobench" in capsys.readouterr().out


# -- listings in a pipe ----------------------------------------------------------------------
def piped_rows(*args: str) -> tuple[list[str], list[list[str]]]:
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    return header.split("\t"), [line.split("\t") for line in lines]


def assert_ids_whole(header, rows, ids, columns):
    assert header == list(columns)
    assert all(len(row) == len(columns) for row in rows)  # one line per row, no wrapped continuation
    assert [row[0] for row in rows] == list(ids)


def test_list_in_a_pipe_is_one_tab_separated_line_per_formulation():
    header, rows = piped_rows("list")
    assert_ids_whole(header, rows, formulations(), ("id", "equation", "class", "solvers", "summary"))
    found = [row[0] for row in rows if "fairness" in "\t".join(row)]  # what `miobench list | grep fairness` keeps
    assert "fairness.sparse_regression" in found and "fairness.sparse_svm" in found
    by_id = {row[0]: row for row in rows}
    assert by_id["sparse_regression.perspective"][1:3] == ["(7)", "MISOCP"]
    assert "scip" in by_id["sparse_regression.perspective"][3].split(", ")


def test_instances_list_in_a_pipe():
    from reference_impl.instances.library import catalogue

    header, rows = piped_rows("instances", "list")
    assert_ids_whole(header, rows, catalogue(), ("id", "description"))
    assert any(row[0] == "ubuntu-bin-train10-s0-corrupt" for row in rows)  # longer than the old 28-column pad


def test_suites_in_a_pipe():
    from reference_impl.harness.suites import list_suites

    header, rows = piped_rows("suites")
    assert_ids_whole(header, rows, list_suites(), ("name", "description"))


def test_figures_list_in_a_pipe():
    from reference_impl.reports.paper import figures

    header, rows = piped_rows("figures", "list")
    assert_ids_whole(header, rows, figures(), ("id", "paper", "title"))


def test_a_reader_that_stops_early_is_no_error():
    result = subprocess.run(f"{sys.executable} -m reference_impl instances list | head -1", shell=True,
                            capture_output=True, text=True, timeout=300)
    assert result.stdout.startswith("id\t") and "Traceback" not in result.stderr and "Broken pipe" not in result.stderr


def test_terminal_table_never_folds_an_id():
    from rich.console import Console

    from reference_impl.commands._common import rich_table

    rows = [[row["id"], row["equation"], row["class"], "scip, gurobi", row["summary"]]
            for row in (f.describe() for f in formulations().values())]
    out = io.StringIO()
    table = rich_table("t", ("id", "equation", "class", "solvers", "summary"), rows)
    Console(file=out, width=80).print(table)  # narrower than the natural width: other columns give way
    first_cells = [line.split("│")[1].strip() for line in out.getvalue().splitlines() if line.startswith("│")]
    assert set(formulations()) <= set(first_cells)


# -- report on an empty store ----------------------------------------------------------------
def test_report_on_an_empty_store_is_one_line_and_creates_nothing(tmp_path, capsys):
    (tmp_path / "store").mkdir()
    out = tmp_path / "reports" / "empty"
    assert main(["report", "--store", str(tmp_path / "store"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "has no rows" in err and "miobench run" in err
    assert not out.exists() and not (tmp_path / "reports").exists()


def test_report_on_an_empty_asv_folder_creates_nothing(tmp_path, capsys):
    (tmp_path / "asv").mkdir()
    out = tmp_path / "out"
    assert main(["report", "--asv", str(tmp_path / "asv"), "--out", str(out)]) == 2
    assert "no asv results" in capsys.readouterr().err and not out.exists()


def test_report_on_a_store_of_unreadable_files_says_why_it_is_empty(tmp_path, capsys):
    runs = tmp_path / "store" / "runs"
    runs.mkdir(parents=True)
    (runs / "bad.parquet").write_bytes(b"junk!")
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match="bad.parquet"):
        assert main(["report", "--store", str(tmp_path / "store"), "--out", str(out)]) == 2
    assert "has no rows" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize("argv, message", [
    (["instances", "list", "--ids", "binsyn-n8-f2-c2"], "takes no --ids"),
    (["figures", "list", "tutorial.fig2"], "takes no ids"),
    (["figures", "build", "tutorial.fig2", "gb.batch_size", "--out", "somewhere"], "--out takes a single figure id"),
])
def test_arguments_a_command_would_ignore_are_refused(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "somewhere").exists()
