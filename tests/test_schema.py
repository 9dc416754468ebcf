"""The declarative schema (reference_impl/schema.py): every suite file validates against it, its
JSON Schema is what editors need, its errors stay one sentence naming the place, and it
normalises suites exactly as before (run ids are resume keys: they must never change)."""
import json
import math

import pytest
import yaml

from reference_impl.cli import main
from reference_impl.errors import InputError, UnknownIdError
from reference_impl.harness.suites import SUITES_DIR, SuiteLoader, expand, load_suite, validate_suite
from reference_impl.schema import GROUP_KEYS, SUITE_KEYS, Suite, check_settings, figure_params_model

SUITE_FILES = sorted(SUITES_DIR.glob("*.yaml"))
GROUP = {"formulations": ["sparse_regression.perspective"], "solvers": ["scip"], "instances": ["synreg-n30-p8-k3"]}


@pytest.mark.parametrize("path", SUITE_FILES, ids=[p.stem for p in SUITE_FILES])
def test_every_suite_file_validates_against_the_model(path):
    raw = yaml.load(path.read_text(), Loader=SuiteLoader)
    suite = Suite.model_validate(raw)
    assert suite.groups and all(group.formulations and group.solvers and group.instances for group in suite.groups)
    loaded = load_suite(path.stem)
    assert validate_suite(loaded) == loaded  # normalising a normalised suite changes nothing
    assert len(expand(loaded)) >= len(suite.groups)


