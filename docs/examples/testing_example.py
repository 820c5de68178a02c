"""Testing: run the example test suite in docs/examples/testing/ with pytest, twice.

First the plugin starts the embedded DynamoDB itself; then this script starts one
and points the tests at it with DYNAMORM_TEST_ENDPOINT, as you would for DynamoDB
Local or a server shared by several test runs.
"""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from dynamorm_async import Database
from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb

SUITE = Path(__file__).parent / "testing"


def run_pytest(**env: str) -> int:
    """Run the example suite in a child process; return pytest's exit code."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(SUITE)]
    environment = {k: v for k, v in os.environ.items() if k != "DYNAMORM_TEST_ENDPOINT"}
    environment.update(PYTHONDONTWRITEBYTECODE="1", **env)
    return subprocess.run(command, cwd=SUITE, env=environment, timeout=50).returncode


async def main() -> None:
    print("== the plugin starts the embedded DynamoDB ==")
    assert run_pytest() == 0

    async with local_dynamodb() as url:
        print(f"\n== DYNAMORM_TEST_ENDPOINT={url} ==")
        code = await asyncio.to_thread(run_pytest, DYNAMORM_TEST_ENDPOINT=url)
        assert code == 0

        # The tests dropped their tables: the shared server is left empty.
        async with Database.connect(url, **LOCAL_CREDENTIALS) as db:
            tables = await db.client.list_tables()
            assert tables["TableNames"] == [], tables
            print("tables left on the server:", tables["TableNames"])


if __name__ == "__main__":
    asyncio.run(main())
