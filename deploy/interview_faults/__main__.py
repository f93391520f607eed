"""`make faults`: every bounded scenario on both stores, the table printed and written.

python -m interview_faults [--scenario R1 ...] [--store memory|postgres ...]
    [--chaos-minutes 5] [--out docs/reliability.md] [--logs DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from interview_faults.plan import PLAN, run_plan
from interview_faults.result import table, write_report

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make faults", description=__doc__)
    parser.add_argument("--scenario", action="append", choices=sorted(PLAN), help="repeatable")
    parser.add_argument("--store", action="append", choices=["memory", "postgres"])
    parser.add_argument(
        "--chaos-minutes", type=float, default=0, help="also run the chaos run (0: skip)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--logs", type=Path, help="keep the services' logs here")
    return parser.parse_args(argv)


async def _main(args: argparse.Namespace, command: str) -> int:
    logs = args.logs or Path(tempfile.mkdtemp(prefix="faults-"))
    results = await run_plan(
        names=args.scenario or sorted(PLAN),
        stores=args.store or ["memory", "postgres"],
        chaos_minutes=args.chaos_minutes,
        log_dir=logs,
        say=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(table(results))
    write_report(args.out, results, command=command)
    print(f"\nwritten to {args.out}; service logs in {logs}", file=sys.stderr)
    return 0 if all(r.passed for r in results) else 1


def main() -> None:
    """Entry point of `make faults`."""
    argv = sys.argv[1:]
    command = " ".join(["make faults", *(["ARGS=" + repr(" ".join(argv))] if argv else [])])
    sys.exit(asyncio.run(_main(_arguments(argv), command)))


if __name__ == "__main__":
    main()
