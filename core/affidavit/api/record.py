"""Write operations: each builds its entry, checks it against the ledger, and appends it.

Before anything is written, the ledger's head is proven (its signed checkpoint extends the one
this client remembers) and its key file must be the one its history is signed with; the
checkpoint the append returns must extend that head, and is remembered. An attestation's
``compliant`` is what the one judge (``compliance.judge``) says of its predicate: a caller that
claims otherwise is refused (exit 2).

With ``dry_run`` the same entry is built and checked (files are hashed, the trail must exist)
but nothing is written: not the entry, not the evidence. Without it, evidence files reach the
vault only with the entry naming them, inside its append: a write that fails at any point
leaves no file behind.
"""

from __future__ import annotations

import os

from affidavit import canonical
from affidavit.api import inputs
from affidavit.errors import NotFoundError, UsageError
from affidavit.ledger import index
from affidavit.ledger.blobs import hash_file
from affidavit.models import build
from affidavit.models.fields import check_name, check_sha256

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence
    from typing import Any

    from affidavit.api.inputs import PathArg
    from affidavit.ledger.base import Incoming, Ledger
    from affidavit.ledger.checkpoint import Checkpoint
    from affidavit.models.dsse import SigningKey
    from affidavit.verify.proven import Proven

__all__ = [
    "Recorded",
    "create_flow",
    "begin_trail",
    "attest_artifact",
    "attest_generic",
    "attest",
    "Claim",
    "CheckedClaim",
    "check_claim",
    "require_trail",
    "store_evidence",
]


class Recorded:
    """An entry that was appended (``entry_index`` set) or would have been (``dry_run``)."""

    __slots__ = ("entry", "entry_index", "checkpoint", "dry_run", "reasons", "trail_status",
                 "files_read", "flow_change", "notes", "deliveries")

    def __init__(self, *, entry: dict[str, Any], entry_index: int | None,
                 checkpoint: str | None, dry_run: bool) -> None:
        self.entry = entry
        self.entry_index = entry_index
        self.checkpoint = checkpoint
        self.dry_run = dry_run
        #: Why the attestation is not compliant, one line each (empty when it is).
        self.reasons: list[str] = []
        #: On a dry run of an attestation: the verdict its trail would have.
        self.trail_status: str | None = None
        #: The report files a collector read (JUnit, SARIF, Snyk), as found on disk.
        self.files_read: list[str] = []
        #: ``begin_trail(create_flow=True)``: the flow entry it recorded (or would have).
        self.flow_change: Recorded | None = None
        #: What the command found out on the way, one line each (where a lookup looked).
        self.notes: list[str] = []
        #: What the flow's webhooks were sent (``api.flowhooks.notify``), one result each.
        self.deliveries: list[dict[str, Any]] = []

    def outputs(self) -> dict[str, str]:
        """The facts a CI step exposes as outputs (``--outputs-file``), as strings: a wrapper
        maps them onto its outputs and never reads the JSON shapes itself. Every key is always
        present (empty when it does not apply), so an output is never undefined."""
        record = self.entry["record"]
        kind = self.entry["kind"]
        compliant = record.get("compliant")
        target = record.get("target") or {}
        return {
            "entry-index": "" if self.entry_index is None else str(self.entry_index),
            "flow": str(record["name"] if kind == "flow" else record.get("flow", "")),
            "trail": str(record["name"] if kind == "trail" else record.get("trail", "")),
            "compliant": "" if compliant is None else str(bool(compliant)).lower(),
            "fingerprint": str(record.get("fingerprint") or target.get("fingerprint") or ""),
            "results": "\n".join(self.files_read),
        }

    def to_json(self) -> dict[str, Any]:
        """The stable ``--output json`` shape of a write command."""
        return {
            "dry_run": self.dry_run,
            "index": self.entry_index,
            "entry": self.entry,
            "checkpoint": self.checkpoint,
            "reasons": self.reasons,
            "trail_status": self.trail_status,
            "files_read": self.files_read,
            "notes": self.notes,
            "flow_change": None if self.flow_change is None else self.flow_change.to_json(),
            "deliveries": self.deliveries,
        }


