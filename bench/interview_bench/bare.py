"""The P1 baseline: a bare FastAPI endpoint on uvicorn, same path, same body model, same answer
shape as the gateway's `POST /interviews/{id}/answers`, doing nothing else. Run the way the
services run (`uvicorn.run(app, log_config=None)`, same interpreter), with no logging configured.

    python -m interview_bench.bare --port 8999
"""

from __future__ import annotations

import argparse
import uuid

import uvicorn
from fastapi import FastAPI
from interview_api.schemas import Accepted, AnswerIn

app = FastAPI(title="bare endpoint")


@app.post("/api/v1/interviews/{interview_id}/answers", status_code=202)
async def submit_answer(interview_id: uuid.UUID, body: AnswerIn) -> Accepted:
    """Validate the body and answer 202, as the gateway does when the store is slow."""
    return Accepted(id=uuid.uuid4(), event_id=uuid.uuid4())


def main() -> None:
    """Serve the endpoint on 127.0.0.1:`--port`."""
    parser = argparse.ArgumentParser(prog="python -m interview_bench.bare")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None)


if __name__ == "__main__":
    main()
