"""The grader's tests need bubblewrap: installed here when root (tools/install_bubblewrap.sh).

Without it they fail, loudly; they are never skipped.
"""

import subprocess
from pathlib import Path

import pytest

from gradlab import sandbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def bubblewrap():
    if sandbox.bwrap() is None:
        subprocess.run(["bash", str(ROOT / "tools" / "install_bubblewrap.sh")], check=False)
    reason = sandbox.problem()
    if reason is not None:
        pytest.fail(f"the grader's sandbox is not available: {reason}")
