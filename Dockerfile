# Voices Exchange service image.
#   docker build -t voices-exchange .
#   docker run -p 8000:8000 -v voices-data:/data voices-exchange                       # SQLite in /data
#   docker run -p 8000:8000 -e VOICES_DATABASE_URL=postgresql://user:pass@db:5432/voices voices-exchange
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VOICES_HOST=0.0.0.0 \
    VOICES_PORT=8000 \
    VOICES_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY exchange ./exchange
COPY codelists ./codelists
COPY mappings ./mappings
COPY api ./api
RUN pip install --no-cache-dir . && useradd --system --uid 10001 voices && mkdir -p /data && chown voices /data

USER voices
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"VOICES_PORT\"]}/health')"
CMD ["voices", "serve"]
