# One image recipe for the four services (api, store, evaluator, chat) and the topic tool.
#
#   docker build --build-arg SERVICE=store -t interview-store .
#   docker build --target runtime -t interview-tools .   # no service CMD, e.g. for the topics job
#
# Stages:
#   builder  installs the locked dependencies, then the workspace packages, into /app/.venv
#            (non-editable, so the virtualenv is self-contained and no source tree is shipped).
#   runtime  python slim + that virtualenv, non-root; runs any module of the workspace.
#   service  runtime + the CMD and HEALTHCHECK of the service named by the SERVICE build arg.
# SERVICE is declared only in the last stage, so all four service images share every layer
# above it: building them one after the other costs one dependency install.
#
# No `# syntax=` line: BuildKit's built-in Dockerfile frontend (Docker 20.10+) already knows
# RUN --mount, and a syntax line makes every build pull a frontend image from a registry, which
# an offline machine cannot (see deploy/compose/offline.yml).
#
# Settings come from the environment only (see .env.example): no .env file is copied into the
# image (.dockerignore excludes them) and no secret is baked in.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder

# Same uv as the one that wrote uv.lock; bump both together.
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# 1) Third-party dependencies from the lock file only: this layer is rebuilt when uv.lock or a
#    pyproject.toml changes, not on every source edit.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/
COPY deploy/pyproject.toml deploy/
# The benchmark harness is a dev-only member: its manifest is needed to read the lock, its code is not.
COPY bench/pyproject.toml bench/
COPY services/api/pyproject.toml services/api/
COPY services/store/pyproject.toml services/store/
COPY services/evaluator/pyproject.toml services/evaluator/
COPY services/chat/pyproject.toml services/chat/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace

# 2) The workspace packages themselves (shared, the four services, interview_localinfra).
COPY shared/ shared/
COPY deploy/ deploy/
COPY services/ services/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable


FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH="/app/.venv/bin:${PATH}"

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app

WORKDIR /app
COPY --from=builder --chown=root:root /app/.venv /app/.venv

# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001


FROM runtime AS service

# api | store | evaluator | chat  ->  python -m interview_<SERVICE>.main
ARG SERVICE=api
ENV INTERVIEW_SERVICE=${SERVICE} \
    INTERVIEW_MODULE=interview_${SERVICE}.main

# Fail the build, not the container, on a wrong SERVICE or a missing dependency.
RUN case "${SERVICE}" in api|store|evaluator|chat) ;; \
      *) echo "SERVICE must be api, store, evaluator or chat, not '${SERVICE}'" >&2; exit 1;; \
    esac \
    && python -c "import importlib, os; importlib.import_module(os.environ['INTERVIEW_MODULE'])"

# 8080 PORT (api), 8081 STORE_PORT, 8082 EVALUATOR_PORT, 8083 CHAT_PORT: the settings' defaults.
EXPOSE 8080 8081 8082 8083

# Readiness of this service on the port its settings read (the variable, else its default).
# urlopen raises on a connection error and on any non-2xx answer (503 = not ready).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=4 \
    CMD ["python", "-c", "import os, urllib.request; name, default = {'api': ('PORT', '8080'), 'store': ('STORE_PORT', '8081'), 'evaluator': ('EVALUATOR_PORT', '8082'), 'chat': ('CHAT_PORT', '8083')}[os.environ['INTERVIEW_SERVICE']]; port = os.environ.get(name) or default; urllib.request.urlopen(f'http://127.0.0.1:{port}/health/ready', timeout=4)"]

# exec: python becomes PID 1 and receives SIGTERM itself, for a graceful shutdown.
CMD ["/bin/sh", "-c", "exec python -m \"$INTERVIEW_MODULE\""]
