"""Repository contracts: CI runs the README's test command; the README has the main job."""


def test_ci_runs_the_readme_test_command(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    ci = (root / ".ci" / "run").read_text(encoding="utf-8")
    command = 'pip install torch==2.13.0 && pip install -e ".[train,dev]" && python -m pytest'
    assert command in readme and command in ci.splitlines()


def test_readme_main_job_trains_evaluates_and_predicts(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    for step in ("python -m training train configs/tiny.yaml",
                 "rasd predict --model runs/tiny/model seeds/"):
        assert step in readme
