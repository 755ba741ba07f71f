# One image for every eldercare service: `docker run eldercare run gateway|detector|alerting|dashboard`.
FROM python:3.11.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ELDERCARE_DATA_DIR=/var/lib/eldercare

WORKDIR /app
COPY pyproject.toml README.md ./
COPY eldercare ./eldercare
COPY gateway ./gateway
COPY detector ./detector
COPY alerting ./alerting
COPY dashboards ./dashboards
COPY simulator ./simulator
COPY evaluation ./evaluation
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /var/lib/eldercare eldercare \
    && mkdir -p /var/lib/eldercare \
    && chown eldercare /var/lib/eldercare

USER eldercare
VOLUME ["/var/lib/eldercare"]
ENTRYPOINT ["eldercare"]
CMD ["run", "gateway"]
