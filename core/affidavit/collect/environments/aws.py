"""What the AWS sources (``snapshot ecs|lambda|s3``) share: one way to make a client, and one
way to say what went wrong.

The client is configured where a deployment configures AWS (``AWS_REGION`` or
``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL`` or ``AWS_ENDPOINT_URL_<SERVICE>``, credentials
from boto3's standard chain) so a pipeline needs nothing new. botocore's *standard* retry mode
backs off throttling and transient failures with jitter, a bounded number of times: a busy
account slows a snapshot down instead of failing it, and an outage still ends.

botocore's exceptions become the project's one-line errors: a source that refuses the
credentials or stays unreachable is :class:`ProviderError` (exit 3: the answer is unknown,
never "nothing runs"); a cluster, function or bucket that is not there is
:class:`NotFoundError`; a value AWS calls malformed is :class:`UsageError`. AWS's own code and
message are kept, since they say which permission or name is wrong.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from affidavit.errors import AffidavitError, NotFoundError, ProviderError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

__all__ = ["MAX_ATTEMPTS", "client", "failed", "translated"]

MAX_ATTEMPTS = 5
"""Attempts per call (the first and four retries): about half a minute of backing off at
most, enough for a throttled account, short enough for a pipeline waiting on an outage."""

CONNECT_TIMEOUT = 10
READ_TIMEOUT = 60

_REFUSED = frozenset({
    "AccessDenied", "AccessDeniedException", "AuthFailure", "AuthorizationError",
    "ExpiredToken", "ExpiredTokenException", "IncompleteSignature", "InvalidAccessKeyId",
    "InvalidClientTokenId", "InvalidSignatureException", "InvalidToken",
    "MissingAuthenticationToken", "MissingAuthenticationTokenException", "NotAuthorized",
    "RequestExpired", "SignatureDoesNotMatch", "UnauthorizedOperation",
    "UnrecognizedClientException", "AllAccessDisabled", "AccountProblem",
})
"""Error codes meaning "these credentials may not do this" across ECS, Lambda and S3."""

_NOT_FOUND = frozenset({
    "ResourceNotFoundException", "NoSuchBucket", "ClusterNotFoundException",
    "ServiceNotFoundException",
})

_MALFORMED = frozenset({
    "InvalidParameterException", "InvalidParameterValueException", "ValidationException",
    "InvalidBucketName", "InvalidArgument",
})

_THROTTLED = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "SlowDown", "RequestThrottled", "RequestThrottledException",
    "ProvisionedThroughputExceededException", "BandwidthLimitExceeded",
})


def client(service: str, *, region: str | None = None, endpoint_url: str | None = None,
           max_attempts: int = MAX_ATTEMPTS) -> Any:
    """A boto3 client for ``service`` ("ecs", "lambda", "s3") as the environment configures
    it; ``region`` and ``endpoint_url`` override the environment when given."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise UsageError(f"snapshot {service}: boto3 is not installed",
                         remedy="pip install 'affidavit[aws]'") from None
    region = region or _env("AWS_REGION") or _env("AWS_DEFAULT_REGION")
    endpoint = endpoint_url or _env(f"AWS_ENDPOINT_URL_{service.upper()}") or \
        _env("AWS_ENDPOINT_URL")
    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
        # A local or private endpoint (moto, MinIO, a VPC endpoint by IP) has no per-bucket
        # host names.
        s3={"addressing_style": "path"} if endpoint and service == "s3" else None,
        user_agent_extra="affidavit",
    )
    what = f"AWS {service} client"
    try:
        return boto3.session.Session().client(service, region_name=region,
                                              endpoint_url=endpoint, config=config)
    except _botocore_errors() as exc:
        raise failed(what, exc) from None
    except ValueError as exc:  # a malformed endpoint URL or region name
        raise UsageError(f"{what}: {_one_line(str(exc))}") from None


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Every botocore failure inside the block as one line about ``what`` (the cluster,
    function or bucket being read)."""
    try:
        yield
    except Exception as exc:
        if not isinstance(exc, _botocore_errors()):
            raise
        raise failed(what, exc) from None


def _botocore_errors() -> tuple[type[BaseException], ...]:
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError, Boto3Error)


def failed(what: str, exc: BaseException) -> AffidavitError:
    """The project's error for botocore's ``exc`` while reading ``what``."""
    from botocore import exceptions as boto

    if isinstance(exc, boto.NoRegionError):
        return UsageError(f"{what}: no AWS region configured",
                          remedy="set AWS_REGION or AWS_DEFAULT_REGION")
    if isinstance(exc, boto.ParamValidationError):
        return UsageError(f"{what}: {_one_line(str(exc))}")
    if isinstance(exc, boto.NoCredentialsError | boto.PartialCredentialsError
                  | boto.CredentialRetrievalError):
        return ProviderError(f"{what}: no usable AWS credentials: {_one_line(str(exc))}",
                             remedy="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                                    "AWS_PROFILE, or run with a role")
    if isinstance(exc, boto.ClientError):
        return _answered(what, exc)
    if isinstance(exc, boto.ConnectionError | boto.HTTPClientError | boto.IncompleteReadError):
        # No answer after the retries: a connection refused, a timeout, a broken stream.
        return ProviderError(f"{what}: AWS could not be reached: {_one_line(str(exc))}")
    return ProviderError(f"{what}: {_one_line(str(exc)) or type(exc).__name__}")


def _answered(what: str, exc: Any) -> AffidavitError:
    """The error for a call AWS answered with a failure (after botocore's retries)."""
    response = exc.response if isinstance(exc.response, dict) else {}
    error = response.get("Error") or {}
    code = str(error.get("Code") or "")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    message = _one_line(str(error.get("Message") or ""))
    reason = f"{code}: {message}" if code and message else code or message or f"HTTP {status}"
    if code in _REFUSED or (not code and status in (401, 403)) or status == 401:
        return ProviderError(f"{what}: AWS refused the credentials: {reason}")
    if code in _NOT_FOUND or (not code and status == 404):
        return NotFoundError(f"{what}: {reason}")
    if code in _MALFORMED:
        return UsageError(f"{what}: {reason}")
    if code in _THROTTLED or status == 429:
        attempts = response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
        return ProviderError(f"{what}: AWS still throttled the requests after {attempts} "
                             f"attempts: {reason}", remedy="try again later")
    return ProviderError(f"{what}: {reason}")


def _one_line(text: str) -> str:
    return " ".join(text.split())
