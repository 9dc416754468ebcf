"""The DVC pipeline: generated dependencies that are complete, and committed outputs current with
their code and parameters."""
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reference_impl import pipeline

ROOT = Path(__file__).resolve().parents[1]


def test_dvc_yaml_is_generated_from_params_and_imports():
    assert (ROOT / "dvc.yaml").read_text() == pipeline.render(), \
        "dvc.yaml is not current: run `python -m reference_impl.pipeline`"


def test_function_level_and_relative_imports_are_followed():
    worker = pipeline.PACKAGE / "harness" / "worker.py"
    code = pipeline.closure([worker])
    assert pipeline.PACKAGE / "api.py" in code  # imported inside a function
    assert pipeline.PACKAGE / "solvers" / "pyomo_solve.py" in code  # through api -> solvers/__init__
    # the instance generators fill a registry that only the `instances` stage scans
    generators = set((pipeline.PACKAGE / "instances" / "generators").glob("*.py"))
    assert pipeline.PACKAGE / "instances" / "generators" / "kglm.py" not in code
    assert generators <= pipeline.closure([pipeline.PACKAGE / "instances" / "library.py", *generators])


def test_a_stage_depends_on_its_own_instances_and_suite_only():
    """A new suite file, catalogue family or library instance leaves every other stage current:
    a run depends on the library files and catalogue family of its own instances and on its own
    suite file, never on a folder that holds the others'."""
    from reference_impl.harness.suites import load_suite
    from reference_impl.instances import catalogue

    for suite in ("default", "kglm"):
        deps = pipeline.suite_deps(suite)
        assert not {"instances/data", "reference_impl/harness", "reference_impl/instances",
                    "reference_impl/instances/catalogue", "reference_impl/harness/suites"} & set(deps)
        instances = {i for g in load_suite(suite)["groups"] for i in g["instances"]}
        assert {d for d in deps if d.startswith("instances/data/")} == {f"instances/data/{i}.npz" for i in instances}
        families = {catalogue()[i]["family_file"] for i in instances}
        assert {d for d in deps if "/catalogue/" in d} == {f"reference_impl/instances/catalogue/{f}.yaml"
                                                           for f in families}
        assert [d for d in deps if "harness/suites/" in d] == [f"reference_impl/harness/suites/{suite}.yaml"]
    # a figure depends on the library files of the instances its module names
    assert "instances/data/communities-crime.npz" in pipeline.figure_deps("tutorial.fig2")
    assert not [d for d in pipeline.figure_deps("gb.batch_size") if d.startswith("instances/data")]
    # the instances stage itself depends on every generator, loader and catalogue file
    assert "reference_impl/instances" in pipeline.instance_deps()


def _covered(path: str, deps: list[str]) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in deps)


def _modules_loaded_by(script: str) -> list[str]:
    probe = textwrap.dedent(script) + textwrap.dedent("""
        import json, sys
        from pathlib import Path
        root = Path(reference_impl.__file__).resolve().parent.parent
        files = [Path(m.__file__).resolve().relative_to(root).as_posix() for name, m in list(sys.modules.items())
                 if name.startswith("reference_impl") and getattr(m, "__file__", None)]
        print(json.dumps(files))
    """)
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_run_loads_no_module_outside_its_stage_dependencies():
    """What a worker really imports to run the default suite's formulations is declared (modules
    filled into the registry by its scan are lookups: only the suite's formulations count)."""
    from reference_impl.harness.suites import load_suite

    suite = load_suite("default")
    ids = sorted({f for g in suite["groups"] for f in g["formulations"]})
    loaded = _modules_loaded_by(f"""
        import reference_impl
        from reference_impl.harness.suites import RunSpec
        from reference_impl.harness.worker import execute
        for formulation in {ids!r}:
            execute(RunSpec(formulation, "scip", "synreg-n30-p8-k3", {{"k": 2}}, time_limit=5, root_relaxation=True))
    """)
    deps = pipeline.suite_deps("default")
    scanned = ("reference_impl/formulations/", "reference_impl/instances/generators/",
               "reference_impl/instances/loaders/", "reference_impl/solvers/adapters/")
    registry_scan = [m for m in loaded if m.startswith(scanned) and not _covered(m, deps)]
    missing = [m for m in loaded if not _covered(m, deps) and m not in registry_scan]
    assert not missing, f"modules a run executes but the stage does not depend on: {missing}"
    used = {f"reference_impl/formulations/{i.split('.')[0]}.py" for i in ids}
    assert all(_covered(m, deps) for m in used)


def test_committed_stages_are_current_with_their_code_and_parameters():
    """No stage's code or parameters changed after its outputs were committed (`dvc status`
    would list it), except the stages KNOWN_STALE names with their reason; and each of those is
    really stale (a rerun stage must leave the list)."""
    from reference_impl import pipeline_status

    dvc = shutil.which("dvc") or str(Path(sys.executable).with_name("dvc"))
    if not (ROOT / ".git").exists() or not Path(dvc).exists():
        pytest.skip("needs a git checkout with dvc installed")
    stale = pipeline_status.stale_stages(ROOT)
    unexpected = {s: w for s, w in stale.items() if s not in pipeline_status.KNOWN_STALE}
    assert not unexpected, f"stages older than their code or parameters: {unexpected}"
    current = [s for s in pipeline_status.KNOWN_STALE if s not in stale]
    assert not current, f"listed as stale but current: remove {current} from KNOWN_STALE"


def test_the_main_job_needs_nothing_beyond_the_plain_install():
    """`pip install -e .` then `dvc repro report`: every solver package of the default suite is a
    main dependency, so a newcomer's report has no `not_installed` rows."""
    import tomllib

    from reference_impl.harness.suites import load_suite
    from reference_impl.solvers import PYOMO_SOLVERS

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installed = {d.split(";")[0].split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip().lower()
                 for d in project["dependencies"]}
    solvers = {s if isinstance(s, str) else s["solver"] for g in load_suite("default")["groups"] for s in g["solvers"]}
    needed = {PYOMO_SOLVERS[s].package.lower() for s in solvers if s in PYOMO_SOLVERS}
    assert needed <= installed, f"the default suite needs {sorted(needed - installed)} beyond the main install"


def test_the_pipeline_builds_every_registered_figure_and_suite():
    """params.yaml lists every registered paper figure, and every bundled suite is a stage."""
    import yaml

    from reference_impl.harness.suites import list_suites
    from reference_impl.reports.paper import figures

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert sorted(params["figures"]) == sorted(figures()), "params.yaml's figure list differs from the registry"
    in_pipeline = {params["suite"], *params["extra_suites"]}
    not_run = set(list_suites()) - in_pipeline - {"smoke", "binarized"}  # smoke: CI's; binarized: the figures' own
    assert not not_run, f"bundled suites the pipeline does not run: {sorted(not_run)}"