def test_the_json_schema_of_a_suite_file(capsys):
    assert main(["suites", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert set(schema["properties"]) == set(SUITE_KEYS)
    assert schema["required"] == ["groups"] and schema["additionalProperties"] is False
    group = schema["$defs"]["Group"]
    assert set(group["properties"]) == set(GROUP_KEYS) and set(group["required"]) == {"formulations", "solvers", "instances"}
    assert schema["properties"]["time_limit"] == {**schema["properties"]["time_limit"], "default": 60.0,
                                                  "exclusiveMinimum": 0, "type": "number"}
    assert "default" not in group["properties"]["time_limit"]  # unset in a group: the suite's


# expand() of this suite, computed before the schema existed (reference_impl/harness/suites.py's hand-written
# validators): scalars as lists, a solver with options, a grid with a scalar, a list of params, group overrides
PINNED = {"name": "pin", "time_limit": 7, "repeats": 2, "groups": [
    {"formulations": "sparse_regression.perspective", "solvers": ["scip", {"solver": "highs", "options": {"presolve": "off"}}],
     "instances": "synreg-n30-p8-k3", "params": {"k": [2, 3], "lambda2": 0.1}},
    {"formulations": ["sparse_regression.l0l2_bigm"], "solvers": {"solver": "gurobi"}, "instances": ["synreg-n60-p12-k4"],
     "params": [{"k": 4}], "seed": 5, "time_limit": 3.0, "root_relaxation": False, "threads": 2.0, "repeats": 1}]}
PINNED_IDS = ["e89d3f6c49b2e0ff", "a414594824434770", "3dcc189649243842", "5b151e0915f1be94", "76576d610a48ef8f",
              "95b8e05b16d0c661", "d935145be0e97a87", "74edf506017500b4", "d47652300ad36337"]
PINNED_IDS_TIME_LIMIT_2 = ["06ede17df2680cd8", "490bfc970fe22240", "cf4f02f2b16f0871", "8422ed5e7f076e2d", "ed53e9085146f0e3",
                           "f4f549d6b229bf8f", "5359dbba44af552c", "555f05b437c2791d", "16596e5ee8fdc098"]


def test_normalised_suites_and_run_ids_are_unchanged():
    suite = validate_suite(PINNED)
    assert suite["groups"][1] == {"time_limit": 3.0, "threads": 2, "seed": 5, "root_relaxation": False, "repeats": 1,
                                  "formulations": ["sparse_regression.l0l2_bigm"],
                                  "solvers": [{"solver": "gurobi", "options": {}}], "instances": ["synreg-n60-p12-k4"],
                                  "params": [{"k": 4}]}
    assert suite["groups"][0]["solvers"] == ["scip", {"solver": "highs", "options": {"presolve": "off"}}]
    assert (suite["time_limit"], suite["grace"], suite["memory_limit_gb"], suite["threads"]) == (7.0, 30.0, 8.0, 1)
    assert [spec.run_id for spec in expand(suite)] == PINNED_IDS
    assert [spec.run_id for spec in expand(suite, time_limit=2)] == PINNED_IDS_TIME_LIMIT_2


@pytest.mark.parametrize("suite, error, message", [
    ({"groups": [GROUP, {**GROUP, "time_limit": 0}]}, InputError, "suite, group 2: time_limit must be > 0 (seconds); got 0.0"),
    ({"time_limit": "5", "groups": [GROUP]}, InputError, "suite: time_limit must be a number (seconds); got '5'"),
    ({"threads": True, "groups": [GROUP]}, InputError, "suite: threads must be an integer; got True"),
    ({"rel_gap": math.nan, "groups": [GROUP]}, InputError, "suite: rel_gap must be a finite number; got nan"),
    ({"seed": 2**31, "groups": [GROUP]}, InputError, "suite: seed must be <= 2147483647; got 2147483648"),
    ({"memory_limit_gb": 0, "groups": [GROUP]}, InputError, "memory_limit_gb must be > 0 (gigabytes; null for no limit)"),
    ({"groups": [GROUP, {**GROUP, "root_relaxation": 1}]}, InputError, "suite, group 2: root_relaxation must be true or false"),
    ({"groups": [GROUP, {**GROUP, "solvers": [{"solver": "scip", "options": 3}]}]}, InputError,
     "suite, group 2: solver options must be a mapping; got 3"),
    ({"groups": [GROUP, {**GROUP, "params": {"k": [1], "l": []}}]}, InputError, "suite, group 2: a group's params must be"),
    ({"groups": [{**GROUP, "solvers": ["scp"]}]}, UnknownIdError, "suite, group 1: unknown solver 'scp'; known: highs, scip"),
    ({"groups": [GROUP], "time_limt": 1}, InputError, "suite: unknown key(s) 'time_limt'; a suite takes: name, description"),
    ({"groups": [{**GROUP, "time_limit": -1, "parms": {}}]}, InputError, "suite, group 1: unknown key(s) 'parms'"),
    ([1, 2], InputError, "suite must be a mapping with a 'groups' list"),
])
def test_suite_errors_are_one_sentence_naming_the_place(suite, error, message):
    with pytest.raises(error) as caught:
        validate_suite(suite)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert type(caught.value) is error  # never a pydantic ValidationError


def test_settings_alone_take_the_caller_s_names():
    assert check_settings({"grace": 0, "time_limit": 5}) == {"grace": 0.0, "time_limit": 5.0}
    assert check_settings({"seed": 3.0, "memory_limit_gb": None}) == {"seed": 3, "memory_limit_gb": None}
    with pytest.raises(InputError, match=r"^--grace must be >= 0 \(seconds\); got -1.0$"):
        check_settings({"grace": -1}, labels={"grace": "--grace"})


def test_a_figure_s_parameters_are_typed_by_its_defaults():
    model = figure_params_model("f", {"n": 10, "time_limit": 60.0, "sizes": "1,2", "label": "x", "fast": False},
                                ["n", "time_limit", "sizes", "label", "fast", "free"])
    checked = model.model_validate({"n": 4.0, "time_limit": 1, "sizes": [3, 4], "label": 5, "fast": "yes", "free": [1]})
    assert checked.model_dump(exclude_unset=True) == {"n": 4, "time_limit": 1.0, "sizes": "3,4", "label": "5", "fast": True,
                                                      "free": [1]}
    with pytest.raises(InputError, match="parameter time_limit must be a positive number of seconds; got -1.0"):
        main_check("gb.batch_size", time_limit=-1)


def main_check(figure_id, **params):
    from reference_impl.reports.paper import check_params, get_figure

    return check_params(get_figure(figure_id), params)
