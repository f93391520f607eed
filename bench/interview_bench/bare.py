"""The P1 baseline: a bare FastAPI endpoint on uvicorn, same path, same body model, same answer
shape as the gateway's `POST /interviews/{id}/answers`, doing nothing else. Run the way the
services run (`uvicorn.run(app, log_config=None)`, same interpreter), with no logging configured.

    PORT=8999 python -m interview_bench.bare
"""

from __future__ import annotations

import os
import uuid

import uvicorn
from fastapi import FastAPI
from interview_api.schemas import Accepted, AnswerIn

app = FastAPI(title="bare endpoint")


@app.post("/api/v1/interviews/{interview_id}/answers", status_code=202)
async def submit_answer(interview_id: uuid.UUID, body: AnswerIn) -> Accepted:
    """Validate the body and answer 202, as the gateway does when the store is slow."""
    return Accepted(id=uuid.uuid4(), event_id=uuid.uuid4())


@app.get("/health/ready")
async def ready() -> dict[str, str]:
    """For the launcher's readiness wait, as the services have it (not loaded)."""
    return {"status": "ok"}


def main() -> None:
    """Serve the endpoint on 127.0.0.1:$PORT."""
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_config=None)


if __name__ == "__main__":
    main()
