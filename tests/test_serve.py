"""`accord serve` keeps the web up whatever its worker does, and the worker waits out locks.

Each test runs Accord in processes of its own on a temporary SQLite file, as an operator
would start it.
"""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.instances import ACCORD, ROOT
from tests.instances import accord_environment as environment_of
from tests.instances import run_accord as run_in


def accord_environment(tmp_path) -> dict:
    return environment_of(tmp_path, DEBUG="true")  # no collectstatic: no static files served


def run_accord(args, tmp_path):
    return run_in(args, tmp_path, timeout=180, DEBUG="true")


def enqueue(tmp_path, call: str) -> str:
    """Queue a job from another process, as the web would; its id."""
    code = f"from tests.core import jobs; from accord.core import tasks; print({call}.id)"
    queued = run_accord(["manage", "shell", "-c", code], tmp_path)
    assert queued.returncode == 0, queued.stderr
    return queued.stdout.strip().splitlines()[-1]


def job(tmp_path, job_id: str) -> tuple[str, object]:
    with sqlite3.connect(tmp_path / "accord.sqlite3") as database:
        row = database.execute(
            "SELECT status, return_value FROM django_tasks_database_dbtaskresult WHERE id = ?",
            [job_id.replace("-", "")],
        ).fetchone()
    return row[0], json.loads(row[1]) if row[1] else None


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"waited {seconds} s for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            return answer.status
    except OSError:
        return 0


def worker_pids(tmp_path) -> set[int]:
    """The workers that have beaten their heart into the database."""
    with sqlite3.connect(tmp_path / "accord.sqlite3") as database:
        rows = database.execute("SELECT pid FROM core_workerheartbeat").fetchall()
    return {pid for (pid,) in rows}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in stat_state(pid)


def stat_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_a_killed_worker_is_started_again_and_the_web_keeps_answering(tmp_path, instance):
    instance("migrated", tmp_path)  # serve's own migration is the next test's
    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    serve = subprocess.Popen(
        [*ACCORD, "serve", "--port", str(port)],
        env=accord_environment(tmp_path),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: healthz(port) == 200, 120, "the web to answer")
        first = wait_for(lambda: worker_pids(tmp_path), 60, "the worker's heartbeat")
        (killed,) = first

        os.kill(killed, signal.SIGKILL)

        assert healthz(port) == 200
        assert serve.poll() is None, "accord serve exited with its worker"
        restarted = wait_for(lambda: worker_pids(tmp_path) - first, 60, "a new worker's heartbeat")
        assert all(alive(pid) for pid in restarted)
        job_id = enqueue(tmp_path, 'tasks.ping.enqueue("after the crash")')
        _status, value = wait_for(
            lambda: (done := job(tmp_path, job_id))[0] == "SUCCESSFUL" and done, 60, "the job"
        )
        assert value == "after the crash"
        assert healthz(port) == 200
        log.seek(0)
        said = log.read()
        assert "the worker stopped (exit -9); starting it again in 1 s" in said
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)
        log.close()
    assert not alive(next(iter(restarted))), "accord serve left its worker running"


def test_a_job_that_meets_a_locked_database_runs_again_and_succeeds(tmp_path, instance):
    instance("migrated", tmp_path)
    marker = tmp_path / "locked-once"
    job_id = enqueue(tmp_path, f'jobs.write_past_a_lock.enqueue("after-the-lock", "{marker}")')

    worked = run_accord(["worker", "--batch"], tmp_path)

    assert worked.returncode == 0, worked.stderr
    assert marker.exists(), "the job never met the lock"
    assert "met a locked database; run 2 of 8 again in 1 s" in worked.stderr
    assert job(tmp_path, job_id) == ("SUCCESSFUL", "written after-the-lock")
    with sqlite3.connect(tmp_path / "accord.sqlite3") as database:
        rows = database.execute(
            "SELECT count(*) FROM core_workerheartbeat WHERE worker_id = 'after-the-lock'"
        ).fetchone()
    assert rows == (1,)


def test_the_address_is_printed_when_it_answers_and_a_taken_port_is_refused(tmp_path):
    port = free_port()
    serve = subprocess.Popen(
        [*ACCORD, "serve", "--port", str(port), "--no-worker"],
        env=accord_environment(tmp_path),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = ""
        while "Accord is running" not in line:
            line = serve.stdout.readline()
            assert line, "accord serve ended without saying where it runs"
        assert f"http://127.0.0.1:{port}/" in line
        assert healthz(port) == 200  # at once: the address works when it is printed

        taken = run_accord(["serve", "--port", str(port)], tmp_path)
        assert taken.returncode != 0
        assert f"port {port} is taken by another program" in taken.stderr
        assert "Traceback" not in taken.stderr
    finally:
        serve.terminate()
        serve.wait(timeout=30)
