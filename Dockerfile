# prgate's GitHub App: `prgate serve` on port 3000.
#   docker build -t prgate .
#   docker run -p 3000:3000 -v prgate-data:/data \
#     -e PRGATE_APP_ID=... -e PRGATE_PRIVATE_KEY_PATH=/run/secrets/prgate.pem \
#     -e PRGATE_WEBHOOK_SECRET=... prgate
# Without the PRGATE_* variables, http://localhost:3000/ shows the setup page.
FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md app.yml ./
COPY src ./src
COPY rules ./rules
RUN python -m venv /opt/prgate && /opt/prgate/bin/pip install ".[app]"

FROM python:3.12-slim
ENV PATH=/opt/prgate/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PRGATE_DATABASE_URL=sqlite:////data/prgate.db
COPY --from=build /opt/prgate /opt/prgate
RUN useradd --system --uid 10001 --home-dir /data --create-home prgate
USER prgate
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status == 200 else 1)"]
CMD ["prgate", "serve", "--host", "0.0.0.0", "--port", "3000"]
