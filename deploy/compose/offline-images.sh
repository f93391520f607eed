#!/usr/bin/env bash
# Builds the local base images that deploy/compose/offline.yml builds FROM, for a machine where
# no registry serves images (the public apache/kafka, postgres and python images cannot be
# pulled) but Debian's packages, PyPI and Maven Central can be reached:
#
#   interview-local/debian:bookworm   debootstrap --variant=minbase of Debian bookworm
#   interview-local/python:3.11       + Debian's python3.11, and the host's CA bundle for PyPI
#
# and stages what the Kafka stand-in's build context needs (the broker jars, from Maven Central
# via interview_localinfra). The slow steps are skipped when their result exists, so a warm run
# costs seconds; the rootfs tarball is cached under COMPOSE_CACHE_DIR (default .cache/compose).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.local/bin:$PATH" # uv, as in the Makefile

DOCKER=${DOCKER:-docker}
CACHE_DIR=${COMPOSE_CACHE_DIR:-.cache/compose}
DEBIAN_IMAGE=interview-local/debian:bookworm
PYTHON_IMAGE=interview-local/python:3.11
ROOTFS_TAR="$CACHE_DIR/debian-bookworm-minbase.tar"

log() { echo "[compose-offline] $*" >&2; }
have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

# The Debian mirror the host's apt uses: containers reach the same one.
debian_mirror() {
  local uri
  uri=$(grep -rhoE '^(URIs:|deb)\s+(\[[^]]*\]\s+)?https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | grep -oE 'https?://[^ ]+' | grep -vE 'security|updates' | grep -m1 -E '/debian/?$' || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

ensure_rootfs_tar() {
  [ -s "$ROOTFS_TAR" ] && return 0
  command -v debootstrap >/dev/null || { echo "error: debootstrap not found: apt-get install -y debootstrap" >&2; exit 1; }
  mkdir -p "$CACHE_DIR"
  local rootfs
  rootfs=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
  log "debootstrap bookworm from $(debian_mirror) (about 30 s, once)"
  debootstrap --variant=minbase bookworm "$rootfs" "$(debian_mirror)" >"$CACHE_DIR/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE_DIR/debootstrap.log" >&2; rm -rf "$rootfs"; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  # Written to a temporary name first: an interrupted run must not leave a truncated cache.
  tar -C "$rootfs" -cf "$ROOTFS_TAR.part" . && mv "$ROOTFS_TAR.part" "$ROOTFS_TAR"
  rm -rf "$rootfs"
}

ensure_debian_image() {
  have_image "$DEBIAN_IMAGE" && return 0
  ensure_rootfs_tar
  log "importing $DEBIAN_IMAGE"
  "$DOCKER" import --change 'CMD ["/bin/bash"]' "$ROOTFS_TAR" "$DEBIAN_IMAGE" >/dev/null
}

ensure_python_image() {
  # Built every time (a layer-cache hit costs about a second), so an edit of its Dockerfile or
  # a new host CA bundle takes effect. PyPI's certificate chain is checked against the host's
  # bundle (it may hold a local CA).
  cp /etc/ssl/certs/ca-certificates.crt deploy/compose/python/host-ca-certificates.crt
  log "building $PYTHON_IMAGE"
  DOCKER_BUILDKIT=1 "$DOCKER" build -q -t "$PYTHON_IMAGE" deploy/compose/python >/dev/null
}

ensure_kafka_context() {
  # The stand-in broker runs the same jars as `make run` (deploy/kafka/pom.xml); hard links,
  # not copies, when the cache and the repo share a file system.
  local libs
  libs=$(uv run --frozen python -c 'from interview_localinfra.kafka import ensure_kafka_jars; print(ensure_kafka_jars())')
  rm -rf deploy/compose/kafka/libs
  cp -al "$libs" deploy/compose/kafka/libs 2>/dev/null || cp -a "$libs" deploy/compose/kafka/libs
}

ensure_debian_image
ensure_python_image
ensure_kafka_context
