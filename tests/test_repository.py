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


def test_readme_python_quickstart_runs(root, random_model_dir, monkeypatch, capsys):
    """The README's Python example, run as written (on a random model instead of runs/tiny/model)."""
    import re

    readme = (root / "README.md").read_text(encoding="utf-8")
    code = re.search(r"## Quickstart\n\n```python\n(.*?)```", readme, re.S).group(1)
    assert '"runs/tiny/model"' in code
    monkeypatch.chdir(root)
    exec(compile(code.replace('"runs/tiny/model"', repr(str(random_model_dir))), "README.md", "exec"), {})
    assert "'windows':" in capsys.readouterr().out
