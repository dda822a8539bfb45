# Salesgraph's API server. Build from the repository root:  docker build -t salesgraph .
# Run the migrations once per release as their own job (`salesgraph migrate`), then any number of servers;
# deploy/compose.yaml wires PostgreSQL, Redis, the migrate job, two servers, HAProxy and Prometheus.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY domain domain
COPY persistence persistence
COPY gql gql
COPY salesgraph salesgraph
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin salesgraph
COPY --from=build /install /usr/local
USER 10001
ENV PYTHONUNBUFFERED=1 \
    SALESGRAPH_LOG_FORMAT=json
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"]
ENTRYPOINT ["salesgraph"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
