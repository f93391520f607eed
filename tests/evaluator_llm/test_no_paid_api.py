"""The suite-wide fence: a test that forgets the fake server fails at once, and costs nothing."""

from __future__ import annotations

import os
import socket
import time

import openai
import pytest
from interview_evaluator.judge_settings import JudgeSettings, build_judge
from interview_evaluator.scoring import ScoringRequest
from plugins.no_paid_api import PaidApiBlocked
from pydantic import SecretStr


async def test_a_real_openai_call_fails_fast() -> None:
    client = openai.AsyncOpenAI(api_key="sk-real-looking", max_retries=0)
    started = time.monotonic()
    try:
        with pytest.raises(PaidApiBlocked, match=r"api\.openai\.com"):
            await client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
    finally:
        await client.close()
    assert time.monotonic() - started < 1


async def test_a_judge_built_from_settings_without_a_base_url_is_fenced_off() -> None:
    judge = build_judge(JudgeSettings(openai_api_key=SecretStr("sk-real-looking")))
    assert judge is not None
    request = ScoringRequest(answer_id="a", question="What is DNS?", answer="It maps names to IPs.")
    try:
        with pytest.raises(PaidApiBlocked):
            await judge.score(request)
    finally:
        await judge.aclose()


@pytest.mark.parametrize("host", ["api.openai.com", "eu.api.openai.com", "API.OPENAI.COM."])
def test_paid_api_hosts_do_not_resolve(host: str) -> None:
    with pytest.raises(PaidApiBlocked):
        socket.getaddrinfo(host, 443)


def test_loopback_still_resolves_and_a_dummy_key_is_set() -> None:
    assert socket.getaddrinfo("127.0.0.1", 80)
    assert os.environ["OPENAI_API_KEY"]


def test_no_api_key_means_no_judge() -> None:
    assert build_judge(JudgeSettings(openai_api_key=None)) is None
    assert build_judge(JudgeSettings(openai_api_key=SecretStr("  "))) is None