def _append(ledger: Ledger, entry: dict[str, Any], dry_run: bool,
            head: Proven | None = None, evidence: Incoming | None = None) -> Recorded:
    """Append ``entry`` (with the ``evidence`` it names) after proving the ledger's head
    (``head``, a view already opened and closed by the caller, or a new one), and check and
    remember the checkpoint it returns."""
    if dry_run:
        return Recorded(entry=entry, entry_index=None, checkpoint=None, dry_run=True)
    if head is None:
        one_request = getattr(ledger, "one_request_writes", None)
        if one_request is not None and one_request():  # a write that depends on no key
            return _write(ledger, lambda: (entry, evidence), reads=(), check=_anything,
                          dry_run=False)
        with _head(ledger, remember=False) as head:
            head.check_writable()
    assert head.checkpoint is not None
    data = canonical.dumps(entry)
    appended = ledger.append([data], [entry], after=(head.checkpoint.size, head.checkpoint.root),
                             evidence=evidence)
    head.after_append(appended, [data] if getattr(ledger, "remote", False) else None)
    return _witnessed(ledger, Recorded(
        entry=entry, entry_index=appended.first, checkpoint=appended.checkpoint, dry_run=False
    ))


def _witnessed(ledger: Ledger, recorded: Recorded) -> Recorded:
    """``recorded``, its checkpoint cosigned first by the witnesses ``AFFIDAVIT_WITNESSES``
    names (``api.witnesses``; nothing to do, and nothing imported, when it is unset). The
    entry stands either way: a witness out of reach is a note, one that refuses the new
    checkpoint an integrity failure (exit 3) that says the entry was recorded."""
    if not os.environ.get("AFFIDAVIT_WITNESSES"):
        return recorded
    from affidavit.api import witnesses
    from affidavit.errors import ProviderError

    try:
        for done in witnesses.after_write(ledger, witnesses.configured(),
                                          recorded.entry_index or 0):
            recorded.notes.append(f"checkpoint cosigned by witness {done['witness']}")
    except ProviderError as exc:
        recorded.notes.append(f"warning: {exc.message}: the entry stands, its checkpoint is "
                              "not cosigned by every witness")
    except UsageError as exc:
        raise UsageError(f"entry {recorded.entry_index} was recorded, but {exc.message}",
                         remedy=exc.remedy) from None
    return recorded


def _write(ledger: Ledger, make: Callable[[], tuple[dict[str, Any], Incoming | None]], *,
           reads: Sequence[str], check: Callable[[Proven], None], dry_run: bool,
           also: Sequence[str] = ()) -> Recorded:
    """Append the entry ``make()`` builds (with the evidence batch it names, closed here) once
    ``check`` passed on the proven head: ``check`` reads how many entries each of ``reads``
    files -- a flow, a trail -- and raises when the write may not be made. On the embedded
    ledger ``make`` runs after the check, so a refused write stages nothing.

    To a server (one whose state lists ``append-requires``; an older one is written to as
    above) this is one request, not a read and then an append: the append requires
    ``reads``, the server appends it after a head where each files an entry and answers with
    that head, and the head is proven and ``check``-ed as if read first. Keys only ever gain
    entries, so what held there holds in the tree the entry went into. A server that appended
    what the check refuses is exit 3; one that refused (412) is proven right by the head it
    sent, and the refusal is worded as the check words it. Evidence over
    :data:`ONE_REQUEST_EVIDENCE` bytes waits for a head read first instead: a refused write
    should not have uploaded it. ``also``: keys ``check`` reads too that need not file
    anything (a flow's webhooks), read with ``reads`` in the same request."""
    one_request = getattr(ledger, "one_request_writes", None)
    if dry_run or one_request is None or not one_request():
        with _head(ledger, [*reads, *also], entries=False, remember=dry_run) as head:
            check(head)
            if not dry_run:
                head.check_writable()
        entry, evidence = make()
        return _append_closing(ledger, entry, dry_run, head, evidence)
    from affidavit.errors import IntegrityError
    from affidavit.ledger import Unmet
    from affidavit.verify.proven import seen_memory

    memory = seen_memory(ledger)
    since = None if memory is None else memory[0].size
    entry, evidence = make()
    if getattr(evidence, "size", 0) > ONE_REQUEST_EVIDENCE:
        try:
            with _head(ledger, [*reads, *also], entries=False, remember=False) as head:
                check(head)
                head.check_writable()
        except BaseException:
            if evidence is not None:
                evidence.close()
            raise
        return _append_closing(ledger, entry, False, head, evidence)
    data = canonical.dumps(entry)
    try:
        appended = ledger.append_requiring(  # type: ignore[attr-defined]
            [data], requires=reads, since=since, evidence=evidence, also=also)
    except Unmet:
        also = _carried(ledger, also)
        with _head(ledger, [*reads, *also], entries=False, remember=False,
                   memory=(memory,)) as head:  # the head it sent
            check(head)
        raise IntegrityError(f"{head.where} refused a write whose requirements its own head "
                             "meets") from None
    finally:
        if evidence is not None:
            evidence.close()
    also = _carried(ledger, also)
    with _head(ledger, [*reads, *also], entries=False, remember=False,
               memory=(memory,)) as head:  # the head it went after
        try:
            check(head)
        except NotFoundError as exc:
            raise IntegrityError(f"{head.where} appended a write its own head refuses: "
                                 f"{exc.message}") from None
    head.after_append(appended, [data])
    return _witnessed(ledger, Recorded(entry=entry, entry_index=appended.first,
                                       checkpoint=appended.checkpoint, dry_run=False))


