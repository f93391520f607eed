"""The interviewer over any OpenAI-compatible chat-completions endpoint, streaming.

Tokens are yielded as the model sends them. When asked to assess an answer the model first
writes an action line (`interview_prompt.FOLLOW_UP_RULE`), which is parsed, not streamed. Any
output the service cannot use (an API error, no token within the timeout, a refusal, a missing
or malformed action line, nothing at all) raises `InterviewerUnusableError`, and the responder
falls back to its own policy: an interview never stalls on the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import openai

from interview_chat.interviewer import Advice, InterviewerUnusableError, Move, TurnRequest
from interview_chat.interviewer_prompt import messages, parse_action

_ACTION_LINE_MAX = 200
"""Characters read while looking for the action line before giving up on it."""


def _may_be_action(head: str) -> bool:
    """Whether `head` could still turn out to start with an action line."""
    stripped = head.lstrip()
    if len(head) > _ACTION_LINE_MAX:
        return False
    if stripped.startswith("ACTION:"):
        return "\n" not in stripped
    return "ACTION:".startswith(stripped)


@dataclass(frozen=True)
class _Event:
    name: str
    data: str


async def _events(lines: AsyncIterator[str]) -> AsyncIterator[_Event]:
    """Server-sent events (the WHATWG event-stream format) from a response's lines: `data:`
    lines joined, `event:` kept, comments skipped; an event ends at a blank line."""
    name, data = "", list[str]()
    async for line in lines:
        if not line:
            if data:
                yield _Event(name or "message", "\n".join(data))
            name, data = "", []
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            data.append(value)
        elif field == "event":
            name = value


def _chunk_text(event: _Event) -> str:
    """The content of one streamed chat-completion chunk (its first choice; "" for none); raise
    on an error event, a refusal or a chunk that is not one."""
    try:
        chunk = json.loads(event.data)
    except ValueError as exc:
        raise InterviewerUnusableError("a chunk that is not JSON") from exc
    if not isinstance(chunk, dict):
        raise InterviewerUnusableError("a chunk that is not an object")
    if event.name == "error" or chunk.get("error"):
        raise InterviewerUnusableError("the endpoint sent an error")
    choices = chunk.get("choices") or [{}]
    choice = choices[0] if isinstance(choices, list) else None
    if not isinstance(choice, dict):
        raise InterviewerUnusableError("a chunk without a readable choice")
    delta = choice.get("delta") or {}
    if not isinstance(delta, dict):
        raise InterviewerUnusableError("a chunk without a readable delta")
    if delta.get("refusal") or choice.get("finish_reason") == "content_filter":
        raise InterviewerUnusableError("the model refused")
    content = delta.get("content")
    return content if isinstance(content, str) else ""


class OpenAIInterviewer:
    """Streams each turn from a chat-completions endpoint (`stream=true`)."""

    def __init__(
        self, client: openai.AsyncOpenAI, *, model: str, timeout_s: float, temperature: float = 0.3
    ) -> None:
        self._client = client
        self._model = model
        self._timeout_s = timeout_s
        self._temperature = temperature

    async def reply(self, request: TurnRequest) -> AsyncIterator[str | Advice]:
        """The turn's fragments as the model streams them (the advice first, when assessing)."""
        # The openai client makes the request (auth, errors, base URL) but the stream is read
        # as raw server-sent events: its pydantic model per chunk was a third of this
        # service's CPU under 200 open streams (docs/chat-performance.md).
        streaming = self._client.chat.completions.with_streaming_response.create(
            model=self._model,
            messages=messages(request),  # type: ignore[arg-type]
            stream=True,
            temperature=self._temperature,
        )
        # Leaving the stack closes the response, on cancellation too: the endpoint stops.
        async with contextlib.AsyncExitStack() as stack:
            try:
                async with asyncio.timeout(self._timeout_s):
                    response = await stack.enter_async_context(streaming)
            except (openai.OpenAIError, httpx.HTTPError, TimeoutError) as exc:
                raise InterviewerUnusableError(f"request failed: {type(exc).__name__}") from exc
            texts = self._texts(_events(response.iter_lines()))
            if request.move is Move.ASSESS:
                async for item in self._advised(texts):
                    yield item
            else:
                async for text in self._plain(texts):
                    yield text

    async def _texts(self, events: AsyncIterator[_Event]) -> AsyncIterator[str]:
        while True:
            try:
                async with asyncio.timeout(self._timeout_s):
                    event = await anext(events)
            except StopAsyncIteration:
                return
            except Exception as exc:
                # Reading the model's stream failed: a timeout or whatever the HTTP library
                # under the openai client raises, unwrapped when the body is read raw (httpx,
                # or httpx2 in openai 3.x: no common base class). The turn falls back.
                raise InterviewerUnusableError(f"stream failed: {type(exc).__name__}") from exc
            if event.data.startswith("[DONE]"):
                return
            if text := _chunk_text(event):
                yield text

    async def _plain(self, texts: AsyncIterator[str]) -> AsyncIterator[str]:
        # An action line nobody asked for means the model did not follow its task (a follow-up
        # where none is allowed, say): unusable. Text is held back only while it could be one.
        head, sent = "", False
        async for text in texts:
            if sent:
                yield text
                continue
            head += text
            if _may_be_action(head):
                continue
            if parse_action(head.partition("\n")[0]) is not None:
                raise InterviewerUnusableError("an action line where none was asked for")
            sent = True
            yield head
        if not sent:
            raise InterviewerUnusableError("empty reply" if not head.strip() else "only an action")

    async def _advised(self, texts: AsyncIterator[str]) -> AsyncIterator[str | Advice]:
        head = ""
        async for text in texts:
            head += text
            if "\n" in head or len(head) > _ACTION_LINE_MAX:
                break
        line, _, rest = head.partition("\n")
        follow_up = parse_action(line)
        if follow_up is None:
            raise InterviewerUnusableError("no valid action line")
        yield Advice(follow_up=follow_up)
        sent = bool(rest.strip())
        if sent:
            yield rest.lstrip()
        async for text in texts:
            sent = True
            yield text
        if follow_up and not sent:
            raise InterviewerUnusableError("a follow-up without a question")

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()


def build_interviewer(
    *, base_url: str | None, api_key: str, model: str, timeout_s: float
) -> OpenAIInterviewer:
    """An interviewer with its own client; the client never retries (a turn must not wait)."""
    client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0)
    return OpenAIInterviewer(client, model=model, timeout_s=timeout_s)
