#!/usr/bin/env bash
# Containers on a machine without a Docker engine: podman behind a Docker-compatible socket, so the
# repository's own Dockerfiles and docker-compose.yml run unchanged (docs/containers.md).
#
#   scripts/containers.sh setup    install podman, configure it, start its Docker API socket, and
#                                  make a local Debian bookworm Python base image (prints each change)
#   scripts/containers.sh env      the environment to point docker-compose at it (eval "$(... env)")
#   scripts/containers.sh build    build every image of docker-compose.yml on that base
#   scripts/containers.sh stop     stop the API socket this script started
#
# Only `setup` changes the machine, and only what it prints. It needs root and apt-get (Debian).
# Where Docker Hub is reachable and a Docker engine runs, none of this is needed: `docker compose`
# builds on the official python:3.11-slim-bookworm image.
set -euo pipefail
cd "$(dirname "$0")/.."

SOCKET=${GLYPHGRID_PODMAN_SOCKET:-/run/glyphgrid-podman.sock}
BASE_IMAGE=${GLYPHGRID_BASE_IMAGE:-localhost/glyphgrid-python:3.11-bookworm}
CONTAINERS_CONF=/etc/containers/containers.conf
SERVICE_PID=${SOCKET%.sock}.pid
SERVICE_LOG=${SOCKET%.sock}.log
BUILD_LOCK=/run/glyphgrid-images.lock
PACKAGES=(podman runc uidmap slirp4netns fuse-overlayfs netavark aardvark-dns iptables mmdebstrap docker-compose)
# Where the machine's TLS bundle goes in the base image: pip, npm and Python inside the builds trust
# what the host trusts (a TLS-intercepting proxy's CA included).
CA_IN_IMAGE=/usr/local/share/glyphgrid/host-ca.crt

changed() { echo "containers: changed: $*"; }
say() { echo "containers: $*"; }

