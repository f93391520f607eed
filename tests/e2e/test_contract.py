"""The OpenAPI contract against the running system: schemathesis with every check, 0 failures,
and a TypeScript client generated from the document that compiles."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from e2e_support import running_system, system_env
from interview_localinfra.system import ServiceGroup
from support import token

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]
HERE = Path(__file__).parent
SEED = 20261202
# What schemathesis creates (many candidates with one e-mail, say) stays in an organisation of
# its own: memory stores of later modules replay the shared log, and listings are per org.
ORG = "contract-test"
MAX_EXAMPLES = 10
NPM_CACHE = Path(os.environ.get("TS_CLIENT_CACHE", Path.home() / ".cache" / "interview-ts-client"))
TS_PACKAGES = ("openapi-typescript@7.13.0", "typescript@5.9.3")


@pytest.fixture(scope="module")
async def contract_system(kafka_bootstrap: str, postgres_dsn: str) -> AsyncIterator[ServiceGroup]:
    # Configured as a deployment would be: with a transcription endpoint the gateway takes
    # spoken answers (without one it answers 503 `transcription_unavailable`). Nothing answers
    # at that address; the evaluator's transcriber retries and dead-letters, off the request.
    env = system_env(kafka_bootstrap, {"TRANSCRIPTION_BASE_URL": "http://127.0.0.1:9/v1"})
    async with running_system(env, "memory", postgres_dsn) as group:
        yield group


def _base(system: ServiceGroup) -> str:
    return f"http://127.0.0.1:{system.env['PORT']}"


async def test_schemathesis_finds_no_failure(contract_system: ServiceGroup) -> None:
    base = _base(contract_system)
    # The coverage phase is left out: its boundary values send one Idempotency-Key with
    # different bodies, which is the documented 422 (and the map_headers hook that gives every
    # generated request a fresh key does not reach that phase).
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(HERE / "schemathesis.toml"),
        "run", f"{base}/openapi.json", "--checks", "all", "--phases", "examples,fuzzing,stateful",
        "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
        "--header", f"Authorization: Bearer {token(org=ORG, ttl_s=3600)}",
        "--request-timeout", "20",
    ]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "st_hooks", "PYTHONPATH": str(HERE)}
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env
    )
    output, _ = await asyncio.wait_for(process.communicate(), 900)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-20000:]


async def test_a_typescript_client_generated_from_the_schema_compiles(
    contract_system: ServiceGroup, tmp_path: Path
) -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed to generate the TypeScript client")
    async with httpx.AsyncClient(timeout=10) as client:
        schema = (await client.get(f"{_base(contract_system)}/openapi.json")).json()
    (tmp_path / "openapi.json").write_text(json.dumps(schema))
    await asyncio.to_thread(_install_ts_tools, npm)
    bin_dir = NPM_CACHE / "node_modules" / ".bin"
    _run([str(bin_dir / "openapi-typescript"), "openapi.json", "-o", "api.d.ts"], tmp_path)
    (tmp_path / "client.ts").write_text(CLIENT)
    _run(
        [str(bin_dir / "tsc"), "--strict", "--noEmit", "--target", "es2022",
         "--moduleResolution", "node", "client.ts"],
        tmp_path,
    )  # fmt: skip


def _install_ts_tools(npm: str) -> None:
    """openapi-typescript and tsc, pinned, in a cache directory outside the repository."""
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    if (NPM_CACHE / "node_modules" / ".bin" / "tsc").exists():
        return
    (NPM_CACHE / "package.json").write_text('{"name": "ts-client-check", "private": true}')
    _run([npm, "install", "--no-audit", "--no-fund", "--silent", *TS_PACKAGES], NPM_CACHE)


def _run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{command[0]}: {result.stdout}\n{result.stderr}"


# What a frontend writes against the generated types: it must type-check.
CLIENT = """
import type { components, paths } from "./api";

type Interview = components["schemas"]["Interview"];
type Page = paths["/api/v1/interviews"]["get"]["responses"]["200"]["content"]["application/json"];
type ErrorBody = components["schemas"]["ErrorEnvelope"]["error"];

export function titles(page: Page): string[] {
  return page.items.map((interview: Interview) => interview.title);
}

export function explain(error: ErrorBody): string {
  return `${error.code}: ${error.message}`;
}
"""
