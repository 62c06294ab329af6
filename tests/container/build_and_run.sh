#!/usr/bin/env bash
# Build the spproxy image with podman and check it end to end against the built-in emulator.
#
# Not run by CI: it needs root, podman, slirp4netns and (unless BASE_IMAGE already exists)
# debootstrap. It pulls no image from a registry: the base is a Debian bookworm rootfs made
# with debootstrap and imported as BASE_IMAGE; the Dockerfile's BASE build argument points at
# it. Only the Debian mirror and PyPI are needed.
#
#   sudo tests/container/build_and_run.sh
#
# Environment knobs:
#   BASE_IMAGE       local base image to use or create (localhost/debian-python:bookworm)
#   IMAGE            tag for the built image (localhost/spproxy:dev)
#   DEBIAN_MIRROR    mirror for debootstrap (http://deb.debian.org/debian)
#   PYTHON           host python with spproxy importable, runs the emulator (.venv/bin/python)
#   PORT             host loopback port the proxy is published on (8000)
#   EXTRA_CA_BUNDLE  a CA bundle pip must trust during the build (TLS-intercepting egress);
#                    mounted for the build only, never baked into the image
#   PODMAN_RUN_OPTS  extra `podman run` options, e.g. for a VM where the OCI runtime may not
#                    raise rlimits or cgroups are hybrid:
#                    "--runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096"
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BASE_IMAGE=${BASE_IMAGE:-localhost/debian-python:bookworm}
IMAGE=${IMAGE:-localhost/spproxy:dev}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
PORT=${PORT:-8000}
EMU_PORT=18001         # emulator, no SigV4 check
SIGNED_EMU_PORT=18002  # emulator that demands SigV4
read -r -a RUN_OPTS <<<"${PODMAN_RUN_OPTS:-}"
# The container reaches the host's loopback (where the emulators listen) as 10.0.2.2.
NET=(--network slirp4netns:allow_host_loopback=true)
HOST_FROM_CONTAINER=10.0.2.2

