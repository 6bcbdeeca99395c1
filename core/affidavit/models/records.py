"""Pydantic models of every record in the ledger; ``affidavit schema`` prints their JSON Schema.

Frozen and strict about unknown keys: anything read back from a ledger, a package or the network
is validated here before it is trusted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from affidavit.models.fields import (
    COMMIT_PATTERN,
    NAME_PATTERN,
    SHA256_PATTERN,
    TAG_KEY_PATTERN,
    TAG_VALUE_MAX,
)

__all__ = [
    "Name",
    "Sha256",
    "Model",
    "TemplateAttestation",
    "TemplateArtifact",
    "TemplateTrail",
    "Template",
    "CommitInfo",
    "Flow",
    "Trail",
    "ImagePlatform",
    "ImageInfo",
    "Artifact",
    "Subject",
    "Statement",
    "Target",
    "Evidence",
    "Sealed",
    "Envelope",
    "SigstoreBundle",
    "SignedBy",
    "KeyId",
    "Attestation",
    "FlowEntry",
    "TrailEntry",
    "ArtifactEntry",
    "AttestationEntry",
    "AttestationType",
    "AttestationTypeEntry",
    "Environment",
    "RunningArtifact",
    "Snapshot",
    "Allowance",
    "Expectation",
    "EnvironmentEntry",
    "SnapshotEntry",
    "AllowanceEntry",
    "ExpectationEntry",
    "PolicyVersion",
    "PolicyAttachment",
    "PolicyEntry",
    "AttachmentEntry",
    "Webhook",
    "WebhookEntry",
    "Entry",
    "ENTRY",
    "Checkpoint",
    "SCHEMAS",
]

Name = Annotated[str, Field(pattern=NAME_PATTERN)]
Sha256 = Annotated[str, Field(pattern=SHA256_PATTERN)]
KeyId = Annotated[str, Field(pattern=SHA256_PATTERN)]
"""An Ed25519 key's id: the hex SHA-256 of its raw public key (``models.dsse.key_id``)."""


