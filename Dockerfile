# One image for every role: the web app (default), the RQ worker (`worker`) and the ingest
# consumer (`ingest`). docker-compose.yml runs it three times with different commands.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin switchboard

WORKDIR /app
# The dependencies first, exactly as locked (`make lock`): pinned versions, every file checked
# against its hash; the build stops if requirements.lock was not made from this pyproject.toml.
COPY pyproject.toml requirements.lock ./
COPY deploy/lockfile.py ./deploy/lockfile.py
RUN python deploy/lockfile.py check \
    && pip install --require-hashes -r requirements.lock
COPY README.md ./
COPY switchboard ./switchboard
COPY ivr ./ivr
COPY workers ./workers
# The simulated Twilio and callers, for `switchboard simulate` and `try-call`; the service never
# imports them.
COPY sim ./sim
# The service itself, without resolving anything again.
RUN pip install --no-deps . \
    # var/ holds the spool for events that could not reach Redis; it must be writable by the
    # service user, and a named volume mounted here inherits this ownership.
    && mkdir -p /app/var \
    && chown switchboard:switchboard /app/var

USER switchboard
EXPOSE 8000

# Liveness only (GET /healthz): the image has no curl, so Python asks.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

ENTRYPOINT ["switchboard"]
CMD ["serve", "--host", "0.0.0.0", "--no-embedded-workers"]
