"""``python -m dynamorm_async demo``, run as a user would, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dynamorm_async.testing import LOCAL_CREDENTIALS


def run_demo(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DYNAMORM_ENDPOINT_URL"}
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "-m", "dynamorm_async", "demo", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def assert_demo_output(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "done" in out.splitlines()[-1]
    assert "Traceback" not in result.stderr
    # What the tour shows actually happened.
    assert "read back equal to what was written: True" in out
    assert "ItemAlreadyExists" in out
    assert "VersionConflict" in out
    assert "gone: True" in out
    for label in ("empty key", "NaN", "39 digits", "unknown field"):
        assert label in out


def test_demo_with_embedded_server():
    result = run_demo()
    assert_demo_output(result)
    assert "127.0.0.1" in result.stdout
    assert "embedded" in result.stdout


def test_demo_against_a_given_endpoint(dynamorm_endpoint):
    # With an endpoint the usual AWS credential chain applies: give it the local ones.
    result = run_demo(
        "--endpoint-url",
        dynamorm_endpoint,
        AWS_ACCESS_KEY_ID=LOCAL_CREDENTIALS["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=LOCAL_CREDENTIALS["aws_secret_access_key"],
        AWS_DEFAULT_REGION=LOCAL_CREDENTIALS["region_name"],
    )
    assert_demo_output(result)
    assert dynamorm_endpoint in result.stdout


def test_cli_without_command_fails_with_usage():
    result = subprocess.run(
        [sys.executable, "-m", "dynamorm_async"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "usage" in result.stderr.lower()


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_cli_help(flag):
    result = subprocess.run(
        [sys.executable, "-m", "dynamorm_async", "demo", flag],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert "--endpoint-url" in result.stdout


async def test_demo_in_process_prints_every_step(dynamorm_endpoint, monkeypatch):
    # The same tour in this process (so coverage sees it), against the session server.
    from dynamorm_async.cli._demo import run_demo as tour

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LOCAL_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LOCAL_CREDENTIALS["aws_secret_access_key"])
    lines: list[str] = []
    await tour(dynamorm_endpoint, echo=lines.append)
    out = "\n".join(lines)
    assert "read back equal to what was written: True" in out
    assert "VersionConflict" in out
    assert "gone: True" in out
    assert lines[-1].startswith("done in")


def test_cli_main_runs_the_demo_and_rejects_unknown_commands(
    dynamorm_endpoint, monkeypatch, capsys
):
    from dynamorm_async.cli import main

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LOCAL_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LOCAL_CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", LOCAL_CREDENTIALS["region_name"])
    assert main(["demo", "--endpoint-url", dynamorm_endpoint]) == 0
    assert "gone: True" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
