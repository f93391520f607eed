"""The interviewer port, the turn it phrases, and its offline implementation.

The chat service decides what a turn does (`Move`): greet, acknowledge and move on, follow up,
close. An interviewer only phrases it; the service appends the question itself, word for word,
so no phrasing can skip, change or reorder the interview's questions. When a follow-up is
allowed the interviewer may advise one (`Advice`) before its text. The offline interviewer is
deterministic and needs no network; `llm_interviewer.OpenAIInterviewer` asks a model.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from interview_shared.domain import ChatRole


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of the conversation so far."""

    role: ChatRole
    content: str


class Move(StrEnum):
    """What the service has decided a reply does."""

    GREET = "greet"
    """The candidate's first message: welcome them (the first question follows)."""
    ASSESS = "assess"
    """An answer came in and a follow-up is allowed: the interviewer may advise one."""
    NEXT = "next"
    """Acknowledge the answer (the next question follows)."""
    CLOSE = "close"
    """Acknowledge the last answer (the closing line follows)."""
    CHAT = "chat"
    """A session about no interview: free conversation."""


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """Everything the interviewer may know when it phrases a turn (never a reference answer)."""

    move: Move
    message: str
    history: Sequence[Turn] = ()
    interview_title: str | None = None
    question: str | None = None
    """The open question (the one being answered; for GREET, the first one)."""
    question_number: int = 0
    total_questions: int = 0
    answer: str = ""
    """Everything the candidate said for the open question, this message included."""
    follow_ups: int = 0
    thin: bool = False
    """The service's own view: the answer is too short or off the question's topic."""


@dataclass(frozen=True, slots=True)
class Advice:
    """The interviewer's view of an answer, given (if at all) before its text."""

    follow_up: bool


class Interviewer(Protocol):
    """Phrases one turn, fragment by fragment; may yield one `Advice` before any text."""

    def reply(self, request: TurnRequest) -> AsyncIterator[str | Advice]:
        """Yield the turn's fragments in order; their concatenation is the turn's text."""
        ...


@runtime_checkable
class ClosableInterviewer(Interviewer, Protocol):
    """An interviewer holding a connection (a model's client) the service closes at exit."""

    async def aclose(self) -> None:
        """Release the connection."""
        ...


class InterviewerUnusableError(Exception):
    """The model's output cannot be used for this turn (the service's own policy takes over)."""


_WORD = re.compile(r"\S+\s*")
_STOP = frozenset(
    "a an and are as at be but by can could do does for from has have how i in is it its my of "
    "on or so that the this to was we were what when which why with would you your".split()
)


def tokens(text: str) -> list[str]:
    """Split text into word-sized fragments that concatenate back to the text exactly."""
    leading = text[: len(text) - len(text.lstrip())]
    parts = _WORD.findall(text)
    if leading and parts:
        parts[0] = leading + parts[0]
    return parts or ([text] if text else [])


def keywords(text: str, limit: int = 3) -> list[str]:
    """The first distinct content words of a text, lower-cased."""
    seen: list[str] = []
    for word in re.findall(r"[A-Za-z][A-Za-z0-9+#.-]{2,}", text):
        lowered = word.lower().strip(".")
        if lowered not in _STOP and lowered not in seen:
            seen.append(lowered)
    return seen[:limit]


class OfflineInterviewer:
    """A deterministic interviewer: greets, follows up on thin answers, acknowledges."""

    async def reply(self, request: TurnRequest) -> AsyncIterator[str | Advice]:
        """Advise (when asked to assess), then stream the text word by word."""
        if request.move is Move.ASSESS:
            yield Advice(follow_up=request.thin)
        for fragment in tokens(self.compose(request)):
            yield fragment

    def compose(self, request: TurnRequest) -> str:
        """The whole text of the turn."""
        if request.move is Move.GREET:
            title = f' for "{request.interview_title}"' if request.interview_title else ""
            return f"Hello, and welcome to your interview{title}! I'm your AI interviewer."
        if request.move is Move.ASSESS and request.thin:
            return self.follow_up(request)
        if request.move is Move.CHAT and not any(
            t.role is ChatRole.ASSISTANT for t in request.history
        ):
            return (
                "Hello, and welcome to your interview! I'm your AI interviewer. Tell me about a"
                " project you are proud of,"
                " and what you would do differently today."
            )
        noted = keywords(request.message)
        mentioned = f" You mentioned {', '.join(noted)}." if noted else ""
        return f"Thank you for your answer.{mentioned}"

    def follow_up(self, request: TurnRequest) -> str:
        """A follow-up question on the open question's topic."""
        topic = keywords(request.question or "")
        about = f" about {', '.join(topic)}" if topic else ""
        return (
            f"Could you go into more detail{about}? A concrete example from your own work"
            " would help."
        )
