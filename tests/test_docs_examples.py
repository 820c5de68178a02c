"""Every example script of the documentation runs to completion (exit code 0)."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "docs" / "examples").glob("*.py"))


def test_examples_exist() -> None:
    assert EXAMPLES, "no example scripts found in docs/examples/"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path: Path) -> None:
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, (
        f"{path.name} exited with {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )


def test_readme_first_program_runs(tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    start = readme.index("```python\n", readme.index("## A first program")) + len("```python\n")
    program = tmp_path / "first_program.py"
    program.write_text(readme[start : readme.index("```", start)])
    result = subprocess.run(
        [sys.executable, str(program)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Product(id='p1'" in result.stdout