def _carried(ledger: Ledger, keys: Sequence[str]) -> list[str]:
    """Those of ``keys`` whose proofs the head a server's one-request write answered with
    carries. The view of that head reads nothing more: a read past it is answered at the tree
    the write went into, and the head would no longer be the one the append extends. A server
    that predates ``also`` carries none, and what ``check`` would have read of them is read
    after the append instead (``Proven.ahead`` says which)."""
    carries = getattr(ledger, "head_carries", None)
    return [key for key in keys if carries is not None and carries(key)]


def _anything(head: Proven) -> None:
    """The check of a write that depends on no key: any head will do."""


ONE_REQUEST_EVIDENCE = 1 << 20
"""Most bytes of evidence a write to a server sends before it knows the write is allowed."""


def _append_closing(ledger: Ledger, entry: dict[str, Any], dry_run: bool, head: Proven,
                    evidence: Incoming | None) -> Recorded:
    """:func:`_append`, then close ``evidence``: whatever the append did not take (it failed,
    or never ran) is dropped."""
    try:
        return _append(ledger, entry, dry_run, head, evidence)
    finally:
        if evidence is not None:
            evidence.close()


def _head(ledger: Ledger, reads: Sequence[str] = (), *, entries: bool = True,
          remember: bool = True,
          memory: tuple[tuple[Checkpoint, str] | None] | None = None) -> Proven:
    """A proven view of the ledger's head, to open around a write's checks: inside it the
    write reads what it needs (``reads``: the keys it will read first, which a remote ledger
    fetches with the head; ``entries=False`` when it needs only how many each files) and,
    unless a dry run, checks the ledger's key (``check_writable``) before storing anything;
    its checkpoint is the one the append must extend. ``remember=False`` when an append
    follows (see ``Proven``); ``memory``, see ``Proven``."""
    from affidavit.verify.proven import Proven

    return Proven(ledger, ahead=reads, ahead_entries=entries, remember=remember, memory=memory)


def require_flow(source: Ledger | Proven, flow: str) -> None:
    """Refuse to write into a flow that was never created (a typo, usually)."""
    from affidavit.verify.proven import proven

    with proven(source) as view:
        if not view.filed([index.flowdef_key(flow)])[index.flowdef_key(flow)]:
            raise NotFoundError(f"flow {flow!r} does not exist",
                                remedy="run `affidavit create flow`, or `begin trail "
                                "--create-flow`")


def trail_reads(flow: str, trail: str) -> list[str]:
    """The keys :func:`require_trail` reads."""
    return [index.flowdef_key(flow), index.trail_key(flow, trail)]


