# An image with the affidavit CLI preinstalled, for CI jobs that should not pip install the core
# on every run (GitLab `install: false`, a Jenkins agent, `docker run … affidavit`):
#   docker build -t affidavit .   &&   docker run --rm -v "$PWD:/work" affidavit fingerprint …
# Built from this checkout, so the image's CLI is the one of the wrappers beside it.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY core ./core
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
# git: the core reads commit details (author, message, branch) from the job's checkout.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git=1:2.* \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 10001 affidavit \
    && git config --system --add safe.directory '*'
USER 10001
WORKDIR /work
ENTRYPOINT ["affidavit"]
CMD ["--help"]