WORK=$(mktemp -d)
EMU_PID=
CONTAINERS=(spproxy-ct-plain spproxy-ct-signed)
cleanup() {
    for c in "${CONTAINERS[@]}"; do podman rm -f "$c" >/dev/null 2>&1 || true; done
    if [[ -n $EMU_PID ]]; then kill "$EMU_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
# podman without its complaints about the missing systemd (healthcheck timers); keeps the status.
pm() { podman "$@" 2> >(grep -v systemd >&2); }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

# ---- 1. base image -------------------------------------------------------------------------
if podman image exists "$BASE_IMAGE"; then
    step "base image $BASE_IMAGE exists"
else
    step "debootstrap bookworm -> $BASE_IMAGE"
    rootfs=$WORK/rootfs
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$rootfs" "$DEBIAN_MIRROR"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
    tar -C "$rootfs" -c . |
        podman import --change 'CMD ["python3"]' --change 'ENV LANG=C.UTF-8' - "$BASE_IMAGE"
    rm -rf "$rootfs"
fi

# ---- 2. build ------------------------------------------------------------------------------
step "build $IMAGE"
build_opts=(--isolation chroot --format docker --build-arg "BASE=$BASE_IMAGE")
if [[ -n ${EXTRA_CA_BUNDLE:-} ]]; then
    printf '[global]\ncert = /etc/ssl/certs/build-extra-ca.crt\n' >"$WORK/pip.conf"
    build_opts+=(-v "$WORK/pip.conf:/etc/pip.conf:ro"
                 -v "$EXTRA_CA_BUNDLE:/etc/ssl/certs/build-extra-ca.crt:ro")
fi
# --format docker: the OCI image format has no HEALTHCHECK; podman would drop it.
podman build "${build_opts[@]}" -t "$IMAGE" "$ROOT"
podman image ls "$IMAGE"

# ---- 3. no configuration: exit 2, one line -------------------------------------------------
step "no configuration -> exit 2"
set +e
out=$(pm run "${RUN_OPTS[@]}" --rm "$IMAGE" 2>&1)
status=$?
set -e
echo "$out"
[[ $status == 2 ]] || fail "expected exit 2, got $status"

# ---- 4. emulators on the host's loopback ---------------------------------------------------
step "emulators on 127.0.0.1:$EMU_PORT and :$SIGNED_EMU_PORT"
"$PYTHON" - "$EMU_PORT" "$SIGNED_EMU_PORT" >"$WORK/emulator.log" 2>&1 <<'EOF' &
import asyncio, sys
from aiohttp import web
from spproxy.emulator import make_emulator_app
from spproxy.emulator.state import EmulatorConfig

async def main() -> None:
    signed = EmulatorConfig(aws_keys={"AKIDSPPROXYCT": "spproxy-container-test-secret"})
    for port, config in ((int(sys.argv[1]), None), (int(sys.argv[2]), signed)):
        runner = web.AppRunner(make_emulator_app(config), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()

asyncio.run(main())
EOF
EMU_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$EMU_PORT/" && break; sleep 0.2; done
eval "$("$PYTHON" -c '
import shlex
from spproxy.emulator.state import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN
for k, v in (("CID", DEMO_CLIENT_ID), ("CSECRET", DEMO_CLIENT_SECRET), ("RTOKEN", DEMO_REFRESH_TOKEN)):
    print(f"{k}={shlex.quote(v)}")
')"

wait_health() {  # url
    for _ in $(seq 50); do
        curl -fs -o /dev/null "$1" && return 0
        sleep 0.2
    done
    return 1
}

# ---- 5. default CMD, SPAPI_* variables, published on host loopback only --------------------
step "SPAPI_* variables, -p 127.0.0.1:$PORT:8000"
pm run "${RUN_OPTS[@]}" -d --name spproxy-ct-plain "${NET[@]}" -p "127.0.0.1:$PORT:8000" \
    -e SPAPI_CLIENT_ID="$CID" -e SPAPI_CLIENT_SECRET="$CSECRET" -e SPAPI_REFRESH_TOKEN="$RTOKEN" \
    -e SPAPI_REGION=na \
    -e SPAPI_ENDPOINT="http://$HOST_FROM_CONTAINER:$EMU_PORT" \
    -e SPAPI_LWA_ENDPOINT="http://$HOST_FROM_CONTAINER:$EMU_PORT/auth/o2/token" \
    "$IMAGE"
wait_health "http://127.0.0.1:$PORT/_spproxy/health" || {
    podman logs spproxy-ct-plain; fail "proxy did not become healthy"; }
echo "health: $(curl -s -w ' %{http_code}' "http://127.0.0.1:$PORT/_spproxy/health")"
answer=$(curl -si "http://127.0.0.1:$PORT/sellers/v1/marketplaceParticipations")
echo "$answer" | sed -n '1p;/^x-spproxy/Ip;$p' | cut -c1-160
grep -q '^HTTP/1.1 200' <<<"$answer" || fail "marketplaceParticipations not 200"
grep -q ATVPDKIKX0DER <<<"$answer" || fail "emulator payload missing"
podman logs spproxy-ct-plain 2>&1 | grep -q '; event loop uvloop$' ||
    fail "the start-up line does not say uvloop (the image installs spproxy[speed])"

pm healthcheck run spproxy-ct-plain || fail "HEALTHCHECK failed"
echo "HEALTHCHECK: ok ($(podman inspect spproxy-ct-plain --format '{{.State.Health.Status}}'))"
uid=$(pm exec spproxy-ct-plain id -u)
echo "id: $(pm exec spproxy-ct-plain id)"
[[ $uid == 10001 ]] || fail "runs as uid $uid"

start=$EPOCHREALTIME
pm stop -t 10 spproxy-ct-plain >/dev/null
took=$(awk "BEGIN { printf \"%.2f\", $EPOCHREALTIME - $start }")
code=$(podman inspect spproxy-ct-plain --format '{{.State.ExitCode}}')
echo "SIGTERM: exit $code after ${took}s"
[[ $code == 0 ]] || fail "exit status $code after SIGTERM"
podman logs spproxy-ct-plain 2>&1 | tail -3 || true

# ---- 6. YAML config from the working directory, *_file secrets, SigV4 ----------------------
step "./spproxy.yaml in /etc/spproxy, *_file secrets, SigV4 against a checking emulator"
mkdir -p "$WORK/config" "$WORK/secrets"
cat >"$WORK/config/spproxy.yaml" <<EOF
lwa:
  client_id: \${SPAPI_CLIENT_ID}
  client_secret_file: /run/secrets/lwa_client_secret
  endpoint: http://$HOST_FROM_CONTAINER:$SIGNED_EMU_PORT/auth/o2/token
aws:
  access_key_id: AKIDSPPROXYCT
  secret_access_key_file: /run/secrets/aws_secret_access_key
accounts:
  main:
    refresh_token_file: /run/secrets/refresh_token
    region: na
    endpoint: http://$HOST_FROM_CONTAINER:$SIGNED_EMU_PORT
EOF
printf '%s' "$CSECRET" >"$WORK/secrets/lwa_client_secret"
printf '%s' "$RTOKEN" >"$WORK/secrets/refresh_token"
printf '%s' spproxy-container-test-secret >"$WORK/secrets/aws_secret_access_key"
# The proxy runs as uid 10001: secret files must be readable by it.
chmod 0755 "$WORK/config" "$WORK/secrets"
chmod 0644 "$WORK"/config/* "$WORK"/secrets/*
chmod 0755 "$WORK"
pm run "${RUN_OPTS[@]}" -d --name spproxy-ct-signed "${NET[@]}" -p "127.0.0.1:$PORT:8000" \
    -e SPAPI_CLIENT_ID="$CID" \
    -v "$WORK/config:/etc/spproxy:ro" -v "$WORK/secrets:/run/secrets:ro" \
    "$IMAGE"
wait_health "http://127.0.0.1:$PORT/_spproxy/health" || {
    podman logs spproxy-ct-signed; fail "signed proxy did not become healthy"; }
podman logs spproxy-ct-signed 2>&1 | head -1 || true
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/sellers/v1/marketplaceParticipations")
echo "signed marketplaceParticipations: $code"
[[ $code == 200 ]] || fail "signed request got $code"
pm stop spproxy-ct-signed >/dev/null

step "image"
podman image inspect "$IMAGE" --format 'size {{.Size}} bytes; user {{.Config.User}}'
echo "all checks passed"
