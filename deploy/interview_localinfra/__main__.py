"""Command line: ``python -m interview_localinfra {kafka,postgres,topics,jars}``.

``kafka`` and ``postgres`` run a server in the foreground until SIGINT/SIGTERM and print the
address to use (as an environment assignment, so a script can ``eval`` or grep it).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

from interview_localinfra._process import MissingToolError, ServiceStartError
from interview_localinfra.kafka import LocalKafka, ensure_kafka_jars
from interview_localinfra.postgres import LocalPostgres
from interview_localinfra.topics import ensure_topics


async def _wait_for_shutdown_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _run_kafka(args: argparse.Namespace) -> None:
    async with LocalKafka(port=args.port, controller_port=args.controller_port) as kafka:
        if not args.no_topics:
            await ensure_topics(kafka.bootstrap_servers)
        print(f"KAFKA_BOOTSTRAP_SERVERS={kafka.bootstrap_servers}", flush=True)
        print(
            f"# ready in {kafka.startup_seconds:.1f}s, pid {kafka.pid}, log {kafka.log_path}",
            file=sys.stderr,
            flush=True,
        )
        await _wait_for_shutdown_signal()


async def _run_postgres(args: argparse.Namespace) -> None:
    async with LocalPostgres(port=args.port, database=args.database) as pg:
        print(f"DATABASE_URL={pg.dsn}", flush=True)
        print(f"# pid {pg.pid}, log {pg.log_path}", file=sys.stderr, flush=True)
        await _wait_for_shutdown_signal()


async def _run_topics(args: argparse.Namespace) -> None:
    created = await ensure_topics(args.bootstrap, replication_factor=args.replication_factor)
    print("created: " + (", ".join(created) or "none (all existed)"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m interview_localinfra", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    kafka = sub.add_parser("kafka", help="run a single-node Kafka broker in the foreground")
    kafka.add_argument("--port", type=int, help="client port (default: a free one)")
    kafka.add_argument("--controller-port", type=int, help="KRaft controller port")
    kafka.add_argument("--no-topics", action="store_true", help="do not create the catalogue")

    pg = sub.add_parser("postgres", help="run a throwaway PostgreSQL in the foreground")
    pg.add_argument("--port", type=int, help="port (default: a free one)")
    pg.add_argument("--database", default="interview")

    topics = sub.add_parser("topics", help="create the catalogue's topics (idempotent)")
    topics.add_argument("--bootstrap", required=True, help="host:port of the cluster")
    topics.add_argument("--replication-factor", type=int, default=1)

    sub.add_parser("jars", help="download the Kafka broker jars into .kafka/libs if missing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = _parser().parse_args(argv)
    commands = {"kafka": _run_kafka, "postgres": _run_postgres, "topics": _run_topics}
    try:
        if args.command == "jars":
            print(ensure_kafka_jars())
        else:
            asyncio.run(commands[args.command](args))
    except (MissingToolError, ServiceStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
