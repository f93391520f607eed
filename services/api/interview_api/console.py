"""The browser console at `/console`: plain HTML and JavaScript, no build step.

It signs in with a bearer token (sent as `Authorization: Bearer …` on every call), creates a
candidate, questions and an interview, chats with the interviewer with tokens streaming in,
shows scores as they arrive and reads the report, all through the public API.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

CONSOLE_DIR = Path(__file__).parent / "console"


def mount_console(app: FastAPI) -> None:
    """Serve the console's files under /console (index.html at /console/)."""
    app.mount("/console", StaticFiles(directory=CONSOLE_DIR, html=True), name="console")