def require_trail(source: Ledger | Proven, flow: str, trail: str) -> None:
    """Refuse to attest to a trail that was never begun: proven by the key map's count of
    the trail's entries, none of which is read (a write costs the same however long its
    trail)."""
    from affidavit.verify.proven import proven

    with proven(source) as view:
        view.filed(trail_reads(flow, trail))  # one read; no entry of the trail
        require_flow(view, flow)
        if not view.filed([index.trail_key(flow, trail)])[index.trail_key(flow, trail)]:
            raise NotFoundError(
                f"trail {trail!r} does not exist in flow {flow!r}",
                remedy="run `affidavit begin trail` first",
            )


class _Hooks:
    """A flow's webhooks as a write to one of its trails finds them: how many the head files
    under ``flowhooks:<flow>`` (and, for ``begin trail``, whether the trail is new there),
    counted in the one proven read of the keys the write checks anyway, so a flow with none
    pays one key more and no second read. Only a flow that has some goes on to read and send
    to them, after the append (``api.flowhooks``)."""

    __slots__ = ("keys", "count", "new_trail")

    def __init__(self, flow: str, trail: str | None = None) -> None:
        #: Read with the write's keys, required by none (``_write(also=...)``).
        self.keys = [index.flowhooks_key(flow)]
        if trail is not None:
            self.keys.append(index.trail_key(flow, trail))
        #: None until counted: a head that does not carry the keys (an older server's) is
        #: not read for them, and the webhooks are looked up after the append instead.
        self.count: int | None = None
        self.new_trail: bool | None = None

    def count_at(self, head: Proven, reads: Sequence[str]) -> None:
        """Count them at ``head``, in one read with ``reads``."""
        filed = head.filed([*reads, *self.keys])
        self.count = filed[self.keys[0]]
        self.new_trail = not filed[self.keys[1]] if len(self.keys) > 1 else None

    def checking(self, reads: Sequence[str],
                 check: Callable[[Proven], None]) -> Callable[[Proven], None]:
        """``check``, counting them first in the same read as ``reads`` when ``head`` was
        opened to read them (``_carried``)."""
        def counted(head: Proven) -> None:
            if all(key in head.ahead for key in self.keys):
                self.count_at(head, reads)
            check(head)
        return counted

    def notify(self, ledger: Ledger, recorded: Recorded) -> Recorded:
        """``recorded``, its events sent when the flow has webhooks (never on a dry run)."""
        if self.count != 0 and not recorded.dry_run:
            from affidavit.api.flowhooks import notify

            notify(ledger, recorded, new_trail=self.new_trail)
        return recorded


def create_flow(
    ledger: Ledger,
    *,
    name: str,
    description: str | None = None,
    template_file: PathArg | None = None,
    tags: Mapping[str, str | None] | None = None,
    dry_run: bool = False,
) -> Recorded:
    """Create a flow, or record a change to its description, template or tags: ``tags`` sets
    each key given to its value, or removes it when the value is None (the tags a policy's
    ``flow.tags.<key>`` reads; :func:`affidavit.api.query.flow_tags`)."""
    from affidavit.models.fields import check_tags

    check_name(name, "flow")
    template = inputs.read_template_file(template_file) if template_file else None
    record = build.flow(name=name, description=description, template=template,
                        tags=check_tags(dict(tags)) if tags else None)
    return _append(ledger, build.entry("flow", record), dry_run)


