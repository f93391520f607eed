"""CPU the chat service spends per streamed model chunk: its own reader vs the openai client's.

Run: `uv run python services/chat/bench/stream_parse.py [--replies 200] [--tokens 60]`.

The stand-in model of `ttft.py` (its own process, real HTTP) streams `--replies` replies of
`--tokens` chunks each, as fast as it can. In the same run, alternating reply by reply, each is
read by:

- baseline: the `openai` client's own stream (`create(stream=True)`, one pydantic chunk model per
  chunk, `choices[0].delta.content` read), what `OpenAIInterviewer` did before;
- service: `OpenAIInterviewer.reply`, which reads the stream as server-sent events.

The figure is this thread's CPU time (`time.thread_time`: the stand-in is another process) per
chunk, and the service's mean as a ratio to the baseline's. Not part of any service's runtime.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import openai
from interview_chat.interviewer import Move, TurnRequest
from interview_chat.llm_interviewer import OpenAIInterviewer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ttft import pct, stand_in  # the same stand-in, beside this script

REQUEST = TurnRequest(move=Move.GREET, message="Hello", question="What is a mutex?")


async def baseline(client: openai.AsyncOpenAI) -> tuple[float, int]:
    """CPU seconds and content chunks of one reply read through the openai client's stream."""
    began, chunks = time.thread_time(), 0
    stream = await client.chat.completions.create(
        model="bench", messages=[{"role": "user", "content": "Hello"}], stream=True
    )
    async for chunk in stream:
        for choice in chunk.choices[:1]:
            if choice.delta.content:
                chunks += 1
    return time.thread_time() - began, chunks


async def service(interviewer: OpenAIInterviewer) -> tuple[float, int]:
    """CPU seconds and content chunks of one reply read by the interviewer."""
    began, chunks = time.thread_time(), 0
    async for item in interviewer.reply(REQUEST):
        chunks += isinstance(item, str)
    return time.thread_time() - began, chunks


async def run(replies: int, tokens: int) -> None:
    """Read `replies` replies both ways, alternating; print the figures."""
    with stand_in() as model:
        model.pace(tokens, 0.0)
        client = openai.AsyncOpenAI(api_key="bench", base_url=model.url, max_retries=0)
        interviewer = OpenAIInterviewer(client, model="bench", timeout_s=30)
        for _ in range(5):  # warm both paths (imports, connection pool)
            await baseline(client)
            await service(interviewer)
        per_chunk: dict[str, list[float]] = {"baseline": [], "service": []}
        for _ in range(replies):
            for name, read in (("baseline", baseline(client)), ("service", service(interviewer))):
                cpu_s, chunks = await read
                if chunks != tokens:  # a reader that dropped chunks would look cheap
                    raise RuntimeError(f"{name} read {chunks} of {tokens} chunks")
                per_chunk[name].append(cpu_s * 1e6 / chunks)
        await client.close()
    print(f"{replies} replies x {tokens} chunks each way, alternating; CPU us per chunk")
    print("| reader | p50 | mean |")
    print("|---|---|---|")
    means = {}
    for name, values in per_chunk.items():
        means[name] = sum(values) / len(values)
        print(f"| {name} | {pct(values, 0.5):.1f} | {means[name]:.1f} |")
    ratio = means["service"] / means["baseline"]
    print(f"service / baseline CPU per chunk: {ratio:.2f}x")


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--tokens", type=int, default=60)
    args = parser.parse_args()
    asyncio.run(run(args.replies, args.tokens))


if __name__ == "__main__":
    main()
