"""Schemathesis hooks for the contract test: behave like a real client with Idempotency-Key.

The fuzzer would send the same minimal key ("0") with different bodies, which the gateway
answers with the documented 422 `idempotency_key_reused` (or replays the first response). A
real client uses a fresh key per distinct request, so each generated request gets one; reusing
a key is tested on its own (tests/e2e/test_security.py).
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis


@schemathesis.hook("map_headers")
def fresh_idempotency_keys(ctx: Any, headers: dict[str, Any] | None) -> dict[str, Any] | None:
    """A fresh Idempotency-Key for every generated request that carries one."""
    del ctx
    for name in list(headers or {}):
        if name.lower() == "idempotency-key" and headers is not None:
            headers[name] = uuid.uuid4().hex
    return headers