def begin_trail(
    ledger: Ledger,
    *,
    flow: str,
    name: str,
    description: str | None = None,
    template_file: PathArg | None = None,
    create_flow: bool = False,
    flow_description: str | None = None,
    flow_template_file: PathArg | None = None,
    dry_run: bool = False,
) -> Recorded:
    """Begin a trail; again on an existing trail it records only the fields given.

    With ``create_flow`` (implied by ``flow_description`` or ``flow_template_file``) a pipeline
    needs no manual first step: the flow is created when missing, and its description and
    template are recorded when they differ from the flow's current ones. Run again with the same
    values it records no flow entry, so every build of a pipeline may ask for it. The flow
    change, when there is one, is ``Recorded.flow_change``.
    """
    check_name(flow, "flow")
    check_name(name, "trail")
    template = inputs.read_template_file(template_file) if template_file else None
    ensure = create_flow or flow_description is not None or flow_template_file is not None
    flow_template = inputs.read_template_file(flow_template_file) if flow_template_file else None
    record = build.trail(flow=flow, name=name, description=description, template=template)
    hooks = _Hooks(flow, name)
    if not ensure:
        reads = [index.flowdef_key(flow)]
        return hooks.notify(ledger, _write(
            ledger, lambda: (build.entry("trail", record), None), reads=reads,
            also=hooks.keys, check=hooks.checking(reads, lambda head: require_flow(head, flow)),
            dry_run=dry_run))
    with _head(ledger, [index.flowdef_key(flow)], remember=dry_run) as head:
        change = _flow_change(head, flow, flow_description, flow_template)
        hooks.count_at(head, ())
        if not dry_run:
            head.check_writable()
    if change is None:
        return hooks.notify(ledger, _append(ledger, build.entry("trail", record), dry_run, head))
    flow_recorded = _append(ledger, build.entry("flow", change), dry_run, head)
    recorded = _append(ledger, build.entry("trail", record), dry_run)
    recorded.flow_change = flow_recorded
    return hooks.notify(ledger, recorded)


def _flow_change(view: Proven, flow: str, description: str | None,
                 template: dict[str, Any] | None) -> dict[str, Any] | None:
    """The flow record that makes ``flow`` exist with the given fields, or None when it already
    does; fields not given, or equal to the current ones, are left out (and so kept)."""
    if not view.under(index.flowdef_key(flow)):
        return build.flow(name=flow, description=description, template=template)
    from affidavit.api.query import flow_state

    current = flow_state(view, flow)
    if description == current["description"]:
        description = None
    if template == current["template"]:
        template = None
    if description is None and template is None:
        return None
    return build.flow(name=flow, description=description, template=template)


def attest_artifact(
    ledger: Ledger,
    *,
    flow: str,
    trail: str,
    name: str,
    path: PathArg | None = None,
    artifact_type: str = "file",
    fingerprint: str | None = None,
    commit: str | None = None,
    commit_url: str | None = None,
    redact: Collection[str] = (),
    origin_url: str | None = None,
    annotations: list[str] | None = None,
    exclude: tuple[str, ...] = (),
    dry_run: bool = False,
    registry_username: str | None = None,
    registry_password: str | None = None,
) -> Recorded:
    """Report an artifact by its fingerprint, computed from ``path`` unless given: a file or
    a directory, or for ``oci``/``docker`` the image ``path`` names (its digest from the
    registry or the local Engine, with the reference and an index's platforms beside it)."""
    from affidavit.api.commits import commit_record
    from affidavit.api.fingerprints import IMAGE_TYPES

    check_name(flow, "flow")
    check_name(trail, "trail")
    check_name(name, "artifact name")
    image = None
    filename = None
    if fingerprint:
        digest = check_sha256(fingerprint, "--fingerprint")
        if path is not None:  # the file or image the digest was given for
            filename = str(path) if artifact_type in IMAGE_TYPES else os.path.basename(path)
    elif path is not None:
        from affidavit.api.fingerprints import describe

        if artifact_type in IMAGE_TYPES:
            filename = str(path)
        else:
            from affidavit.paths import path_text

            path = path_text(path)  # the file name recorded, as pathlib spells it
            filename = os.path.basename(path)
        digest, image = describe(path, artifact_type, exclude,
                                 registry_username=registry_username,
                                 registry_password=registry_password)
    else:
        raise UsageError("attest artifact needs a PATH or --fingerprint")

    def made() -> tuple[dict[str, Any], Incoming | None]:
        record = build.artifact(
            flow=flow,
            trail=trail,
            name=name,
            fingerprint=digest,
            artifact_type=artifact_type,
            filename=filename,
            commit=commit_record(commit, url=commit_url, redact=redact),
            origin_url=origin_url,
            annotations=inputs.parse_annotations(annotations),
            image=image,
        )
        return build.entry("artifact", record), None

    hooks = _Hooks(flow)
    return hooks.notify(ledger, _write(
        ledger, made, reads=trail_reads(flow, trail), also=hooks.keys,
        check=hooks.checking(trail_reads(flow, trail),
                             lambda head: require_trail(head, flow, trail)), dry_run=dry_run))


