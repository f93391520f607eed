"""The store's read API paths, one table for the store's routes and the HTTP client.

A query's name is the method name of `read_client.ReadQueries` (and of the store's port); its
path is relative to `READ_PREFIX`, with `{...}` placeholders named like the method's id
arguments. The store declares its routes from this table and `HttpReadSide` builds its URLs
from it, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

READ_PREFIX: Final = "/internal/v1"

READ_PATHS: Final[Mapping[str, str]] = MappingProxyType(
    {
        # Before "/candidates/{candidate_id}": routes match in declaration order.
        "get_candidate_by_email": "/candidates/by-email",
        "get_candidate": "/candidates/{candidate_id}",
        "list_candidates": "/candidates",
        "list_cv_analyses": "/candidates/{candidate_id}/cv-analyses",
        "get_question": "/questions/{question_id}",
        "list_questions": "/questions",
        "get_interview": "/interviews/{interview_id}",
        "list_interviews": "/interviews",
        "interview_log": "/interviews/{interview_id}/log",
        "get_interview_report": "/interviews/{interview_id}/report",
        "get_answer": "/answers/{answer_id}",
        "list_answers": "/answers",
        "list_evaluations": "/evaluations",
        "get_evaluation": "/evaluations/{evaluation_id}",
        "list_reviews": "/reviews",
        "get_chat_session": "/chat/sessions/{session_id}",
        "list_chat_messages": "/chat/sessions/{session_id}/messages",
        "get_replay": "/replays/{replay_id}",
    }
)


def read_url(query: str, **ids: object) -> str:
    """The full path of `query` with its ids filled in."""
    return READ_PREFIX + READ_PATHS[query].format(**ids)
