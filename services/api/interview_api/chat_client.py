"""The conversation state the chat service owns, as the gateway reads it (a read, never on the
accept or streaming path: posting a message and streaming its reply make no such call)."""

from __future__ import annotations

import uuid
from typing import Any, Protocol

import httpx
from interview_shared.auth import SERVICE_KEY_HEADER
from interview_shared.chat_views import ChatSessionView
from interview_shared.http import ApiError
from pydantic import SecretStr, TypeAdapter

_LIST: TypeAdapter[dict[str, list[ChatSessionView]]] = TypeAdapter(dict[str, list[ChatSessionView]])


class ChatSessions(Protocol):
    """Reads of chat sessions' state."""

    async def get(self, session_id: uuid.UUID) -> ChatSessionView | None:
        """One session, or None if the chat service does not know it."""
        ...

    async def list(
        self, *, org_id: str, interview_id: uuid.UUID | None, limit: int, offset: int
    ) -> list[ChatSessionView]:
        """Sessions of the organisation in the order they started."""
        ...


class HttpChatSessions:
    """`ChatSessions` over the chat service's internal API; open it with `async with`."""

    def __init__(
        self, base_url: str, *, service_key: SecretStr | None = None, timeout_s: float = 5.0
    ) -> None:
        self._base_url = base_url
        # The chat service's internal API, like the store's, takes only a service key.
        self._headers = {SERVICE_KEY_HEADER: service_key.get_secret_value()} if service_key else {}
        self._timeout_s = timeout_s
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> HttpChatSessions:
        self._http = httpx.AsyncClient(
            base_url=self._base_url, headers=self._headers, timeout=self._timeout_s
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response | None:
        if self._http is None:
            raise ApiError(503, "chat_unavailable", "The chat service client is not open.")
        try:
            response = await self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise ApiError(503, "chat_unavailable", "The chat service is unreachable.") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ApiError(
                503, "chat_unavailable", f"The chat service answered {response.status_code}."
            )
        return response

    async def get(self, session_id: uuid.UUID) -> ChatSessionView | None:
        response = await self._get(f"/internal/v1/chat/sessions/{session_id}")
        return None if response is None else ChatSessionView.model_validate_json(response.content)

    async def list(
        self, *, org_id: str, interview_id: uuid.UUID | None, limit: int, offset: int
    ) -> list[ChatSessionView]:
        params: dict[str, Any] = {"org_id": org_id, "limit": limit, "offset": offset}
        if interview_id is not None:
            params["interview_id"] = str(interview_id)
        response = await self._get("/internal/v1/chat/sessions", params)
        return [] if response is None else _LIST.validate_json(response.content)["items"]
