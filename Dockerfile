# syntax=docker/dockerfile:1
# creditnode: one image for the five services; Kubernetes picks one with `python -m services.<name>`.
# Build: docker build -t creditnode:0.1.0 .     Check (no engine needed): tools/k8s_check.sh (hadolint).

# ---- builder: the pinned runtime dependencies, from wheels only, in a virtualenv ----------------------------
FROM python:3.11-slim-bookworm AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY pyproject.toml requirements.lock ./
# [project].dependencies in pyproject.toml are what the services import; requirements.lock pins everything
# beneath them. Wheels only (--only-binary), so the builder needs no compiler and a missing wheel fails the build.
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir "pip==25.3" \
    && /opt/venv/bin/pip install --no-cache-dir --only-binary=:all: -c requirements.lock -r requirements.txt \
    && /opt/venv/bin/pip uninstall --yes pip
# The code: our services and the generated contract modules, compiled ahead (the root filesystem is read-only),
# readable by the runtime user whatever modes the build context had (a generated directory can be 0700).
COPY services/ /app/services/
COPY gen/ /app/gen/
RUN /opt/venv/bin/python -m compileall -q /app \
    && chmod -R a+rX,go-w /app /opt/venv

# ---- runtime: the interpreter, the virtualenv and the code; no pip, no compiler, not root -------------------
FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 creditnode \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin creditnode \
    && install -d -o 10001 -g 10001 /var/lib/creditnode
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
# MALLOC_ARENA_MAX: glibc makes an arena per busy thread and keeps what large requests left in them; two arenas
# keep a thread-pool server's memory flat (measured: gateway after 200 oversized requests 177 MB -> 134 MB).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app:/app/gen \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    VAR_DIR=/var/lib/creditnode
WORKDIR /app
USER 10001:10001
# gateway (mTLS), registry, consent, scoring, objection; 50060 the gateway's health-only port, 50061 its internal
# listener (disclosure log, supervision); 50062 the registry's ingestion port; 9464 metrics.
EXPOSE 50051 50052 50053 50054 50055 50060 50061 50062 9464
CMD ["python", "-m", "services.gateway"]