def store_evidence(
    into: Incoming | None,
    attachments: list[PathArg] | None,
    named: Sequence[tuple[str, PathArg]] = (),
    seal_for: Sequence[str] = (),
    seal_folder: str | None = None,
) -> list[dict[str, Any]]:
    """Copy attachments (and files already ``named``) into the batch ``into`` (from
    ``ledger.blobs.incoming()``), or only hash them when it is None (a dry run); return the
    evidence refs. Nothing reaches the vault until the batch is appended with its entry.
    With ``seal_for`` (age recipients) each file is sealed first, here, into ``seal_folder``
    (which must outlive the batch: a remote one reads its files when it is appended), and only
    the ciphertext is staged and referenced (``evidence.sealing``)."""
    files = [*inputs.expand_attachments(attachments), *named]
    if not seal_for:
        refs = []
        for name, file in files:
            digest, size = hash_file(file) if into is None else into.add(file)
            refs.append({"name": name, "sha256": digest, "size": size})
        return refs
    from affidavit.evidence.sealing import seal_file

    assert seal_folder is not None, "sealing needs a folder for the sealed copies"
    refs = []
    for name, file in files:
        sealed_path, sealed = seal_file(os.fspath(file), seal_for, seal_folder)
        digest, size = hash_file(sealed_path) if into is None else into.add(sealed_path)
        refs.append({"name": name, "sha256": digest, "size": size, "sealed": sealed})
    return refs


class Claim:
    """What every attest command shares, as the caller gave it: plain values, no I/O.

    :func:`check_claim` validates it, reads the user data file and the commit, and refuses
    missing attachments, before anything is collected or stored. A plain class rather than a
    dataclass: ``dataclasses`` costs the CLI's write path more to import than it runs.
    """

    __slots__ = ("flow", "trail", "name", "fingerprint", "attachments", "user_data_file",
                 "annotations", "origin_url", "commit", "commit_url", "redact", "dry_run",
                 "split_artifact", "signing_key", "redact_paths", "encrypt_for",
                 "sigstore_bundle", "certificate_identity", "certificate_oidc_issuer")

    def __init__(
        self,
        *,
        flow: str,
        trail: str,
        name: str,
        fingerprint: str | None = None,
        attachments: Sequence[PathArg] | None = None,
        user_data_file: PathArg | None = None,
        annotations: Sequence[str] | None = None,
        origin_url: str | None = None,
        commit: str | None = None,
        commit_url: str | None = None,
        redact: Collection[str] = (),
        dry_run: bool = False,
        split_artifact: bool = True,
        signing_key: PathArg | None = None,
        redact_paths: Sequence[str] = (),
        encrypt_for: Sequence[str] = (),
        sigstore_bundle: PathArg | None = None,
        certificate_identity: str | None = None,
        certificate_oidc_issuer: str | None = None,
    ) -> None:
        """``signing_key``: an Ed25519 PEM file; the statement is recorded in a DSSE envelope
        it signs (``models.dsse``). ``redact_paths``: JSON pointers under ``/user_data`` or
        ``/predicate`` removed before anything is hashed or judged (``api.redaction``).
        ``encrypt_for``: age recipients the evidence files are sealed for on this machine
        (``evidence.sealing``). ``sigstore_bundle``: a Sigstore bundle file, verified before
        anything is written and attached, its certificate required to carry
        ``certificate_identity`` / ``certificate_oidc_issuer`` when given
        (``verify.sigstore_bundles``)."""
        self.sigstore_bundle = sigstore_bundle
        self.certificate_identity = certificate_identity
        self.certificate_oidc_issuer = certificate_oidc_issuer
        self.flow, self.trail, self.name = flow, trail, name
        self.signing_key = signing_key
        self.redact_paths = tuple(redact_paths)
        self.encrypt_for = tuple(encrypt_for)
        self.fingerprint = fingerprint
        self.attachments = list(attachments or ())
        self.user_data_file = user_data_file
        self.annotations = list(annotations or ())
        self.origin_url = origin_url
        self.commit, self.commit_url, self.redact = commit, commit_url, tuple(redact)
        self.dry_run, self.split_artifact = dry_run, split_artifact


