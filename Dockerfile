# moltbot gateway image. Build with the plugins you need:
#   docker build --build-arg PLUGINS="telegram,openai,tailscale" -t moltbot .
# Run it with compose.yaml (see docs/deployment.md). Auth is mandatory: the entrypoint refuses to
# start without a gateway password or token.
FROM python:3.11-slim

ARG PLUGINS=""
ARG UID=1000
ARG GID=1000

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/home/moltbot \
    MOLTBOT_STATE_DIR=/home/moltbot/.moltbot \
    MOLTBOT_GATEWAY_BIND=lan

RUN groupadd --gid "${GID}" moltbot \
    && useradd --uid "${UID}" --gid "${GID}" --create-home --home-dir /home/moltbot \
       --shell /usr/sbin/nologin moltbot

COPY core /src/core
COPY plugins /src/plugins
COPY docker/install-plugins.sh /usr/local/bin/install-plugins
RUN install-plugins "${PLUGINS}" /src && rm -rf /src /root/.cache

RUN mkdir -p /home/moltbot/.moltbot /home/moltbot/clawd \
    && chown -R "${UID}:${GID}" /home/moltbot \
    && chmod 700 /home/moltbot/.moltbot

USER ${UID}:${GID}
WORKDIR /home/moltbot
VOLUME ["/home/moltbot/.moltbot", "/home/moltbot/clawd"]
EXPOSE 18789

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "moltbot.daemon.healthcheck"]

ENTRYPOINT ["python", "-m", "moltbot.daemon.entrypoint"]
CMD []
