"""A service that starts but never gets ready is stopped and started again, not waited on."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from interview_localinfra import system
from interview_localinfra._process import free_port
from interview_localinfra.readiness import ServiceNotReady

# First start: alive, listening, answering 503 forever (a start-up that hangs). Later starts:
# ready. A marker file tells the two apart across processes.
FLAKY_SERVICE = """
import http.server, os, sys
marker = os.environ["FLAKY_MARKER"]
first = not os.path.exists(marker)
open(marker, "a").write("started\\n")

class Probe(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(503 if first else 200)
        self.end_headers()
        self.wfile.write(b'{"status": "starting"}')
    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", int(os.environ["FLAKY_PORT"])), Probe).serve_forever()
"""


FLAKY = (system.Service("flaky", "flaky_service", "FLAKY_PORT", 0),)


@pytest.fixture
def flaky_service(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "flaky_service.py").write_text(textwrap.dedent(FLAKY_SERVICE))
    return {
        "PYTHONPATH": str(tmp_path),
        "FLAKY_PORT": str(free_port()),
        "FLAKY_MARKER": str(tmp_path / "starts"),
        "PATH": "/usr/bin:/bin",
    }


async def test_a_service_never_ready_is_restarted_until_it_is(
    flaky_service: dict[str, str], tmp_path: Path
) -> None:
    group = system.ServiceGroup(
        flaky_service, services=FLAKY, ready_timeout_s=1.5, start_attempts=3
    )
    try:
        await group.start()
        starts = (tmp_path / "starts").read_text().splitlines()
        assert len(starts) == 2, "the hung first process is stopped and a second one started"
        assert group.procs["flaky"].poll() is None
    finally:
        await group.stop(grace_s=2)


async def test_giving_up_stops_the_hung_process_and_says_what_the_probe_saw(
    flaky_service: dict[str, str], tmp_path: Path
) -> None:
    group = system.ServiceGroup(
        flaky_service, services=FLAKY, ready_timeout_s=1.0, start_attempts=1
    )
    with pytest.raises(ServiceNotReady, match=r"not ready after 1s .*last probe: HTTP 503"):
        await group.start()
    assert group.procs["flaky"].poll() is not None, "no hung process is left behind"