class CheckedClaim:
    """A :class:`Claim` checked and read: names valid, user data parsed, commit details read."""

    __slots__ = ("flow", "trail", "name", "artifact", "fingerprint", "attachments",
                 "user_data", "annotations", "origin_url", "commit", "dry_run", "signer",
                 "redact_paths", "encrypt_for", "sigstore", "sigstore_bundle")

    def __init__(self, claim: Claim) -> None:
        from affidavit.api.commits import commit_record

        self.flow = check_name(claim.flow, "flow")
        self.trail = check_name(claim.trail, "trail")
        self.fingerprint = (check_sha256(claim.fingerprint, "--fingerprint")
                            if claim.fingerprint else None)
        # ``--name app.unit`` without a fingerprint: attestation ``unit`` of every artifact the
        # trail reports as ``app`` for the commit, before or after this report (Kosli's form).
        name = claim.name
        self.artifact: str | None = None
        if claim.split_artifact and "." in name and self.fingerprint is None:
            artifact, _, name = name.partition(".")
            self.artifact = check_name(artifact, "artifact name")
        self.name = check_name(name, "attestation name")
        self.user_data = (inputs.read_json_file(claim.user_data_file, "user data")
                          if claim.user_data_file else None)
        self.annotations = inputs.parse_annotations(claim.annotations)
        inputs.expand_attachments(claim.attachments)  # refuse missing files before storing any
        self.attachments = claim.attachments
        self.origin_url = claim.origin_url
        self.commit = commit_record(claim.commit, url=claim.commit_url, redact=claim.redact)
        if self.artifact is not None and self.commit is None:
            raise UsageError(
                f"--name {self.artifact}.{self.name} binds to artifact {self.artifact!r} by "
                "commit: give --commit (or run in CI)",
                remedy="or bind to one artifact with --fingerprint")
        self.dry_run = claim.dry_run
        self.signer: SigningKey | None = None
        if claim.signing_key is not None:  # a key that cannot sign fails before anything runs
            from affidavit.models.dsse import load_signing_key

            self.signer = load_signing_key(os.fspath(claim.signing_key))
        self.redact_paths = claim.redact_paths
        if self.redact_paths:
            from affidavit.api.redaction import check_pointers

            check_pointers(self.redact_paths)
        self.encrypt_for: list[str] = []
        if claim.encrypt_for:
            from affidavit.evidence.sealing import check_recipients

            self.encrypt_for = check_recipients(claim.encrypt_for)
        #: What the Sigstore bundle was verified to say, and its file's name and bytes.
        self.sigstore: dict[str, Any] | None = None
        self.sigstore_bundle: tuple[str, bytes] | None = None
        if claim.sigstore_bundle is not None:
            from affidavit.api.sigstore_bundles import check_bundle

            self.sigstore_bundle, self.sigstore = check_bundle(
                claim.sigstore_bundle, identity=claim.certificate_identity,
                issuer=claim.certificate_oidc_issuer, artifact=self.fingerprint)
        elif claim.certificate_identity or claim.certificate_oidc_issuer:
            raise UsageError("--certificate-identity and --certificate-oidc-issuer are what a "
                             "Sigstore bundle's certificate must carry",
                             remedy="give the bundle with --sigstore-bundle")


def check_claim(claim: Claim | CheckedClaim) -> CheckedClaim:
    """``claim`` checked and read (once: a checked claim is returned as it is)."""
    return claim if isinstance(claim, CheckedClaim) else CheckedClaim(claim)


