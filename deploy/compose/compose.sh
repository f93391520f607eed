#!/usr/bin/env bash
# `make compose-up` / `make compose-down`: the docker-compose.yml stack, built and started
# detached, then waited for until the gateway answers /health/ready; or removed with its volumes.
# `compose.sh logs` prints the containers' states and last log lines.
#
# COMPOSE_OFFLINE: 1 = always add deploy/compose/offline.yml (stand-in images built from Debian
# packages), 0 = never, unset = add it only when the public images cannot be pulled.
# COMPOSE_WAIT_S: how long `up` waits for the gateway (default 600). GATEWAY_URL: where.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.local/bin:$PATH"

PROJECT=interview-backend # = `name:` in docker-compose.yml
CACHE_DIR=${COMPOSE_CACHE_DIR:-.cache/compose}
GATEWAY_URL=${GATEWAY_URL:-http://localhost:8080}
PROBE_IMAGE=apache/kafka:4.1.1 # the first public image the stack needs

log() { echo "[compose] $*" >&2; }

docker_can_buildkit() { # the Dockerfile needs BuildKit (RUN --mount)
  "$1" buildx version >/dev/null 2>&1 && return 0
  local major
  major=$("$1" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1)
  [ -n "$major" ] && [ "$major" -lt 23 ] # before 23 the CLI has BuildKit built in
}

# Compose v2 (`docker compose`) when installed; else Debian's Compose 1.29, which builds with
# the docker CLI only when told to, rejects the top-level `name:` and needs a CLI with BuildKit.
compose_command() {
  if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
    BASE_FILE=docker-compose.yml
    return
  fi
  command -v docker-compose >/dev/null || { echo "error: neither 'docker compose' nor 'docker-compose' found (apt-get install -y docker-compose)" >&2; exit 1; }
  export COMPOSE_DOCKER_CLI_BUILD=1 DOCKER_BUILDKIT=1
  if ! docker_can_buildkit docker; then
    local cli
    for cli in /usr/bin/docker /usr/local/bin/docker; do
      if [ -x "$cli" ] && docker_can_buildkit "$cli"; then
        mkdir -p "$CACHE_DIR/bin" && ln -sf "$cli" "$CACHE_DIR/bin/docker"
        PATH="$PWD/$CACHE_DIR/bin:$PATH"
        break
      fi
    done
  fi
  mkdir -p "$CACHE_DIR"
  BASE_FILE="$CACHE_DIR/docker-compose.v1.yml"
  sed '/^name:/d' docker-compose.yml >"$BASE_FILE"
  COMPOSE=(docker-compose --project-directory . -p "$PROJECT")
}

offline() {
  case "${COMPOSE_OFFLINE:-}" in
    1 | true | yes) return 0 ;;
    0 | false | no) return 1 ;;
  esac
  docker image inspect "$PROBE_IMAGE" >/dev/null 2>&1 && return 1
  log "pulling $PROBE_IMAGE to see whether registries answer"
  if timeout 120 docker pull -q "$PROBE_IMAGE" >/dev/null 2>&1; then return 1; fi
  log "$PROBE_IMAGE cannot be pulled: using the offline stand-ins (deploy/compose/offline.yml)"
  return 0
}

wait_for_gateway() {
  local deadline=$((SECONDS + ${COMPOSE_WAIT_S:-600}))
  until curl -fsS -o /dev/null --max-time 5 "$GATEWAY_URL/health/ready"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      "${COMPOSE[@]}" "${FILES[@]}" ps >&2 || true
      "${COMPOSE[@]}" "${FILES[@]}" logs --tail 40 >&2 || true
      echo "error: $GATEWAY_URL/health/ready did not answer within ${COMPOSE_WAIT_S:-600}s" >&2
      exit 1
    fi
    sleep 2
  done
  log "gateway healthy at $GATEWAY_URL (after ${SECONDS}s)"
}

# The gateway refuses to start without a key for user tokens: say so before building anything.
has_token_key() {
  [ -n "${JWT_SECRET:-}${JWT_JWKS_URL:-}" ] && return 0
  [ -f .env ] && grep -Eq '^(JWT_SECRET|JWT_JWKS_URL)=.+' .env
}

compose_command
FILES=(-f "$BASE_FILE")
case "${1:-}" in
  up)
    if ! has_token_key; then
      echo "error: set JWT_SECRET (or JWT_JWKS_URL) in the environment or .env, e.g." >&2
      echo '  echo "JWT_SECRET=$(openssl rand -hex 32)" >> .env' >&2
      exit 2
    fi
    if offline; then
      deploy/compose/offline-images.sh
      FILES+=(-f deploy/compose/offline.yml)
    fi
    "${COMPOSE[@]}" "${FILES[@]}" build
    "${COMPOSE[@]}" "${FILES[@]}" up -d
    wait_for_gateway
    ;;
  logs) # for a test that failed: what every container said
    "${COMPOSE[@]}" "${FILES[@]}" ps
    "${COMPOSE[@]}" "${FILES[@]}" logs --no-color --tail "${COMPOSE_LOG_LINES:-60}"
    ;;
  down)
    # The offline file adds no container or volume, so the base file names everything to remove.
    "${COMPOSE[@]}" "${FILES[@]}" down --volumes --remove-orphans
    ;;
  *)
    echo "usage: $0 up|down|logs" >&2
    exit 2
    ;;
esac
