# spproxy container image: the proxy as a sidecar.
#
#   docker build -t spproxy .
#   docker run --rm -p 127.0.0.1:8000:8000 \
#     -e SPAPI_CLIENT_ID -e SPAPI_CLIENT_SECRET -e SPAPI_REFRESH_TOKEN -e SPAPI_REGION=na \
#     spproxy
#
# Inside the container spproxy listens on 0.0.0.0:8000 (SPPROXY_HOST and SPPROXY_PORT below;
# it must, to be reachable through the published port); publish it on the host's loopback only
# (127.0.0.1:8000:8000), or keep it inside the pod. -e SPPROXY_PORT=N moves the port, and the
# health check with it. Config: SPAPI_* variables, or a YAML file at /etc/spproxy/spproxy.yaml
# (the working directory, so ./spproxy.yaml finds it), or --config / $SPPROXY_CONFIG; its
# listen: section yields to these variables.
#
# BASE may be any Debian-like image with python3 (>= 3.11) and its venv module; both stages
# must use the same one, because the virtualenv built in the first is copied to the second.

ARG BASE=python:3.11-slim

# ---- build: a virtualenv holding spproxy and its dependencies -------------------------------
FROM ${BASE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
# .dockerignore lets through only pyproject.toml, README/LICENSE and the spproxy package.
COPY . .

# `python3 -m venv` works on python:3.x-slim (/usr/local/bin/python3) and on Debian's own
# python3 (/usr/bin/python3) alike. pip builds the spproxy wheel and installs it with the
# dependencies' binary wheels and the `speed` extra (uvloop, the event loop spproxy then runs
# on); then pip and setuptools leave the venv, which holds only what runs.
RUN python3 -m venv /opt/spproxy \
 && /opt/spproxy/bin/pip install --no-cache-dir '/src[speed]' \
 && /opt/spproxy/bin/pip uninstall --yes pip setuptools \
 && /opt/spproxy/bin/spproxy --version

# spproxy uses botocore only for SigV4 (botocore.auth, .awsrequest, .credentials), never a
# botocore client, so the per-service API models in botocore/data (~28 MB, most of the venv)
# are dead weight. Drop them, keep the top-level JSON files, and prove signing still works.
# --build-arg SLIM_BOTOCORE=0 keeps botocore whole.
ARG SLIM_BOTOCORE=1
RUN if [ "$SLIM_BOTOCORE" = 1 ]; then \
      data="$(/opt/spproxy/bin/python -c 'import botocore, os; print(os.path.dirname(botocore.__file__))')/data" \
      && find "$data" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} + ; \
    fi \
 && /opt/spproxy/bin/python -c "from botocore.auth import SigV4Auth; from botocore.awsrequest import AWSRequest; from botocore.credentials import Credentials; r = AWSRequest(method='GET', url='https://sellingpartnerapi-na.amazon.com/sellers/v1/marketplaceParticipations'); SigV4Auth(Credentials('AKIDEXAMPLE', 'secret'), 'execute-api', 'us-east-1').add_auth(r); assert r.headers['Authorization'].startswith('AWS4-HMAC-SHA256 ')"

# ---- runtime --------------------------------------------------------------------------------
FROM ${BASE}

ARG BASE
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="spproxy" \
      org.opencontainers.image.description="Local authenticating reverse proxy for Amazon's Selling Partner API" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${BASE}"

# spproxy serve listens on SPPROXY_HOST:SPPROXY_PORT (flags > environment > config file), and
# the health check asks SPPROXY_PORT: one variable moves both.
ENV PATH=/opt/spproxy/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LANG=C.UTF-8 \
    SPPROXY_HOST=0.0.0.0 \
    SPPROXY_PORT=8000

RUN groupadd --gid 10001 spproxy \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin --no-log-init spproxy

COPY --from=build /opt/spproxy /opt/spproxy

WORKDIR /etc/spproxy
USER 10001:10001

EXPOSE 8000

# Liveness without curl/wget: spproxy.probe asks
# http://127.0.0.1:${SPPROXY_PORT:-8000}/_spproxy/health (urllib, no proxy, 3 s) and exits 1 on
# a refused connection, a timeout or a non-200 answer. A --port flag would win over
# SPPROXY_PORT: set the variable instead, so the health check follows.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/opt/spproxy/bin/python", "-m", "spproxy.probe", "health"]

ENTRYPOINT ["spproxy"]
CMD ["serve"]
