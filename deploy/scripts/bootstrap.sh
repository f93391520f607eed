#!/usr/bin/env bash
# Makes a fresh machine ready: uv, the locked Python environment, and (for tests) the system
# packages. Prints one clear line for anything it cannot install itself.
set -euo pipefail
cd "$(dirname "$0")/../.."

need() { # command, what to install
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "error: '$1' not found. $2" >&2
  exit 1
}

ensure_uv() {
  if ! command -v uv >/dev/null 2>&1 && [ ! -x "$HOME/.local/bin/uv" ]; then
    need python3 "Install Python 3.11 (e.g. apt-get install -y python3.11)."
    echo "[setup] installing uv from PyPI" >&2
    python3 -m pip install --user --quiet uv
  fi
}

ensure_postgres_binaries() {
  # Tests start throwaway PostgreSQL clusters from Debian's binaries when no server is given.
  if [ -n "${TEST_DATABASE_URL:-}" ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing postgresql (Debian package)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "error: PostgreSQL server binaries not found. Install them (sudo apt-get install -y postgresql) or set TEST_DATABASE_URL." >&2
    exit 1
  fi
}

ensure_wrk() {
  # The HTTP load tool of `make bench` (and of its smoke test).
  command -v wrk >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing wrk (Debian package)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  else
    echo "error: wrk not found. Install it (sudo apt-get install -y wrk)." >&2
    exit 1
  fi
}

ensure_chromium() {
  # The console's browser test drives Debian's Chromium (Playwright's own download cannot run).
  command -v chromium >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing chromium (Debian package)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: chromium not found; the console's browser test will be skipped." >&2
  fi
}

ensure_java_and_maven() {
  # Only needed when we run Kafka ourselves.
  [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ] && return 0
  need java "Java 17+ is required to run the local Kafka broker: apt-get install -y openjdk-17-jre-headless (or set KAFKA_BOOTSTRAP_SERVERS)."
  need mvn "Maven is required to fetch the Kafka jars from Maven Central: apt-get install -y maven (or set KAFKA_BOOTSTRAP_SERVERS)."
}

ensure_uv
ensure_java_and_maven
if [ "${1:-}" = "--test" ] || [ "${1:-}" = "--bench" ]; then
  ensure_postgres_binaries
  ensure_wrk
  ensure_chromium
fi
