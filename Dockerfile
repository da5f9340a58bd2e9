# mockserver: both invoice APIs on port 8080.
#   docker build -t mockserver .
#   docker run --rm -p 8080:8080 mockserver                       # the embedded default world
#   docker run --rm -p 8080:8080 -v "$PWD/my-fixtures:/fixtures:ro" \
#     -e MOCKSERVER_FIXTURES=/fixtures/world.yaml mockserver       # your own world
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY mockserver ./mockserver
COPY fixtures ./fixtures
RUN pip install -c constraints.txt ".[redis]" \
    && useradd --create-home --uid 10001 mockserver \
    && mkdir /fixtures && chown mockserver /fixtures

USER mockserver
# Mount fixture files here and point MOCKSERVER_FIXTURES (or --fixtures) at one of them.
VOLUME ["/fixtures"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/_mock/health', timeout=2).status != 200)"]

ENTRYPOINT ["mockserver"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
