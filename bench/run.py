"""Measure lists, search and the card on a generated database: python -m bench.run.

Prints one JSON line per figure. Run it with the environment bench.generate had
(`python -m bench` does both).
"""

import argparse
import os
import sys
import traceback

import django


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per figure")
    parser.add_argument(
        "--steps", default="", help="only these, comma-separated (lists,restricted,tagged,...)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    django.setup()
    from django.core.management import call_command

    from bench.figures import card, environment, lists, restricted, search, tagged
    from bench.harness import Bench

    call_command("migrate", interactive=False, verbosity=0)  # a kept database may lag behind
    bench = Bench(args.repeat)
    environment(bench)
    failed = False
    steps = (lists, restricted, tagged, search, card)
    wanted = {name.strip() for name in args.steps.split(",") if name.strip()}
    for step in [s for s in steps if not wanted or s.__name__ in wanted]:
        try:
            step(bench)
        except Exception as error:
            traceback.print_exc()
            bench.emit(f"{step.__name__}_failed", error=f"{type(error).__name__}: {error}")
            failed = True
    bench.emit("load_after", load_average=[round(load, 2) for load in os.getloadavg()])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
