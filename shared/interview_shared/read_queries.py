"""The store's read queries, one protocol each, for services to declare the few they use.

A service composes the queries it makes into its own port (the chat service:
`class ChatReads(GetChatSession, GetInterview, GetQuestion, ListChatMessages, Protocol)`), so
its dependency on the store is visible in one line and a fake needs only those methods.
`ReadQueries` is every query: the gateway (which serves every listing) and the store itself.
Every `get_` returns None for an unknown id.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from interview_shared.read_models import (
    Answer,
    AnswerFilter,
    Candidate,
    ChatMessage,
    ChatSession,
    CvAnalysis,
    Evaluation,
    EvaluationFilter,
    Interview,
    InterviewFilter,
    InterviewLogEntry,
    InterviewReport,
    ListQuery,
    Page,
    Question,
    QuestionFilter,
    Replay,
    ReviewFilter,
)


class GetCandidate(Protocol):
    async def get_candidate(self, candidate_id: uuid.UUID) -> Candidate | None:
        """A candidate by id."""
        ...


class GetCandidateByEmail(Protocol):
    async def get_candidate_by_email(self, email: str) -> Candidate | None:
        """A candidate by e-mail (case-insensitive)."""
        ...


class ListCandidates(Protocol):
    async def list_candidates(self, query: ListQuery) -> Page[Candidate]:
        """A page of candidates."""
        ...


class ListCvAnalyses(Protocol):
    async def list_cv_analyses(self, candidate_id: uuid.UUID) -> list[CvAnalysis]:
        """A candidate's CV analyses."""
        ...


class GetQuestion(Protocol):
    async def get_question(self, question_id: uuid.UUID) -> Question | None:
        """A question by id."""
        ...


class ListQuestions(Protocol):
    async def list_questions(self, query: ListQuery, filters: QuestionFilter) -> Page[Question]:
        """A page of questions."""
        ...


class GetInterview(Protocol):
    async def get_interview(self, interview_id: uuid.UUID) -> Interview | None:
        """An interview by id."""
        ...


class ListInterviews(Protocol):
    async def list_interviews(self, query: ListQuery, filters: InterviewFilter) -> Page[Interview]:
        """A page of interviews."""
        ...


class GetInterviewLog(Protocol):
    async def interview_log(self, interview_id: uuid.UUID) -> list[InterviewLogEntry]:
        """One entry per question of an interview, with its latest answer and score."""
        ...


class GetInterviewReport(Protocol):
    async def get_interview_report(self, interview_id: uuid.UUID) -> InterviewReport | None:
        """An interview's report."""
        ...


class GetAnswer(Protocol):
    async def get_answer(self, answer_id: uuid.UUID) -> Answer | None:
        """An answer by id, with its current evaluation."""
        ...


class ListAnswers(Protocol):
    async def list_answers(self, query: ListQuery, filters: AnswerFilter) -> Page[Answer]:
        """A page of answers."""
        ...


class ListEvaluations(Protocol):
    async def list_evaluations(
        self, query: ListQuery, filters: EvaluationFilter
    ) -> Page[Evaluation]:
        """A page of evaluations."""
        ...


class GetEvaluation(Protocol):
    async def get_evaluation(self, evaluation_id: uuid.UUID) -> Evaluation | None:
        """An evaluation by id."""
        ...


class ListReviews(Protocol):
    async def list_reviews(self, query: ListQuery, filters: ReviewFilter) -> Page[Evaluation]:
        """A page of the review queue: flagged evaluations whose answer no person has graded."""
        ...


class GetChatSession(Protocol):
    async def get_chat_session(self, session_id: uuid.UUID) -> ChatSession | None:
        """A chat session by id."""
        ...


class ListChatMessages(Protocol):
    async def list_chat_messages(self, session_id: uuid.UUID) -> list[ChatMessage]:
        """A chat session's messages, in order."""
        ...


class GetReplay(Protocol):
    async def get_replay(self, replay_id: uuid.UUID) -> Replay | None:
        """A replay's last reported progress."""
        ...


class ReadQueries(
    GetCandidate,
    GetCandidateByEmail,
    ListCandidates,
    ListCvAnalyses,
    GetQuestion,
    ListQuestions,
    GetInterview,
    ListInterviews,
    GetInterviewLog,
    GetInterviewReport,
    GetAnswer,
    ListAnswers,
    ListEvaluations,
    GetEvaluation,
    ListReviews,
    GetChatSession,
    ListChatMessages,
    GetReplay,
    Protocol,
):
    """Every query the store answers."""