class Model(BaseModel):
    """Frozen, keyword-only, unknown keys refused, no type coercion ("yes" is not true)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, strict=True)

    def canonical(self) -> dict[str, Any]:
        """The record as the ledger stores it (aliases, absent fields left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class TemplateAttestation(Model):
    """One required attestation in a template (Kosli template v1 shape)."""

    name: Name
    type: str = Field(pattern=r"^(generic|artifact|junit|sarif|snyk|pull_request|approval|"
                      r"sbom|coverage|vulns|jira|sonar|"
                      r"decision|custom:[A-Za-z0-9][A-Za-z0-9._-]*|\*)$")
    #: For ``approval``: how many distinct approvers sign off (default 1). For
    #: ``pull_request``: how many approvals of the final head, from people other than its
    #: authors, the deciding pull request must have (``compliance.pullrequests``).
    min_approvers: int | None = Field(default=None, ge=1)
    #: For ``approval``: four eyes — approvers must not be the commit's author.
    distinct_from_author: bool | None = None
    #: The report must be signed (a DSSE envelope, ``--signing-key``); with ``signers``, by one
    #: of those keys. Unset: the trail's setting (:class:`TemplateTrail`).
    require_signed: bool | None = None
    #: Key ids (``models.dsse.key_id``) whose signature the slot accepts; implies
    #: ``require_signed``.
    signers: list[KeyId] | None = Field(default=None, min_length=1)


class TemplateArtifact(Model):
    """An artifact the trail must report, and what must be attested about it."""

    name: Name
    attestations: list[TemplateAttestation] = []


class TemplateTrail(Model):
    """What a trail of this flow must hold."""

    attestations: list[TemplateAttestation] = []
    artifacts: list[TemplateArtifact] = []
    #: Every slot's report must be signed (a slot may say otherwise), by one of ``signers``
    #: when given.
    require_signed: bool | None = None
    signers: list[KeyId] | None = Field(default=None, min_length=1)


class Template(Model):
    """A flow or trail template, ``version: 1`` as in Kosli."""

    version: Literal[1]
    trail: TemplateTrail = TemplateTrail()


class CommitInfo(Model):
    """The git commit a record is about; everything but ``sha`` may be redacted."""

    sha: str = Field(pattern=COMMIT_PATTERN)
    parents: list[str] | None = None
    author: str | None = None
    committer: str | None = None
    timestamp: str | None = None
    message: str | None = None
    branch: str | None = None
    repo_url: str | None = None
    url: str | None = None


TagKey = Annotated[str, Field(pattern=TAG_KEY_PATTERN)]


class Flow(Model):
    """A flow was created or changed; ``tags`` sets each key given (None removes it)."""

    name: Name
    description: str | None = None
    template: Template | None = None
    tags: dict[TagKey, Annotated[str, Field(max_length=TAG_VALUE_MAX)] | None] | None = None


class Trail(Model):
    """A trail was begun or changed."""

    flow: Name
    name: Name
    description: str | None = None
    template: Template | None = None


class ImagePlatform(Model):
    """One platform's manifest in a multi-platform image's index."""

    platform: str = Field(min_length=1, max_length=200)
    fingerprint: Sha256


class ImageInfo(Model):
    """Where an ``oci`` or ``docker`` artifact's digest came from: the full reference it was
    resolved from (or the Engine's ``repo@sha256:…``), the manifest's media type when the
    registry said it, and for an index each platform's manifest digest."""

    reference: str = Field(min_length=1, max_length=600)
    media_type: str | None = Field(default=None, max_length=200)
    platforms: list[ImagePlatform] | None = None


class Artifact(Model):
    """An artifact reported to a trail. ``filename`` is the file's name for a ``file`` or a
    ``dir``, the image reference as given for an ``oci`` or ``docker`` image."""

    flow: Name
    trail: Name
    name: Name
    fingerprint: Sha256
    artifact_type: Literal["file", "dir", "oci", "docker"]
    filename: str | None = None
    image: ImageInfo | None = None
    commit: CommitInfo | None = None
    origin_url: str | None = None
    annotations: dict[str, str] | None = None


class Subject(Model):
    """An in-toto resource descriptor, reduced to what affidavit writes."""

    name: str
    digest: dict[str, str]


class Statement(Model):
    """in-toto Statement v1."""

    type_: Literal["https://in-toto.io/Statement/v1"] = Field(
        default="https://in-toto.io/Statement/v1", alias="_type"
    )
    subject: list[Subject] = Field(min_length=1)
    predicateType: str
    predicate: dict[str, Any]


class Target(Model):
    """What an attestation is bound to: the trail, one artifact by fingerprint, or every
    artifact the trail reports under a template name for a commit (``--name app.unit``)."""

    kind: Literal["trail", "artifact"]
    fingerprint: Sha256 | None = None
    artifact: Name | None = None
    commit: str | None = Field(default=None, pattern=COMMIT_PATTERN)


class Sealed(Model):
    """How an evidence file was sealed on the client (``evidence.sealing``): the vault holds the
    ciphertext, and this commits to the plaintext's digest for the key holders."""

    format: Literal["age"]
    recipients: list[str] = Field(min_length=1)
    commitment: Sha256
    opening: str


class Evidence(Model):
    """A file in the evidence vault, as an attestation records it (when ``sealed``, its digest
    and size are the ciphertext's)."""

    name: str = Field(min_length=1)
    sha256: Sha256
    size: int = Field(ge=0)
    sealed: Sealed | None = None


class Envelope(Model):
    """A DSSE envelope of the attestation's statement (``models.dsse``)."""

    payload: str
    payloadType: str
    signatures: list[dict[str, str]] = Field(min_length=1)


class SignedBy(Model):
    """The Ed25519 key an attestation's envelope is signed with."""

    keyid: KeyId
    public_key: str
    #: 16 random bytes (hex) under the signature: no two signings sign the same bytes.
    nonce: str = Field(pattern=r"^[0-9a-f]{32}$")


class SigstoreBundle(Model):
    """What an attached Sigstore bundle was verified to say (``verify.sigstore_bundles``): the
    bundle is the evidence file of digest ``bundle``."""

    bundle: Sha256
    kind: Literal["dsse", "message_signature"]
    identity: str | None = None
    issuer: str | None = None
    subjects: list[dict[str, Any]]
    predicateType: str | None = None
    log_index: int | None = Field(default=None, ge=0)
    integrated_time: int | None = Field(default=None, ge=0)


class Attestation(Model):
    """A typed claim about a trail or an artifact, with the statement at its core."""

    flow: Name
    trail: Name
    name: Name
    type: str
    compliant: bool
    target: Target
    statement: Statement
    origin_url: str | None = None
    commit: CommitInfo | None = None
    user_data: Any = None
    annotations: dict[str, str] | None = None
    evidence: list[Evidence] | None = None
    envelope: Envelope | None = None
    signed_by: SignedBy | None = None
    #: JSON pointers (RFC 6901) removed from ``/user_data`` and ``/predicate`` before hashing.
    redacted: list[str] | None = None
    sigstore: SigstoreBundle | None = None


class AttestationType(Model):
    """A user-defined attestation type: JSON Schema for its data, and compliance rules."""

    name: Name
    description: str | None = None
    schema_: dict[str, Any] = Field(alias="schema")
    rules: list[str] | None = None


class Environment(Model):
    """An environment was created or changed (like flows, fields not given keep their value).

    A logical environment names the physical ones it joins; its snapshots are theirs."""

    name: Name
    type: Literal["server", "k8s", "ecs", "lambda", "s3", "docker", "cloud-run", "logical"]
    description: str | None = None
    include_scaling: bool | None = None
    physical: list[Name] | None = None


class RunningArtifact(Model):
    """One artifact found running, as the snapshot's source saw it.

    ``name`` is the source's own word for it (a path, ``namespace/pod/container``, a function)
    and so not a flow-style name; ``details`` keeps the scalar facts a source adds (an image
    reference, a pod's start time) without a model per source."""

    name: str = Field(min_length=1, max_length=1024)
    #: None: the source runs it but cannot say what it is yet (a container still pulling
    #: its image); reported as such rather than dropped, which would read as "not running".
    fingerprint: Sha256 | None = None
    instances: int | None = Field(default=None, ge=0)
    details: dict[str, str | int | float | bool | None] | None = None


class Snapshot(Model):
    """The full set of artifacts running in one environment; recorded only when it differs
    from the environment's latest snapshot. Its number is its place among them (1, 2, ...),
    which the key map proves, so no writer has to agree with another on a counter."""

    environment: Name
    source: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    artifacts: list[RunningArtifact]


class Allowance(Model):
    """An artifact may run in an environment without provenance, for the reason given
    (a vendor's image, a hotfix built by hand): the allowlist a policy's provenance rule reads."""

    environment: Name
    fingerprint: Sha256
    reason: str = Field(min_length=1, max_length=4096)


class Expectation(Model):
    """A pipeline said it is deploying this artifact to the environment: a snapshot that does
    not show it running after a grace period, or shows what nobody said, is worth a look."""

    environment: Name
    fingerprint: Sha256
    flow: Name | None = None
    trail: Name | None = None
    origin_url: str | None = None


class PolicyVersion(Model):
    """A version of an environment policy: its text, kept whole so any reader can rerun the
    decisions it made, and the SHA-256 of its bytes. Versions are never changed, only added."""

    name: Name
    language: Literal["yaml", "rego"]
    digest: Sha256
    text: str = Field(max_length=1 << 20)
    description: str | None = None


class PolicyAttachment(Model):
    """A policy was attached to (or, ``attached: false``, detached from) an environment."""

    environment: Name
    policy: Name
    attached: bool


class Webhook(Model):
    """Where to POST an environment's or a flow's events (exactly one of ``environment`` and
    ``flow``; each has its own events). The signing secret is never in the log (which every
    reader may read, for ever): ``secret_env`` names the variable each sender reads it from
    when it delivers. ``format``: ``slack`` sends a Slack incoming-webhook message instead of
    the JSON event (flows only; absent means ``json``)."""

    name: Name
    environment: Name | None = None
    flow: Name | None = None
    url: str | None = Field(default=None, pattern=r"^https?://", max_length=2048)
    #: The variable each sender reads the URL from, when the URL is itself a credential (a
    #: Slack incoming webhook's is): exactly one of ``url`` and ``url_env``.
    url_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]{0,127}$")
    events: list[Literal["started", "exited", "non-compliant", "allowlisted", "unexpected",
                         "trail-begun", "attestation-reported", "verdict-changed"]] = (
        Field(min_length=1))
    secret_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]{0,127}$")
    format: Literal["json", "slack"] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Webhook:
        """A webhook sends one environment's or one flow's events, never both or neither;
        an event of the other kind would never fire, so it is refused rather than kept."""
        if (self.environment is None) == (self.flow is None):
            raise ValueError("a webhook names exactly one of environment and flow")
        if (self.url is None) == (self.url_env is None):
            raise ValueError("a webhook names exactly one of url and url_env")
        flow_events = {"trail-begun", "attestation-reported", "verdict-changed"}
        wrong = [e for e in self.events if (e in flow_events) != (self.flow is not None)]
        if wrong:
            raise ValueError(f"event {wrong[0]!r} is not one of this webhook's kind")
        if self.format == "slack" and self.flow is None:
            raise ValueError("format slack is for flow webhooks")
        return self


