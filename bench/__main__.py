"""Run the benchmark: python -m bench --people N --companies M [--engines sqlite,postgresql].

For each engine: a fresh database, the generator, the runner (each a subprocess with
Accord's settings pointed at that database), then the database is dropped unless
--keep. JSON lines go to stdout as they come, a Markdown summary at the end.
"""

import argparse
import json
import subprocess
import sys
import time

from bench import databases
from bench.report import summary


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--companies", type=int, default=1_000)
    parser.add_argument("--engines", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per figure")
    parser.add_argument("--keep", action="store_true", help="keep the databases and var/bench/")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database again")
    parser.add_argument("--json", metavar="FILE", help="also append the JSON lines to FILE")
    args = parser.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(args.engines) - set(databases.ENGINES)
    if unknown:
        parser.error(f"unknown engine {', '.join(sorted(unknown))}; use sqlite, postgresql")
    return args


def stream(command: list[str], env: dict, sink) -> list[dict]:
    """Run a bench module; echo its stdout, keep its JSON lines; stderr passes through."""
    lines = []
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as child:  # noqa: S603
        for text in child.stdout:
            print(text, end="", flush=True)
            if text.startswith("{"):
                lines.append(json.loads(text))
                sink(text)
    if child.returncode:
        print(f"bench: {' '.join(command[2:])} failed (exit {child.returncode})", file=sys.stderr)
        if not any("error" in line for line in lines):
            raise SystemExit(1)  # nothing measured to report
    return lines


def run_engine(engine: str, args: argparse.Namespace, sink) -> list[dict]:
    env = databases.environment(engine)
    python = [sys.executable, "-m"]
    lines: list[dict] = []
    try:
        if not args.reuse:
            databases.create(engine)
            sizes = ["--people", str(args.people), "--companies", str(args.companies)]
            lines += stream([*python, "bench.generate", *sizes], env, sink)
        lines += stream([*python, "bench.run", "--repeat", str(args.repeat)], env, sink)
        size = {"figure": "database_size", "db": engine, "mb": round(databases.size_mb(engine))}
        print(json.dumps(size), flush=True)
        sink(json.dumps(size) + "\n")
        lines.append(size)
    finally:
        if not args.keep:
            databases.drop(engine)
    return lines


def collect_static(engine: str) -> None:
    """The pages use the production static files storage, which needs collected files."""
    command = [sys.executable, "-m", "django", "collectstatic", "--noinput", "-v0"]
    subprocess.run(command, env=databases.environment(engine), check=True)  # noqa: S603


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    out = open(args.json, "a") if args.json else None  # noqa: SIM115 (open for the whole run)
    sink = out.write if out else (lambda text: None)
    lines: list[dict] = []
    try:
        collect_static(args.engines[0])
        for engine in args.engines:
            lines += run_engine(engine, args, sink)
    finally:
        if out:
            out.close()
        if not args.keep:
            databases.remove_data_dir()
    took = time.perf_counter() - started
    print(f"\n{summary(lines, args.repeat)}\n\n(the whole run took {took:,.0f} s)")
    return 1 if any("error" in line for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
