# syntax=docker/dockerfile:1
# The triage service's image. Build from the repository's root (the context .dockerignore trims):
#   docker build -f deploy/images/triage.Dockerfile -t vigie-triage:0.1.0 .
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

# Runtime: the environment and what triage reads at run time, nothing else (no training code,
# no data sets, no tests). tests/integration/test_images.py starts the service from exactly
# the files these COPY lines name, as an unprivileged user on a read-only copy.
FROM python:3.11-slim-bookworm
COPY --from=builder /opt/vigie /opt/vigie
COPY services/__init__.py /app/services/
COPY services/common/__init__.py services/common/edges.py services/common/ops.py /app/services/common/
COPY services/common/deid/__init__.py services/common/deid/engine.py services/common/deid/lexicon.py services/common/deid/names.py services/common/deid/patterns.py /app/services/common/deid/
COPY services/common/deid/lexicons /app/services/common/deid/lexicons
COPY services/triage/__init__.py services/triage/app.py services/triage/selfwatch.py services/triage/settings.py /app/services/triage/
COPY services/triage/reports /app/services/triage/reports
COPY services/triage/drift /app/services/triage/drift
COPY services/triage/model/__init__.py services/triage/model/artefact.py services/triage/model/category.py services/triage/model/features.py services/triage/model/imdrf.py services/triage/model/labels.py services/triage/model/lexicon.py services/triage/model/predictor.py services/triage/model/severity.py services/triage/model/text.py /app/services/triage/model/
# The trained model and the lexicons its features read.
COPY services/triage/model/artefact /app/services/triage/model/artefact
COPY services/triage/model/lexicons /app/services/triage/model/lexicons
# The scrubber's device names (services/common/deid/lexicon.py).
COPY data/devices/fda_ai_devices.csv.gz /app/data/devices/
# A numeric user, so that Kubernetes can check runAsNonRoot; it owns only its volume.
# Kafka credentials are never baked in: each container mounts its own principal's client file.
RUN groupadd --system --gid 10001 vigie \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent vigie \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/vigie
USER 10001:10001
WORKDIR /app
ENV PATH=/opt/vigie/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/nonexistent \
    VIGIE_ENV=production \
    VIGIE_TRIAGE_SELF_SPOOL=/var/lib/vigie/triage-telemetry.spool \
    VIGIE_DRIFT_STATE_DIR=/var/lib/vigie/drift
# The only writable paths: the self-telemetry spool (and the file drift store, when chosen),
# and scratch space. The root file system may be mounted read-only.
VOLUME ["/var/lib/vigie", "/tmp"]
# Metrics (8002) and /healthz, /readyz (8005).
EXPOSE 8002 8005
ENTRYPOINT ["vigie"]
CMD ["serve", "triage"]
