"""The interviewer port and its offline implementation.

An interviewer turns a conversation into a reply, streamed as text fragments. The offline one is
deterministic and needs no network: it greets, asks the interview's questions in order and
acknowledges each answer. An LLM-backed interviewer implements the same port.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from interview_shared.domain import ChatRole


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of the conversation so far."""

    role: ChatRole
    content: str


@dataclass(frozen=True, slots=True)
class Conversation:
    """What the interviewer knows when it replies."""

    session_id: uuid.UUID
    message: str
    history: Sequence[Turn] = ()
    interview_title: str | None = None
    questions: Sequence[str] = field(default_factory=tuple)


class Interviewer(Protocol):
    """Produces the assistant's reply to the latest message, fragment by fragment."""

    def reply(self, conversation: Conversation) -> AsyncIterator[str]:
        """Yield the reply's fragments in order; their concatenation is the whole reply."""
        ...


_WORD = re.compile(r"\S+\s*")
_STOP = frozenset(
    "a an and are as at be but by for from has have i in is it its my of on or so that the "
    "this to was we were what when which with you your".split()
)


def tokens(text: str) -> list[str]:
    """Split text into word-sized fragments that concatenate back to the text exactly."""
    leading = text[: len(text) - len(text.lstrip())]
    parts = _WORD.findall(text)
    if leading and parts:
        parts[0] = leading + parts[0]
    return parts or ([text] if text else [])


def _keywords(text: str, limit: int = 3) -> list[str]:
    seen: list[str] = []
    for word in re.findall(r"[A-Za-z][A-Za-z0-9+#.-]{2,}", text):
        lowered = word.lower().strip(".")
        if lowered not in _STOP and lowered not in seen:
            seen.append(lowered)
    return seen[:limit]


_ASKED = re.compile(r"Question (\d+) of \d+:")


def _asked(history: Sequence[Turn]) -> int:
    """How many of the interview's questions the assistant has already asked.

    Read from the "Question N of M:" markers it writes, not by looking for question texts: one
    question's text may be contained in another's.
    """
    numbers = (
        int(match.group(1))
        for turn in history
        if turn.role is ChatRole.ASSISTANT
        for match in _ASKED.finditer(turn.content)
    )
    return max(numbers, default=0)


class OfflineInterviewer:
    """A deterministic interviewer that follows the interview's question list."""

    async def reply(self, conversation: Conversation) -> AsyncIterator[str]:
        """Stream the reply word by word."""
        for fragment in tokens(self.compose(conversation)):
            yield fragment

    def compose(self, conversation: Conversation) -> str:
        """The whole reply text."""
        questions = conversation.questions
        asked = _asked(conversation.history)
        opening = self._opening(conversation, asked)
        if not questions:
            return (
                f"{opening} Tell me about a project you are proud of,"
                " and what you would do differently today."
            )
        if asked >= len(questions):
            return (
                f"{opening} That was the last question. Thank you for your time;"
                " your answers are being evaluated."
            )
        return f"{opening} Question {asked + 1} of {len(questions)}: {questions[asked]}"

    def _opening(self, conversation: Conversation, asked: int) -> str:
        if not any(t.role is ChatRole.ASSISTANT for t in conversation.history):
            title = f' for "{conversation.interview_title}"' if conversation.interview_title else ""
            return f"Hello, and welcome to your interview{title}! I'm your AI interviewer."
        keywords = _keywords(conversation.message)
        noted = f" You mentioned {', '.join(keywords)}." if keywords else ""
        return f"Thank you for your answer.{noted}" if asked else f"Thanks.{noted}"
