"""Authorization: every route goes through the policy; organisations and roles are enforced."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from interview_api.auth import authenticate
from interview_api.main import create_app
from interview_api.policy import GUARDS
from interview_api.settings import GatewaySettings
from interview_shared.events import AnswerEvaluated, Lineage
from support import TEST_JWT_SECRET, bearer
from test_gateway_http import (
    API,
    Gateway,
    created,
    error_of,
    in_progress,
    move,
)

# /console is static HTML and JavaScript: it holds no data, and sends the token the user pastes.
PUBLIC = ("/health/", "/metrics", "/docs", "/redoc", "/openapi.json", "/asyncapi", "/console")
OTHER_ORG = bearer(org="globex")


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def test_every_route_is_authenticated_and_every_path_object_guarded() -> None:
    app = create_app(GatewaySettings(jwt_secret=TEST_JWT_SECRET))
    api_routes = 0
    for context in iter_route_contexts(app.routes):
        path, route = context.path or "", context.original_route
        if not path.startswith(API):
            assert path.startswith(PUBLIC), f"{path} is neither API nor public"
            continue
        assert isinstance(route, APIRoute)
        api_routes += 1
        calls = set(_calls(route.dependant))
        assert authenticate in calls, f"{route.methods} {path} skips authentication"
        guarded = {GUARDS[call] for call in calls if call in GUARDS}
        for param in re.findall(r"{(\w+)}", path):
            assert param in guarded, f"{route.methods} {path}: {param} is not checked"
    assert api_routes >= 19


# ---- organisations -----------------------------------------------------------------------------


async def _world(gw: Gateway) -> dict[str, str]:
    """One of everything in the default organisation; returns their ids."""
    scheduled = await in_progress(gw.client)
    answer = await gw.client.post(
        f"{API}/interviews/{scheduled['id']}/answers",
        json={"question_id": scheduled["question_ids"][0], "text": "A lock."},
    )
    chat = await created(gw.client, "/chat/sessions", {"interview_id": scheduled["id"]})
    replay = (await gw.client.post(f"{API}/replays", json={"scope": {}})).json()
    verdict = _evaluated({"answer": answer.json()["id"], "interview": scheduled["id"],
                          "question": scheduled["question_ids"][0]})  # fmt: skip
    await gw.store.apply([verdict])
    return {
        "interview": scheduled["id"],
        "candidate": scheduled["candidate_id"],
        "question": scheduled["question_ids"][0],
        "answer": answer.json()["id"],
        "chat": chat["id"],
        "replay": replay["id"],
        "evaluation": str(verdict.evaluation_id),
    }


def _object_routes(ids: dict[str, str]) -> list[tuple[str, str, Any]]:
    i, c, q, a, s = ids["interview"], ids["candidate"], ids["question"], ids["answer"], ids["chat"]
    return [
        ("GET", f"/candidates/{c}", None),
        ("GET", f"/candidates/{c}/cv-analyses", None),
        ("POST", f"/candidates/{c}/cv-analyses", {"summary": "x"}),
        ("GET", f"/questions/{q}", None),
        ("GET", f"/interviews/{i}", None),
        ("PATCH", f"/interviews/{i}", {"status": "COMPLETED"}),
        ("GET", f"/interviews/{i}/log", None),
        ("GET", f"/interviews/{i}/report", None),
        ("GET", f"/interviews/{i}/answers", None),
        ("POST", f"/interviews/{i}/answers", {"question_id": q, "text": "Mine."}),
        ("GET", f"/interviews/{i}/events", None),
        ("GET", f"/answers/{a}", None),
        ("GET", f"/chat/sessions/{s}/messages", None),
        ("POST", f"/chat/sessions/{s}/messages", {"content": "Hi"}),
        ("POST", "/chat/sessions", {"interview_id": i}),
        # Added by later issues: every one goes through the policy as well.
        ("GET", f"/chat/sessions/{s}", None),
        ("POST", f"/chat/sessions/{s}/close", None),
        ("GET", f"/chat/sessions?interview_id={i}", None),
        ("PUT", f"/questions/{q}/rubric", {"criteria": RUBRIC}),
        ("POST", f"/candidates/{c}/cv", None),
        ("GET", f"/candidates/{c}/suggested-questions", None),
        ("GET", f"/replays/{ids['replay']}", None),
        ("POST", f"/evaluations/{ids['evaluation']}/reviews", {"score": 50}),
    ]


RUBRIC = [{"name": "accuracy", "weight": 1.0}]
STAFF_ONLY = (
    "cv-analyses",
    "/cv",
    "/questions/",
    "/report",
    "/suggested-questions",
    "/replays",
    "/reviews",
)
"""Path parts of the routes a candidate gets 403 on before anything is looked up."""


async def test_another_organisation_gets_404_on_every_object_and_empty_listings(
    gw: Gateway,
) -> None:
    ids = await _world(gw)
    for method, path, body in _object_routes(ids):
        response = await gw.client.request(method, f"{API}{path}", json=body, headers=OTHER_ORG)
        assert response.status_code == 404, (method, path, response.text)
        assert error_of(response)["code"] == "not_found"
    listings = (
        "/candidates",
        "/questions",
        "/questions?similar_to=lock",
        "/interviews",
        "/reviews",
    )
    for listing in (*listings, "/evaluations"):
        response = await gw.client.get(f"{API}{listing}", headers=OTHER_ORG)
        assert response.status_code == 200, listing
        assert response.json()["items"] == [], listing
    # Referring to another organisation's objects in a body is "not found" as well.
    body = {"candidate_id": ids["candidate"], "title": "T", "question_ids": [ids["question"]]}
    response = await gw.client.post(f"{API}/interviews", json=body, headers=OTHER_ORG)
    assert response.status_code == 404
    assert (await gw.client.get(f"{API}/interviews/{ids['interview']}")).status_code == 200


async def test_what_an_organisation_creates_belongs_to_it(gw: Gateway) -> None:
    person = await created(gw.client, "/candidates", {"name": "Ann", "email": "ann@globex.io"})
    response = await gw.client.post(
        f"{API}/candidates", json={"name": "G", "email": "g@globex.io"}, headers=OTHER_ORG
    )
    assert response.status_code == 201
    mine = (await gw.client.get(f"{API}/candidates", headers=OTHER_ORG)).json()["items"]
    assert [c["id"] for c in mine] == [response.json()["id"]]
    assert mine[0]["org_id"] == "globex"
    assert person["org_id"] == "default"


# ---- candidates --------------------------------------------------------------------------------


async def test_a_candidate_reaches_its_own_interview_but_never_a_score(gw: Gateway) -> None:
    ids = await _world(gw)
    me = bearer("candidate", candidate_id=ids["candidate"])
    await gw.store.apply([_evaluated(ids)])
    staff_view = (await gw.client.get(f"{API}/answers/{ids['answer']}")).json()
    assert staff_view["evaluation"]["score"] == 80

    for path in (f"/interviews/{ids['interview']}", f"/candidates/{ids['candidate']}"):
        assert (await gw.client.get(f"{API}{path}", headers=me)).status_code == 200, path
    answer = (await gw.client.get(f"{API}/answers/{ids['answer']}", headers=me)).json()
    assert answer["evaluation"] is None
    listed = await gw.client.get(f"{API}/interviews/{ids['interview']}/answers", headers=me)
    assert [a["evaluation"] for a in listed.json()["items"]] == [None]
    log = (await gw.client.get(f"{API}/interviews/{ids['interview']}/log", headers=me)).json()
    assert [entry["score"] for entry in log] == [None]
    mine = (await gw.client.get(f"{API}/interviews", headers=me)).json()["items"]
    assert [i["id"] for i in mine] == [ids["interview"]]

    # It answers and chats in its own interview.
    q = ids["question"]
    answered = await gw.client.post(
        f"{API}/interviews/{ids['interview']}/answers",
        json={"question_id": q, "text": "Mine."},
        headers=me,
    )
    assert answered.status_code == 202, answered.text
    chat = await gw.client.post(
        f"{API}/chat/sessions", json={"interview_id": ids["interview"]}, headers=me
    )
    assert chat.status_code == 201, chat.text
    posted = await gw.client.post(
        f"{API}/chat/sessions/{chat.json()['id']}/messages", json={"content": "Hi"}, headers=me
    )
    assert posted.status_code == 202


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/evaluations", None),
        ("GET", "/interviews/{interview}/report", None),
        ("GET", "/candidates", None),
        ("GET", "/questions", None),
        ("GET", "/questions/{question}", None),
        ("GET", "/candidates/{candidate}/cv-analyses", None),
        ("POST", "/candidates", {"name": "Me", "email": "me@example.com"}),
        ("POST", "/questions", {"text": "Easy?"}),
        ("POST", "/interviews", {"candidate_id": "{candidate}", "title": "T", "question_ids": []}),
        ("POST", "/candidates/{candidate}/cv-analyses", {"summary": "great"}),
        ("POST", "/candidates/{candidate}/cv", None),
        ("GET", "/candidates/{candidate}/suggested-questions", None),
        ("GET", "/questions?similar_to=lock", None),
        ("PUT", "/questions/{question}/rubric", {"criteria": RUBRIC}),
        ("POST", "/replays", {"scope": {}}),
        ("GET", "/replays/{replay}", None),
        ("GET", "/reviews", None),
        ("POST", "/evaluations/{evaluation}/reviews", {"score": 100}),
    ],
)
async def test_a_candidate_gets_403_on_scores_and_authoring(
    gw: Gateway, method: str, path: str, body: Any
) -> None:
    ids = await _world(gw)
    me = bearer("candidate", candidate_id=ids["candidate"])
    url = f"{API}{path.format(**ids)}"
    if isinstance(body, dict) and body.get("candidate_id"):
        body = {**body, "candidate_id": ids["candidate"], "question_ids": [ids["question"]]}
    response = await gw.client.request(method, url, json=body, headers=me)
    assert response.status_code == 403, response.text
    assert error_of(response)["code"] == "forbidden"


async def test_a_candidate_sees_nothing_of_another_candidate(gw: Gateway) -> None:
    ids = await _world(gw)
    stranger = bearer("candidate", candidate_id=uuid.uuid4())
    for method, path, body in _object_routes(ids):
        if any(part in path for part in STAFF_ONLY):
            continue  # staff-only routes: 403 before any lookup
        response = await gw.client.request(method, f"{API}{path}", json=body, headers=stranger)
        assert response.status_code == 404, (method, path, response.text)
    assert (await gw.client.get(f"{API}/interviews", headers=stranger)).json()["items"] == []
    assert (await move(gw.client, ids["interview"], "COMPLETED")).status_code == 200


def _evaluated(ids: dict[str, str]) -> AnswerEvaluated:
    return AnswerEvaluated(
        answer_id=uuid.UUID(ids["answer"]),
        interview_id=uuid.UUID(ids["interview"]),
        question_id=uuid.UUID(ids["question"]),
        score=80,
        lineage=Lineage(
            scorer="offline", scorer_version="1", rubric_version="v1", evaluator_version="1"
        ),
    )


async def test_interviewers_do_what_admins_do_in_their_org(gw: Gateway) -> None:
    interviewer = bearer("interviewer")
    response = await gw.client.post(f"{API}/questions", json={"text": "Q?"}, headers=interviewer)
    assert response.status_code == 201
    listed = await gw.client.get(f"{API}/evaluations", headers=interviewer)
    assert listed.status_code == 200


async def test_only_an_admin_changes_a_rubric(gw: Gateway) -> None:
    ids = await _world(gw)
    url = f"{API}/questions/{ids['question']}/rubric"
    refused = await gw.client.put(url, json={"criteria": RUBRIC}, headers=bearer("interviewer"))
    assert refused.status_code == 403, refused.text
    assert error_of(refused)["code"] == "forbidden"
    changed = await gw.client.put(url, json={"criteria": RUBRIC}, headers=bearer("admin"))
    assert changed.status_code == 200, changed.text


async def test_chat_sessions_are_listed_per_organisation_and_a_candidate_names_its_interview(
    gw: Gateway,
) -> None:
    ids = await _world(gw)
    me = bearer("candidate", candidate_id=ids["candidate"])
    response = await gw.client.get(f"{API}/chat/sessions", headers=me)
    assert response.status_code == 422
    assert error_of(response)["code"] == "interview_required"
