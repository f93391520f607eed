"""Free ports for local services (interview_localinfra._process.free_port)."""

from __future__ import annotations

import random
import socket

import pytest
from interview_localinfra import _process
from interview_localinfra._process import free_port


def test_ports_are_never_handed_out_twice_and_stay_below_the_ephemeral_range() -> None:
    low, _ = _process._ephemeral_range()
    ports = [free_port() for _ in range(500)]
    assert len(set(ports)) == len(ports)  # bind(0) gave chat and the store the same port
    assert all(20000 <= port < low for port in ports)


def test_a_port_someone_listens_on_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        draws = iter([busy, 23456])
        monkeypatch.setattr(random, "randrange", lambda _a, _b: next(draws))
        monkeypatch.setattr(_process, "_ephemeral_range", lambda: (30000, 60999))
        monkeypatch.setattr(_process, "_handed_out", set())
        assert free_port() == 23456
