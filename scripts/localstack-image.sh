#!/usr/bin/env bash
# A Docker engine and a LocalStack image built locally, for the `container` backend.
#
#   scripts/localstack-image.sh engine   install the Docker engine from Debian's packages (once)
#                                        and start dockerd when none answers
#   scripts/localstack-image.sh image    build the LocalStack image when it does not exist yet;
#                                        prints its name:tag
#   scripts/localstack-image.sh all      both (the default)
#
# No image registry is reachable on our machines, so the image is built from a Debian rootfs
# (debootstrap) and the same pinned wheels as the host backend (../shared/FACTS.md has the recipe
# and its timings: about 2.5 minutes). A user with registry access can skip this and point
# LOGLAB_LOCALSTACK_IMAGE at the public image (localstack/localstack:4.9.2).
set -euo pipefail

LOCALSTACK_VERSION=4.9.2
PINS=("localstack-core[runtime]==${LOCALSTACK_VERSION}" 'cbor2<5.7' 'cryptography>=42,<44' 'pyopenssl==24.2.1' service_identity 'joserfc<1.8' 'psutil<7.2')
# The tag names the LocalStack version and the revision of this recipe (r2: psutil<7.2).
IMAGE=${LOGLAB_LOCALSTACK_IMAGE:-loglab/localstack:${LOCALSTACK_VERSION}-r2}
CACHE=${LOGLAB_CACHE:-$HOME/.cache/loglab}
DOCKERD_LOG="$CACHE/dockerd.log"

log() { echo "localstack-image: $*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

engine_answers() { docker info >/dev/null 2>&1; }

engine() {
  if engine_answers; then return 0; fi
  if ! command -v dockerd >/dev/null 2>&1; then
    log "installing the Docker engine from Debian's packages (docker.io)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq docker.io >/dev/null
  fi
  mkdir -p "$CACHE"
  log "starting dockerd (log: $DOCKERD_LOG)"
  as_root sh -c "nohup dockerd >'$DOCKERD_LOG' 2>&1 &"
  for _ in $(seq 1 120); do
    if engine_answers; then log "Docker engine ready"; return 0; fi
    sleep 0.5
  done
  log "dockerd did not answer within 60 s; last lines of $DOCKERD_LOG:"
  tail -n 30 "$DOCKERD_LOG" >&2
  return 1
}

image() {
  engine
  if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    log "image $IMAGE exists; reusing it"
    echo "$IMAGE"
    return 0
  fi
  command -v debootstrap >/dev/null 2>&1 || {
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq debootstrap >/dev/null
  }
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/loglab-image.XXXXXX")
  trap 'as_root rm -rf "$work"' RETURN
  log "building $IMAGE in $work (about 2.5 minutes)"
  log "debootstrap bookworm (minbase + python3)"
  as_root debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$work/root" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    return 1
  }
  log "downloading the pinned wheels on the host"
  python3 -m pip download --quiet --disable-pip-version-check -d "$work/root/opt/wheels" "${PINS[@]}"
  log "installing LocalStack into the rootfs"
  as_root chroot "$work/root" python3 -m venv /opt/localstack
  as_root chroot "$work/root" /opt/localstack/bin/pip install --quiet --disable-pip-version-check \
    --no-index --find-links /opt/wheels "${PINS[@]}"
  as_root rm -rf "$work/root/opt/wheels"
  log "importing the rootfs as $IMAGE"
  as_root tar -C "$work/root" -c . | docker import \
    -c 'ENV PATH=/opt/localstack/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV GATEWAY_LISTEN=0.0.0.0:4566' \
    -c 'ENV DNS_ADDRESS=0' \
    -c 'ENV DISABLE_EVENTS=1' \
    -c 'ENV SKIP_SSL_CERT_DOWNLOAD=1' \
    -c 'EXPOSE 4566' \
    -c 'CMD ["/opt/localstack/bin/python","-m","localstack.runtime.main"]' \
    - "$IMAGE" >/dev/null
  log "built $IMAGE"
  echo "$IMAGE"
}

case "${1:-all}" in
  engine) engine ;;
  image | all) image ;;
  *) echo "usage: $0 engine|image|all" >&2; exit 2 ;;
esac
