"""Developer and CI task runner: ``python -m nox -l`` lists the sessions."""

from pathlib import Path

import nox

nox.needs_version = ">=2024.3.2"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typing", "docs"]
# Every tool must come from the session's own virtualenv, never from the host.
nox.options.error_on_external_run = True


@nox.session
def demo(session: nox.Session) -> None:
    """Run the end-to-end demo against the embedded DynamoDB."""
    session.install(".[local]")
    session.run("python", "-m", "dynamorm_async", "demo")


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite under coverage; the threshold lives in pyproject.toml."""
    session.install("-e", ".[test]")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "report")


@nox.session(name="tests-without-fast-path")
def tests_without_fast_path(session: nox.Session) -> None:
    """Run the test suite with the fast path off (botocore's parser and validator)."""
    session.install("-e", ".[test]")
    args = session.posargs or ["-q"]
    session.run("python", "-m", "pytest", *args, env={"DYNAMORM_FAST_PATH": "0"})


@nox.session(name="dynamodb-local")
def dynamodb_local(session: nox.Session) -> None:
    """Run the integration tests against AWS's DynamoDB Local (needs root, Java 17, npm).

    DynamoDB Local runs in a private network namespace with the tests (see
    ``.ci/with-dynamodb-local``); tests of moto's quirks and of what DynamoDB Local
    lacks (tagging, SSE and table-class updates) are skipped, with the reason.
    """
    session.install("-e", ".[test]")
    # The bounded load test (tests/load, 30 s) runs here: it needs DynamoDB Local.
    args = session.posargs or ["tests/integration", "tests/load", "-q"]
    _on_dynamodb_local(session, "-m", "pytest", *args)


def _on_dynamodb_local(session: nox.Session, *args: str, env: dict[str, str] | None = None) -> None:
    cache = session.cache_dir / "dynamodb-local"
    python = str(Path(session.bin) / "python")
    session.run(".ci/with-dynamodb-local", str(cache), python, *args, env=env, external=True)


@nox.session
def faults(session: nox.Session) -> None:
    """The fault campaigns at length: many cases, random seeds, on moto then on DynamoDB
    Local (``-- N`` sets the cases per campaign; 200 by default). CI runs the same
    campaigns with a few fixed cases. Totals go to ``.nox/faults-report.jsonl``.
    """
    session.install("-e", ".[test]")
    examples = session.posargs[0] if session.posargs else "200"
    report = Path(".nox/faults-report.jsonl").resolve()
    report.unlink(missing_ok=True)
    env = {"DYNAMORM_FAULT_EXAMPLES": examples, "DYNAMORM_FAULT_REPORT": str(report)}
    tests = ["-m", "pytest", "tests/integration/faults", "-q", "-p", "no:cacheprovider"]
    session.run("python", *tests, env=env)
    _on_dynamodb_local(session, *tests, env=env)
    session.log(report.read_text())


@nox.session
def lint(session: nox.Session) -> None:
    """Check style, formatting, the layer contract and docstring coverage."""
    # The package itself is installed because lint-imports must be able to import it.
    session.install(".[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")
    session.run("interrogate", "dynamorm_async")


@nox.session
def typing(session: nox.Session) -> None:
    """Type-check the package and the typing tests with mypy (strict, see pyproject.toml)."""
    session.install("-e", ".[typing]")
    session.run("mypy", "dynamorm_async", "tests/typing")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site; any warning fails the build."""
    session.install("-e", ".[docs]")
    # Silences mkdocs-material's end-of-life banner, which would bury the build log.
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--site-dir",
        "build/site",
        env={"NO_MKDOCS_2_WARNING": "1"},
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks package (``benchmarks/``) with any extra arguments."""
    session.install("-e", ".[local,bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)