install_packages() {
  local missing=()
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "packages present: ${PACKAGES[*]}"
    return
  fi
  [ "$(id -u)" -eq 0 ] || { echo "containers: setup installs ${missing[*]} with apt-get and needs root" >&2; exit 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  changed "installed Debian packages ${missing[*]}"
}

# This kernel's sandbox refuses crun and podman's default rlimits; runc with explicit limits works.
# netavark with aardvark-dns lets services find each other by name (dask-worker -> dask-scheduler);
# Debian's default CNI backend has no DNS. netavark sets up the bridge with iptables, which apt does
# not pull in along with it.
configure_engine() {
  local wanted
  wanted=$'[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n\n[engine]\nruntime = "runc"\n\n[network]\nnetwork_backend = "netavark"'
  if [ -f "$CONTAINERS_CONF" ] && [ "$(cat "$CONTAINERS_CONF")" = "$wanted" ]; then
    say "$CONTAINERS_CONF already sets runtime runc and the ulimits"
    return
  fi
  if [ -f "$CONTAINERS_CONF" ] && [ ! -f "$CONTAINERS_CONF.before-glyphgrid" ]; then
    cp "$CONTAINERS_CONF" "$CONTAINERS_CONF.before-glyphgrid"
    changed "saved the previous $CONTAINERS_CONF as $CONTAINERS_CONF.before-glyphgrid"
  fi
  mkdir -p "$(dirname "$CONTAINERS_CONF")"
  printf '%s\n' "$wanted" > "$CONTAINERS_CONF"
  changed "wrote $CONTAINERS_CONF (runtime = runc; default_ulimits nofile 1024, nproc 4096; network_backend = netavark)"
}

service_running() {
  [ -S "$SOCKET" ] && curl -sf --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1
}

# A service whose working directory was deleted (a removed clone started it) still answers _ping but
# cannot start containers ("write child: broken pipe"): such a one is replaced.
service_orphaned() {
  [ -f "$SERVICE_PID" ] || return 1
  local cwd
  cwd=$(readlink "/proc/$(cat "$SERVICE_PID")/cwd" 2>/dev/null) || return 1
  [[ "$cwd" == *" (deleted)" ]]
}

start_service() {
  if service_running && service_orphaned; then
    say "the Docker API at $SOCKET runs in a deleted folder; restarting it"
    stop_service
  fi
  if service_running; then
    say "Docker API socket already answering at $SOCKET"
    return
  fi
  rm -f "$SOCKET"
  # No timeout: the socket serves until `stop` (or the machine's end). Started from / so that no
  # checkout's removal can pull the folder from under it.
  (cd / && exec nohup podman system service --time=0 "unix://$SOCKET" >"$SERVICE_LOG" 2>&1) &
  echo $! > "$SERVICE_PID"
  for _ in $(seq 1 100); do
    service_running && { changed "started podman's Docker API at unix://$SOCKET (pid $(cat "$SERVICE_PID"), log $SERVICE_LOG)"; return; }
    sleep 0.1
  done
  echo "containers: podman system service did not answer at $SOCKET; its log:" >&2
  cat "$SERVICE_LOG" >&2
  exit 1
}

# Docker Hub is out of reach here, so the official python image cannot be pulled: the same Debian
# release, with its Python 3.11, straight from the Debian archive.
make_base_image() {
  if podman image exists "$BASE_IMAGE"; then
    say "base image $BASE_IMAGE exists"
    return
  fi
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  mmdebstrap --quiet --variant=apt \
    --include=python3,python3-venv,python3-dev,python3-pip,python-is-python3,ca-certificates \
    --customize-hook="mkdir -p \"\$1$(dirname "$CA_IN_IMAGE")\"" \
    --customize-hook="copy-in /etc/ssl/certs/ca-certificates.crt $(dirname "$CA_IN_IMAGE")" \
    --customize-hook="mv \"\$1$(dirname "$CA_IN_IMAGE")/ca-certificates.crt\" \"\$1$CA_IN_IMAGE\"" \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    bookworm "$work/base.tar" http://deb.debian.org/debian
  podman import --quiet \
    --change "ENV SSL_CERT_FILE=$CA_IN_IMAGE" \
    --change "ENV PIP_CERT=$CA_IN_IMAGE" \
    --change "ENV REQUESTS_CA_BUNDLE=$CA_IN_IMAGE" \
    --change "ENV NODE_EXTRA_CA_CERTS=$CA_IN_IMAGE" \
    --change 'CMD ["python3"]' \
    "$work/base.tar" "$BASE_IMAGE" >/dev/null
  changed "made base image $BASE_IMAGE (Debian bookworm, python3 3.11, this machine's CA bundle at $CA_IN_IMAGE)"
}

print_env() {
  echo "export DOCKER_HOST=unix://$SOCKET"
  echo "export GLYPHGRID_PYTHON_IMAGE=$BASE_IMAGE"
}

build_images() {
  service_running || { echo "containers: no Docker API at $SOCKET: run scripts/containers.sh setup" >&2; exit 1; }
  eval "$(print_env)"
  # One build at a time (CI starts one early; the container test's own build then finds every layer
  # cached). Every image the compose file names, each once: several services share an image.
  exec 9>"$BUILD_LOCK"
  flock 9
  local began=$SECONDS
  docker-compose build ingest build primitives
  say "images built in $(( SECONDS - began )) s:"
  podman images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep glyphgrid
}

stop_service() {
  if [ -f "$SERVICE_PID" ] && kill "$(cat "$SERVICE_PID")" 2>/dev/null; then
    rm -f "$SERVICE_PID" "$SOCKET"
    changed "stopped podman's Docker API at $SOCKET"
  else
    say "no API socket started by this script is running"
  fi
}

case "${1:-}" in
  setup) install_packages; configure_engine; start_service; make_base_image
         say "ready in $SECONDS s; use it with: eval \"\$(scripts/containers.sh env)\"" ;;
  env) print_env ;;
  build) build_images ;;
  stop) stop_service ;;
  *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
