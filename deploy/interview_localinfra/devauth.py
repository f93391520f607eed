"""`make run` is never an open gateway: without JWT_SECRET it makes a development one.

The secret is kept in `.run/dev-jwt-secret` so tokens stay valid across restarts, and a ready
admin token (12 hours) is written to `.run/dev-token` for curl and the docs page.
"""

from __future__ import annotations

from pathlib import Path

from interview_shared.auth import Role, mint_token, new_secret
from interview_shared.domain import DEFAULT_ORG

DEV_TOKEN_TTL_S = 12 * 3600


def development_pii_key(env: dict[str, str], run_dir: Path) -> None:
    """Set a development PII_MASTER_KEY in `env` unless one is configured, kept in
    `.run/dev-pii-key` so the data keys on the log stay readable across restarts."""
    if not env.get("PII_MASTER_KEY"):
        env["PII_MASTER_KEY"] = _kept_secret(run_dir / "dev-pii-key")


def _kept_secret(path: Path) -> str:
    """A random secret kept (owner-only) in `path`, made on first use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(new_secret())
        path.chmod(0o600)
    return path.read_text().strip()


def development_auth(env: dict[str, str], run_dir: Path) -> str | None:
    """Set a development JWT_SECRET in `env` unless one (or a JWKS URL) is configured, and
    return an admin token for it; None when the operator brought their own keys."""
    if env.get("JWT_SECRET") or env.get("JWT_JWKS_URL"):
        return None
    env["JWT_SECRET"] = _kept_secret(run_dir / "dev-jwt-secret")
    token = admin_token(
        env["JWT_SECRET"],
        sub="dev-admin",
        issuer=env.get("JWT_ISSUER") or None,
        audience=env.get("JWT_AUDIENCE") or None,
    )
    token_file = run_dir / "dev-token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    return token


def admin_token(
    secret: str,
    *,
    sub: str,
    ttl_s: float = DEV_TOKEN_TTL_S,
    issuer: str | None = None,
    audience: str | None = None,
) -> str:
    """An admin of the default organisation (old events' organisation) signed with `secret`:
    the one token `make run`, `make bench` and `make faults` hand their own gateway."""
    return mint_token(
        secret,
        sub=sub,
        org=DEFAULT_ORG,
        role=Role.ADMIN,
        ttl_s=ttl_s,
        issuer=issuer,
        audience=audience,
    )