class _EntryBase(Model):
    v: Literal[1]
    time: str = Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


class FlowEntry(_EntryBase):
    """Log entry holding a :class:`Flow`."""

    kind: Literal["flow"]
    record: Flow


class TrailEntry(_EntryBase):
    """Log entry holding a :class:`Trail`."""

    kind: Literal["trail"]
    record: Trail


class ArtifactEntry(_EntryBase):
    """Log entry holding an :class:`Artifact`."""

    kind: Literal["artifact"]
    record: Artifact


class AttestationEntry(_EntryBase):
    """Log entry holding an :class:`Attestation`."""

    kind: Literal["attestation"]
    record: Attestation


class AttestationTypeEntry(_EntryBase):
    """Log entry holding an :class:`AttestationType`."""

    kind: Literal["attestation_type"]
    record: AttestationType


class EnvironmentEntry(_EntryBase):
    """Log entry holding an :class:`Environment`."""

    kind: Literal["environment"]
    record: Environment


class SnapshotEntry(_EntryBase):
    """Log entry holding a :class:`Snapshot`."""

    kind: Literal["snapshot"]
    record: Snapshot


class AllowanceEntry(_EntryBase):
    """Log entry holding an :class:`Allowance`."""

    kind: Literal["allowance"]
    record: Allowance


