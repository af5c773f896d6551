# bonemet-cds production image: slim Python, non-root, gunicorn, health check.
# `bonemet-cds serve` reads each request whole before a worker thread gets it and cuts slow clients off
# with 408 after the header and body deadlines below (docs/architecture.md, "Slow clients").
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BONEMET_DATABASE_URL=sqlite:////data/bonemet-cds.sqlite3 \
    BONEMET_HEADER_TIMEOUT_SECONDS=10 \
    BONEMET_BODY_TIMEOUT_SECONDS=30

WORKDIR /app
COPY pyproject.toml README.md ./
COPY cds_service ./cds_service
COPY hooks ./hooks
COPY fhir_mappings ./fhir_mappings
RUN pip install --no-cache-dir . \
 && useradd --system --uid 10001 --home-dir /app bonemet \
 && mkdir -p /data /site \
 && chown bonemet /data

USER bonemet
VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"

CMD ["bonemet-cds", "serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]
