# syntax=docker/dockerfile:1
# The registry service's image. Build from the repository's root (the context .dockerignore trims):
#   docker build -f deploy/images/registry.Dockerfile -t vigie-registry:0.1.0 .
#
# Builder: one virtual environment with the pinned dependencies and the core, SDK and tools
# distributions (the `vigie` command). The services' code is not installed there: it runs
# from /app, where its data files sit next to it as in the repository.
FROM python:3.11-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY core ./core
COPY sdk ./sdk
COPY tools ./tools
COPY services ./services
RUN python -m venv /opt/vigie \
    && /opt/vigie/bin/pip install -c constraints.txt "./core[runtime]" ./sdk ".[postgres]" ./tools \
    && /opt/vigie/bin/pip uninstall -y vigie-services

# Runtime: the environment and what the registry reads at run time, nothing else (no training code,
# no data sets, no tests). tests/integration/test_images.py starts the service from exactly
# the files these COPY lines name, as an unprivileged user on a read-only copy.
FROM python:3.11-slim-bookworm
COPY --from=builder /opt/vigie /opt/vigie
COPY services/__init__.py /app/services/
COPY services/common/__init__.py services/common/edges.py services/common/ops.py /app/services/common/
# The service with its migrations (`vigie db upgrade`, run before it starts).
COPY services/registry /app/services/registry
# The device catalogue (services/registry/devices/service.py).
COPY data/devices/fda_ai_devices.csv.gz /app/data/devices/
# A numeric user, so that Kubernetes can check runAsNonRoot. The registry's state is in its
# database; Kafka credentials and the audit signing key are mounted, never baked in.
RUN groupadd --system --gid 10001 vigie \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent vigie
USER 10001:10001
WORKDIR /app
ENV PATH=/opt/vigie/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/nonexistent \
    VIGIE_ENV=production
# The only writable path: scratch space. The root file system may be mounted read-only.
VOLUME ["/tmp"]
# The API, the dashboard and status pages (8001), metrics (8004).
EXPOSE 8001 8004
ENTRYPOINT ["vigie"]
CMD ["serve", "registry"]
