"""The README's two set-up commands stay true: CI runs the test command verbatim, and the main job works."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from convert.cli import app

ROOT = Path(__file__).resolve().parent.parent


def setup_commands() -> list[str]:
    """Return the commands of the README's set-up section, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)]


def test_there_are_two_setup_commands() -> None:
    commands = setup_commands()
    assert len(commands) == 2
    assert commands[0].startswith("pip install ") and "nianbao convert samples/" in commands[0]
    assert commands[1].startswith("pip install ") and "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in ci.splitlines()]
    test_command = setup_commands()[1]
    assert test_command in lines, test_command


def test_the_main_job_runs_on_the_samples(tmp_path: Path) -> None:
    main_job = setup_commands()[0].split("&&", 1)[1].split()
    assert main_job[:3] == ["nianbao", "convert", "samples/"]
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [*main_job[1:3][:1], str(ROOT / "samples"), "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{p.stem}.xlsx" for p in (ROOT / "samples").iterdir())


def test_samples_are_the_five_seeds() -> None:
    names = sorted(p.name for p in (ROOT / "samples").iterdir())
    assert names == ["fenggang-2020.txt", "houhe-2021.txt", "liancai-2019.txt", "luoqi-2019.txt", "zhuzhen-2019.txt"]


def test_the_python_api_example_runs(tmp_path: Path, monkeypatch) -> None:
    import shutil

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = readme.split("## Python API", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "zhuzhen-2019.xlsx").exists()
