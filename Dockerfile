# One image for every SoSafe service; the command chooses which runs:
#   docker run sosafe-referral-router worker intake|triage|notify
# Settings come from SOSAFE_* environment variables (services/*/settings.py); see docker-compose.yml.

# Build the project's wheel in a throw-away stage so the final image holds no source tree or build tools.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml ./
COPY schemas ./schemas
COPY services ./services
RUN pip wheel --no-cache-dir --disable-pip-version-check --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SOSAFE_DATA_DIR=/var/lib/sosafe \
    SOSAFE_WEB_BIND=0.0.0.0
RUN groupadd --system --gid 10001 sosafe \
 && useradd --system --uid 10001 --gid sosafe --home-dir /var/lib/sosafe --shell /usr/sbin/nologin sosafe \
 && install -d -o sosafe -g sosafe -m 0750 /var/lib/sosafe
# pip install . : the wheel built above, with its pinned dependencies (pyproject.toml).
COPY --from=build /wheels /tmp/wheels
RUN pip install /tmp/wheels/*.whl && rm -rf /tmp/wheels
USER sosafe:sosafe
WORKDIR /var/lib/sosafe
EXPOSE 8001 8002 8003
ENTRYPOINT ["sosafe"]
CMD ["--help"]
