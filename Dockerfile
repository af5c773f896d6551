# bonemet-cds production image: non-root (numeric user), gunicorn, health check, every Python package from
# the hash-pinned requirements.lock (the same file `make run` installs from).
# `bonemet-cds serve` reads each request whole before a worker thread gets it and cuts slow clients off
# with 408 after the header and body deadlines below (docs/architecture.md, "Slow clients").
#
# BASE is any image with Python 3.11 and its venv module: the official slim image by default, or a base
# assembled from Debian packages (scripts/build-image.sh builds one with debootstrap, for machines that
# pull no images).
ARG BASE=python:3.11-slim
FROM ${BASE}
# An offline build points pip at a local wheelhouse (PIP_NO_INDEX=1, PIP_FIND_LINKS=/wheelhouse); the hashes
# in requirements.lock are checked either way.
ARG PIP_NO_INDEX
ARG PIP_FIND_LINKS

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    HOME=/app \
    BONEMET_DATABASE_URL=sqlite:////data/bonemet-cds.sqlite3 \
    BONEMET_HEADER_TIMEOUT_SECONDS=10 \
    BONEMET_BODY_TIMEOUT_SECONDS=30

WORKDIR /app
COPY requirements.lock ./
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY cds_service ./cds_service
COPY hooks ./hooks
COPY fhir_mappings ./fhir_mappings
RUN /opt/venv/bin/pip install --no-deps . \
 && mkdir -p /data /site \
 && chown 10001:10001 /data

# Numeric, so Kubernetes' runAsNonRoot can check it without a passwd entry.
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD python3 -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"

CMD ["bonemet-cds", "serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]