class ExpectationEntry(_EntryBase):
    """Log entry holding an :class:`Expectation`."""

    kind: Literal["expectation"]
    record: Expectation


class PolicyEntry(_EntryBase):
    """Log entry holding a :class:`PolicyVersion`."""

    kind: Literal["policy"]
    record: PolicyVersion


class AttachmentEntry(_EntryBase):
    """Log entry holding a :class:`PolicyAttachment`."""

    kind: Literal["policy_attachment"]
    record: PolicyAttachment


class WebhookEntry(_EntryBase):
    """Log entry holding a :class:`Webhook`."""

    kind: Literal["webhook"]
    record: Webhook


AnyEntry = (FlowEntry | TrailEntry | ArtifactEntry | AttestationEntry | AttestationTypeEntry
            | EnvironmentEntry | SnapshotEntry | AllowanceEntry | ExpectationEntry
            | PolicyEntry | AttachmentEntry | WebhookEntry)
Entry = Annotated[AnyEntry, Field(discriminator="kind")]
#: Validates any log entry: ``ENTRY.validate_python(obj)``.
ENTRY: TypeAdapter[AnyEntry] = TypeAdapter(Entry)


class Checkpoint(Model):
    """A signed checkpoint as ``--output json`` shows it."""

    origin: str
    size: int = Field(ge=0)
    root: str
    note: str


#: What ``affidavit schema NAME`` can print.
SCHEMAS: dict[str, Any] = {
    "entry": ENTRY,
    "flow": Flow,
    "trail": Trail,
    "artifact": Artifact,
    "attestation": Attestation,
    "evidence": Evidence,
    "attestation-type": AttestationType,
    "environment": Environment,
    "snapshot": Snapshot,
    "allowance": Allowance,
    "expectation": Expectation,
    "policy": PolicyVersion,
    "policy-attachment": PolicyAttachment,
    "webhook": Webhook,
    "statement": Statement,
    "template": Template,
    "checkpoint": Checkpoint,
}