def attest(
    ledger: Ledger,
    claim: Claim | CheckedClaim,
    *,
    type: str,
    predicate: dict[str, Any],
    compliant: bool | None = None,
    predicate_type: str | None = None,
    type_version: dict[str, Any] | None = None,
    raw_files: Sequence[tuple[str, PathArg]] | None = None,
) -> Recorded:
    """Record a typed attestation: the claim's fields, the predicate a collector produced, and
    as evidence the user's attachments plus ``raw_files`` (``(name, path)`` of the reports the
    predicate came from). Its verdict is the judge's; ``compliant``, when given, must agree.
    ``type_version`` is the custom type's version record for ``custom:<name>`` types.
    """
    from affidavit.compliance.judge import judge
    from affidavit.errors import InputError

    claim = check_claim(claim)
    user_data, redacted = claim.user_data, None
    in_report = [p for p in claim.redact_paths if p.startswith("/predicate/")]
    if in_report and raw_files:  # the field would still be in the report kept as evidence
        raise UsageError(f"--redact {in_report[0]}: the report it comes from "
                         f"({raw_files[0][0]}) would still be attached, with the field in it",
                         remedy="add --no-attach (the report is then not kept as evidence)")
    if claim.redact_paths:  # removed before the judge and the hash: what is kept is judged
        from affidavit.api.redaction import redact

        predicate, user_data = redact(claim.redact_paths, predicate, user_data)
        redacted = list(claim.redact_paths)
    try:
        judged, reasons = judge(type, claim.name, predicate, type_version)
    except InputError as exc:
        if not redacted:
            raise
        raise InputError(f"{exc.message}, once --redact removed {', '.join(redacted)}",
                         remedy="the judge needs what was removed: redact something else"
                         ) from None
    if compliant is not None and compliant != judged:
        raise InputError(
            f"attestation {claim.name!r} ({type}) claims compliant={compliant} but its "
            f"predicate yields {judged}", remedy="the verdict is the judge's, not the caller's")

    def made() -> tuple[dict[str, Any], Incoming | None]:
        batch = None if claim.dry_run else ledger.blobs.incoming()
        try:
            evidence = store_evidence(batch, claim.attachments, [*(raw_files or ()), *bundle],
                                      seal_for=claim.encrypt_for, seal_folder=sealing)
            verified = None
            if claim.sigstore is not None:
                from affidavit.api.sigstore_bundles import recorded_bundle

                verified = recorded_bundle(claim.sigstore, evidence[-1])
            record = build.attestation(
                flow=claim.flow,
                trail=claim.trail,
                name=claim.name,
                type=type,
                compliant=judged,
                predicate=predicate,
                predicate_type=predicate_type,
                fingerprint=claim.fingerprint,
                artifact=claim.artifact,
                origin_url=claim.origin_url,
                commit=claim.commit,
                user_data=user_data,
                annotations=claim.annotations,
                evidence=evidence,
                redacted=redacted,
                sigstore=verified,
            )
            if claim.signer is not None:
                from affidavit.models.dsse import envelope

                record = build.signed(record, *envelope(record, claim.signer))
        except BaseException:
            if batch is not None:
                batch.close()
            raise
        return build.entry("attestation", record), batch

    hooks = _Hooks(claim.flow)
    import contextlib

    with contextlib.ExitStack() as stack:
        sealing = None
        if claim.encrypt_for:  # sealed copies outlive the append: a server's is sent with it
            import tempfile

            sealing = stack.enter_context(tempfile.TemporaryDirectory(prefix="affidavit-seal-"))
        bundle: list[tuple[str, str]] = []
        if claim.sigstore_bundle is not None:  # the very bytes verified, not the file again
            from affidavit.api.sigstore_bundles import staged_copy

            bundle.append(stack.enter_context(staged_copy(*claim.sigstore_bundle)))
        recorded = _write(ledger, made, reads=trail_reads(claim.flow, claim.trail),
                          also=hooks.keys,
                          check=hooks.checking(trail_reads(claim.flow, claim.trail), lambda head:
                                               require_trail(head, claim.flow, claim.trail)),
                          dry_run=claim.dry_run)
    recorded.reasons = list(reasons)
    if claim.dry_run:
        from affidavit.api import query

        with _head(ledger) as view:
            recorded.trail_status = query.trail_state(
                view, claim.flow, claim.trail, extra=[(view.size, recorded.entry)])["status"]
    return hooks.notify(ledger, recorded)


def attest_generic(ledger: Ledger, claim: Claim | CheckedClaim, *,
                   compliant: bool = True) -> Recorded:
    """Record a yes/no claim about a trail or one of its artifacts, with evidence files."""
    return attest(ledger, claim, type="generic", predicate={"compliant": compliant})
