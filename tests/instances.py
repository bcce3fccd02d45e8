"""Accord instances of their own, for tests that run the `accord` command as an operator
does: a SQLite file and a data folder in a temporary folder. Migrating one takes half a
minute and loading the demo as long again, so each test process makes one of each once and
a test starts from a copy (`instance` in conftest.py)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ACCORD = [sys.executable, "-m", "accord.cli"]
ROOT = Path(__file__).resolve().parents[1]


def accord_environment(folder: Path, **env) -> dict:
    """The test process's environment without its own database and settings: the instance
    in `folder` (its SQLite file and data folder), and `env` on top."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "ACCORD_", "DATABASE_", "REDIS_", "PYTEST"))
    }
    environment.update(
        ACCORD_DATA_DIR=str(folder / "var"),
        DATABASE_URL=f"sqlite:///{folder / 'accord.sqlite3'}",
    )
    environment.update(env)
    return environment


def run_accord(args, folder: Path, timeout: int = 120, **env):
    """Run `accord` in a fresh process on the instance in `folder`."""
    return subprocess.run(
        [*ACCORD, *args],
        env=accord_environment(folder, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


class Instances:
    """The instances this test process made: "migrated" (an empty database) and "demo"."""

    def __init__(self, factory):
        self.factory, self.made = factory, {}

    def copy(self, kind: str, folder: Path) -> Path:
        """A copy of the instance `kind` in `folder`; answers `folder`."""
        shutil.copytree(self._made(kind), folder, dirs_exist_ok=True)
        return folder

    def _made(self, kind: str) -> Path:
        if kind not in self.made:
            folder = self.factory.mktemp(f"instance-{kind}")
            if kind == "demo":  # the demo on a migrated copy
                self.copy("migrated", folder)
            result = run_accord(["demo" if kind == "demo" else "migrate"], folder, timeout=300)
            assert result.returncode == 0, result.stderr
            self.made[kind] = folder
        return self.made[kind]
