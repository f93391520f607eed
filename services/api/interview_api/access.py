"""Who may call the operator routes (rubric changes, replays, reviews, erasure).

One dependency, so that the role check the auth work brings is a change to this function only:
until the gateway authenticates callers, every caller is let through.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends


async def require_admin() -> None:
    """Refuse a caller without the admin role (no roles exist yet: allows everyone)."""


AdminDep = Annotated[None, Depends(require_admin)]
