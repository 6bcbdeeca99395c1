"""``create|join|get|list|log environment``, ``snapshot path|paths|json``, ``get snapshot``
and ``diff snapshots``: map flags onto ``affidavit.api.environments``."""

from __future__ import annotations

import argparse
import sys

from affidavit.cli import options as opt
from affidavit.cli.output import emit_json, key_values, table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "create_environment",
    "join_environment",
    "get_environment",
    "list_environments",
    "log_environment",
    "snapshot_path",
    "snapshot_paths",
    "snapshot_json",
    "snapshot_k8s",
    "snapshot_docker",
    "snapshot_cloud_run",
    "snapshot_ecs",
    "snapshot_lambda",
    "snapshot_s3",
    "get_snapshot",
    "diff_snapshots",
    "allow_artifact",
    "expect_deployment",
    "create_webhook",
]

_ADDRESS_HELP = "ENV (latest), ENV#N, ENV~N (N before the latest), ENV@{2026-01-31T10:00Z} or " \
                "ENV@{2.hours.ago}"


def write_flags(p: argparse.ArgumentParser) -> None:
    """The flags of a write that may find nothing to record (environments, policies)."""
    opt.add_ledger(p)
    opt.add_dry_run(p)
    opt.add_output(p)
    opt.add_outputs_file(p)


def _read_flags(p: argparse.ArgumentParser) -> None:
    opt.add_ledger(p)
    opt.add_output(p)


def write_ledger(args: argparse.Namespace) -> Any:
    """The ledger to write to, once the output files are known to be writable."""
    from affidavit.api.ledgers import open_ledger

    opt.check_output_files(args)
    return open_ledger(args.ledger, create=not args.dry_run)


def _read_ledger(args: argparse.Namespace) -> Any:
    from affidavit.api.ledgers import open_ledger

    return open_ledger(args.ledger)


def _print(text: str) -> int:
    sys.stdout.write(text + "\n")
    return 0


def create_environment(p: argparse.ArgumentParser) -> None:
    """``create environment NAME --type TYPE``."""
    from affidavit.api.environments import ENVIRONMENT_TYPES

    p.add_argument("name", help="environment name")
    opt.add(p, "--type", required=True, choices=ENVIRONMENT_TYPES, help="where artifacts run")
    opt.add(p, "--description", help="what the environment is")
    opt.add(p, "--include-scaling", action="store_const", const=True,
            help="a change in how many copies run is a new snapshot too")
    write_flags(p)
    p.set_defaults(handler=_create_environment)


def join_environment(p: argparse.ArgumentParser) -> None:
    """``join environment LOGICAL --physical A,B``."""
    p.add_argument("name", help="the logical environment")
    opt.add(p, "--physical", required=True, nargs="+", metavar="ENV",
            help="physical environments to join (comma-separated or several)")
    write_flags(p)
    p.set_defaults(handler=_join_environment)


def show_write(args: argparse.Namespace, recorded: Any, what: str) -> int:
    if recorded is None:
        opt.write_outputs(args.outputs_file, {"entry-index": "", "changed": "false"})
        if args.output == "json":
            emit_json({"changed": False, "index": None, "entry": None, "checkpoint": None})
        else:
            sys.stdout.write(f"{what}: unchanged, nothing recorded\n")
        return 0
    opt.write_outputs(args.outputs_file, {
        "entry-index": "" if recorded.entry_index is None else str(recorded.entry_index),
        "changed": "true"})
    if args.output == "json":
        emit_json({"changed": True, **recorded.to_json()})
    elif recorded.dry_run:
        emit_json(recorded.entry)
        sys.stderr.write(f"dry run: {what} was not recorded\n")
    else:
        sys.stdout.write(f"{what}: recorded as entry {recorded.entry_index}\n")
    return 0


def _create_environment(args: argparse.Namespace) -> int:
    from affidavit.api import environments

    name = opt.required(args.name, "environment name")
    return show_write(args, environments.create_environment(
        write_ledger(args), name=name, type=args.type, description=args.description,
        include_scaling=args.include_scaling, dry_run=bool(args.dry_run)),
        f"environment {name!r}")


def _join_environment(args: argparse.Namespace) -> int:
    from affidavit.api import environments

    name = opt.required(args.name, "environment name")
    return show_write(args, environments.join_environment(
        write_ledger(args), logical=name, physical=list(opt.comma_list(args.physical)),
        dry_run=bool(args.dry_run)), f"environment {name!r}")


def get_environment(p: argparse.ArgumentParser) -> None:
    """``get environment NAME``."""
    p.add_argument("name")
    _read_flags(p)
    p.set_defaults(handler=_get_environment)


def _get_environment(args: argparse.Namespace) -> int:
    from affidavit.api import environments

    state = environments.environment_state(_read_ledger(args),
                                           opt.required(args.name, "environment name"))
    if args.output == "json":
        emit_json(state)
        return 0
    return _print(key_values([
        ("Name", state["name"]), ("Type", state["type"]),
        ("Description", state["description"]), ("Created", state["created_at"]),
        ("Snapshots", state["snapshots"]),
        *([("Physical", state["physical"])] if state["type"] == "logical" else []),
    ]))


def list_environments(p: argparse.ArgumentParser) -> None:
    """``list environments``."""
    _read_flags(p)
    p.set_defaults(handler=_list_environments)


def _list_environments(args: argparse.Namespace) -> int:
    from affidavit.api import environments

    found = environments.list_environments(_read_ledger(args))
    if args.output == "json":
        emit_json(found)
        return 0
    return _print(table(["name", "type", "snapshots", "description"],
                        [[e["name"], e["type"], e["snapshots"], e["description"]]
                         for e in found]))


def log_environment(p: argparse.ArgumentParser) -> None:
    """``log environment ENV``."""
    p.add_argument("name")
    _read_flags(p)
    p.set_defaults(handler=_log_environment)


def _log_environment(args: argparse.Namespace) -> int:
    from affidavit.api import environments

    rows = environments.environment_log(_read_ledger(args),
                                        opt.required(args.name, "environment name"))
    if args.output == "json":
        emit_json(rows)
        return 0
    return _print(table(["#", "time", "running", "started", "changed", "exited", "entry"],
                        [[r["number"], r["time"], r["running"], r["started"], r["changed"],
                          r["exited"], r["entry"]] for r in rows]))


def _snapshot_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("environment", help="the environment's name")
    write_flags(p)


def snapshot_path(p: argparse.ArgumentParser) -> None:
    """``snapshot path ENV --name N --path P``."""
    _snapshot_flags(p)
    opt.add(p, "--name", required=True, help="the artifact's name")
    opt.add(p, "--path", required=True, help="the file or directory that runs")
    opt.add(p, "--exclude", nargs="+", metavar="PATH",
            help="leave these out of a directory's fingerprint (comma-separated or several)")
    p.set_defaults(handler=_snapshot, source="path")


def snapshot_paths(p: argparse.ArgumentParser) -> None:
    """``snapshot paths ENV --paths-file spec.yml``."""
    _snapshot_flags(p)
    opt.add(p, "--paths-file", required=True, metavar="FILE",
            help="YAML: version: 1, artifacts: {NAME: {path: P, exclude: [...]}}")
    p.set_defaults(handler=_snapshot, source="paths")


def snapshot_json(p: argparse.ArgumentParser) -> None:
    """``snapshot json ENV --file list.json``."""
    _snapshot_flags(p)
    opt.add(p, "--file", required=True, metavar="FILE",
            help='JSON list of running artifacts: [{"name": …, "fingerprint": …}, …]')
    p.set_defaults(handler=_snapshot, source="json")


def snapshot_k8s(p: argparse.ArgumentParser) -> None:
    """``snapshot k8s ENV``."""
    _snapshot_flags(p)
    opt.add(p, "-n", "--namespace", nargs="+", metavar="NS",
            help="only these namespaces (comma-separated or several)")
    opt.add(p, "-x", "--exclude-namespace", nargs="+", metavar="NS",
            help="every namespace but these (comma-separated or several)")
    opt.add(p, "--kubeconfig", metavar="FILE",
            help="kubeconfig of the cluster (default KUBECONFIG, in a pod its service "
                 "account, else ~/.kube/config)")
    opt.add(p, "--context", metavar="NAME", help="kubeconfig context (default: its current)")
    p.set_defaults(handler=_snapshot, source="k8s")


def snapshot_docker(p: argparse.ArgumentParser) -> None:
    """``snapshot docker ENV``."""
    _snapshot_flags(p)
    opt.add(p, "--docker-host", metavar="URL",
            help="the Docker Engine (default DOCKER_HOST, else unix:///var/run/docker.sock)")
    p.set_defaults(handler=_snapshot, source="docker")


def snapshot_cloud_run(p: argparse.ArgumentParser) -> None:
    """``snapshot cloud-run ENV --project P --region R``."""
    _snapshot_flags(p)
    opt.add(p, "--project", required=True, help="Google Cloud project id")
    opt.add(p, "--region", required=True, help="Cloud Run region, e.g. europe-west1")
    opt.add(p, "--access-token", metavar="TOKEN",
            help="OAuth access token (default GOOGLE_OAUTH_ACCESS_TOKEN, then "
                 "CLOUDSDK_AUTH_ACCESS_TOKEN)")
    opt.add(p, "--base-url", metavar="URL", help="Cloud Run Admin API root "
            "(default https://run.googleapis.com)")
    p.set_defaults(handler=_snapshot, source="cloud-run")


_AWS = " (AWS credentials, region and endpoint from the usual AWS_* variables)"


def snapshot_ecs(p: argparse.ArgumentParser) -> None:
    """``snapshot ecs ENV --cluster C``."""
    _snapshot_flags(p)
    opt.add(p, "--cluster", required=True, nargs="+", metavar="NAME",
            help="ECS cluster name or ARN (comma-separated or several)" + _AWS)
    opt.add(p, "--service-names", nargs="+", metavar="NAME",
            help="only the tasks of these services (one cluster)")
    p.set_defaults(handler=_snapshot, source="ecs")


def snapshot_lambda(p: argparse.ArgumentParser) -> None:
    """``snapshot lambda ENV``."""
    _snapshot_flags(p)
    opt.add(p, "--function-names", nargs="+", metavar="NAME",
            help="only these functions (default: every function of the region)" + _AWS)
    p.set_defaults(handler=_snapshot, source="lambda")


def snapshot_s3(p: argparse.ArgumentParser) -> None:
    """``snapshot s3 ENV --bucket B``."""
    _snapshot_flags(p)
    opt.add(p, "--bucket", required=True, help="the bucket" + _AWS)
    opt.add(p, "--prefix", help="only this folder of it")
    opt.add(p, "--include", metavar="REGEX", help="only keys matching this regular expression")
    opt.add(p, "--exclude", metavar="REGEX", help="leave out keys matching this expression")
    p.set_defaults(handler=_snapshot, source="s3")


def _running(args: argparse.Namespace) -> list[dict[str, Any]]:
    import os

    from affidavit.api import environments

    if args.source == "k8s":
        return environments.running_in_k8s(
            kubeconfig=args.kubeconfig, context=args.context,
            namespaces=opt.comma_list(args.namespace),
            exclude_namespaces=opt.comma_list(args.exclude_namespace))
    if args.source == "docker":
        return environments.running_in_docker(docker_host=args.docker_host)
    if args.source == "ecs":
        return environments.running_in_ecs(clusters=opt.comma_list(args.cluster),
                                           services=opt.comma_list(args.service_names))
    if args.source == "lambda":
        return environments.running_in_lambda(functions=opt.comma_list(args.function_names))
    if args.source == "s3":
        return environments.running_in_s3(bucket=args.bucket, prefix=args.prefix,
                                          include=args.include, exclude=args.exclude)
    if args.source == "cloud-run":
        token = (args.access_token or os.environ.get("GOOGLE_OAUTH_ACCESS_TOKEN")
                 or os.environ.get("CLOUDSDK_AUTH_ACCESS_TOKEN"))
        return environments.running_in_cloud_run(project=args.project, region=args.region,
                                                 token=token, base_url=args.base_url)
    if args.source == "path":
        return environments.running_at_path(opt.required(args.name, "--name"),
                                            opt.required(args.path, "--path"),
                                            opt.comma_list(args.exclude))
    if args.source == "paths":
        return environments.running_in_paths_file(opt.required(args.paths_file,
                                                               "--paths-file"))
    return environments.running_in_listing(opt.required(args.file, "--file"))


def _snapshot(args: argparse.Namespace) -> int:
    from affidavit.api import environments

    env = opt.required(args.environment, "environment name")
    ledger = write_ledger(args)
    done = environments.record_snapshot(ledger, environment=env, source=args.source,
                                        artifacts=_running(args), dry_run=bool(args.dry_run))
    from affidavit.api.webhooks import notify

    for sent in notify(ledger, done):  # after the append: a receiver can only be told
        if not sent["ok"] or sent["error"]:
            sys.stderr.write(f"affidavit: warning: webhook {sent['webhook']} ({sent['url']}): "
                             f"{sent['error']} after {sent['attempts']} attempt(s); the "
                             "snapshot is recorded\n")
    opt.write_outputs(args.outputs_file, done.outputs())
    if args.output == "json":
        emit_json(done.to_json())
        return 0
    changes = done.changes
    counts = (f"{len(done.record['artifacts'])} running: {changes['started']} started, "
              f"{changes['changed']} changed, {changes['exited']} exited")
    if not done.changed:
        beat = f"; heartbeat at {done.reported_at}" if done.reported_at else ""
        sys.stdout.write(f"{env}: unchanged since snapshot #{done.number} ({counts}); nothing "
                         f"recorded{beat}\n")
    elif done.recorded is not None and done.recorded.dry_run:
        sys.stdout.write(f"dry run: {env}#{done.number} would be recorded ({counts})\n")
    else:
        index_ = done.recorded.entry_index if done.recorded else None
        sys.stdout.write(f"{env}#{done.number} recorded as entry {index_} ({counts})\n")
    return 0


def allow_artifact(p: argparse.ArgumentParser) -> None:
    """``allow artifact FINGERPRINT --environment ENV --reason R``."""
    p.add_argument("fingerprint", help="SHA-256 of the artifact")
    opt.add(p, "--environment", required=True, help="where it may run without provenance")
    opt.add(p, "--reason", required=True, help="why (recorded with who ran the command's CI)")
    write_flags(p)
    p.set_defaults(handler=_allow_artifact)


def _allow_artifact(args: argparse.Namespace) -> int:
    from affidavit.api import environments

    fingerprint = opt.required(args.fingerprint, "fingerprint")
    return show_write(args, environments.allow_artifact(
        write_ledger(args), environment=args.environment, fingerprint=fingerprint,
        reason=args.reason, dry_run=bool(args.dry_run)),
        f"allowance of {fingerprint[:12]} in {args.environment!r}")


def expect_deployment(p: argparse.ArgumentParser) -> None:
    """``expect deployment FINGERPRINT --environment ENV``."""
    p.add_argument("fingerprint", help="SHA-256 of the artifact being deployed")
    opt.add(p, "--environment", required=True, help="where it is being deployed")
    opt.add(p, "--flow", help="the flow of the trail that deploys it (with --trail)")
    opt.add(p, "--trail", help="the trail that deploys it (with --flow)")
    opt.add(p, "--origin-url", help="link to the deployment (default in CI: the build URL)")
    write_flags(p)
    p.set_defaults(handler=_expect_deployment)


def _expect_deployment(args: argparse.Namespace) -> int:
    from affidavit.api import environments

    fingerprint = opt.required(args.fingerprint, "fingerprint")
    return show_write(args, environments.expect_deployment(
        write_ledger(args), environment=args.environment, fingerprint=fingerprint,
        flow=args.flow, trail=args.trail, origin_url=args.origin_url,
        dry_run=bool(args.dry_run)),
        f"expected deployment of {fingerprint[:12]} to {args.environment!r}")


def create_webhook(p: argparse.ArgumentParser) -> None:
    """``create webhook NAME --url URL (--environment ENV | --flow FLOW) --events E,…``."""
    p.add_argument("name", help="webhook name (again with the same name replaces it)")
    opt.add(p, "--url", help="where to POST the events (https://…); or --url-env")
    opt.add(p, "--url-env", metavar="VAR", help="the environment variable each sender reads "
            "the URL from, for a URL that is itself a secret (a Slack incoming webhook's): "
            "never recorded")
    opt.add(p, "--environment", help="a physical environment whose snapshots' events to send "
                                     "(or --flow)")
    opt.add(p, "--flow", help="a flow whose trails' events to send (or --environment)")
    opt.add(p, "--events", required=True, nargs="+", metavar="EVENT",
            help="an environment's: started, exited, non-compliant, allowlisted, unexpected; "
                 "a flow's: trail-begun, attestation-reported, verdict-changed "
                 "(comma-separated)")
    opt.add(p, "--secret-env", metavar="VAR",
            help="the environment variable each sender reads the HMAC-SHA256 signing secret "
                 "from (the secret itself is never recorded: the log is readable by all)")
    opt.add(p, "--format", choices=("json", "slack"),
            help="what a flow's webhook POSTs: the JSON event (default) or a Slack "
                 "incoming-webhook message")
    write_flags(p)
    p.set_defaults(handler=_create_webhook)


def _create_webhook(args: argparse.Namespace) -> int:
    from affidavit.api import webhooks

    name = opt.required(args.name, "webhook name")
    target = args.environment if args.flow is None else args.flow
    return show_write(args, webhooks.create_webhook(
        write_ledger(args), name=name, url=args.url, url_env=args.url_env,
        environment=args.environment,
        flow=args.flow, events=list(opt.comma_list(args.events)), secret_env=args.secret_env,
        format=args.format, dry_run=bool(args.dry_run)),
        f"webhook {name!r} of {'flow' if args.flow else 'environment'} {target!r}")


def _grace(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 30 * 86400:
        raise ValueError(f"{value} is not between 0 and 30 days")
    return number


def get_snapshot(p: argparse.ArgumentParser) -> None:
    """``get snapshot ADDRESS``."""
    p.add_argument("address", metavar="SNAPSHOT", help=_ADDRESS_HELP)
    opt.add(p, "--grace", type=_grace, metavar="SECONDS",
            help="how long an expected deployment may take to show up running before it is "
                 "reported missing (default 600)")
    _read_flags(p)
    p.set_defaults(handler=_get_snapshot)


def _short(artifact: dict[str, Any]) -> str:
    return str(artifact.get("fingerprint") or "unknown yet")[:12]


def _provenance_cells(artifact: dict[str, Any]) -> list[Any]:
    found = artifact.get("provenance")
    if found is None:
        allowed = artifact.get("allowed")
        if allowed is not None:
            return [f"allowed: {allowed['reason']}", None, None]
        return ["no provenance", None, None]
    return [f"{found['flow']}/{found['trail']}", (found["commit"] or "")[:12] or None,
            "COMPLIANT" if found["compliant"] else "NON_COMPLIANT"]


def _get_snapshot(args: argparse.Namespace) -> int:
    from affidavit.api import environments, policies

    found = policies.snapshot_compliance(
        _read_ledger(args), opt.required(args.address, "snapshot"),
        grace=environments.DEFAULT_GRACE if args.grace is None else args.grace)
    if args.output == "json":
        emit_json(found)
        return 0
    where = found["environment"] + (f"#{found['number']}" if found["number"] else "")
    compliance = found.get("compliance")
    reported = found.get("reported")
    head = key_values([("Snapshot", where), ("Time", found["time"]),
                       *([("Reported", reported["time"] + (
                           " (heartbeat: beside the log, not proven)" if reported["heartbeat"]
                           else ""))] if reported else []),
                       ("Running", len(found["artifacts"])),
                       ("Without provenance", found["without_provenance"]),
                       *([("Compliance", compliance["status"] + "".join(
                           f", {p['name']}#{p['version']}" for p in compliance["policies"]))]
                         if compliance else [])])
    logical = found["source"] == "logical"
    headers = ["name", "fingerprint", *(["environment"] if logical else []), "trail",
               "commit", "compliance"]
    rows = [[a["name"], _short(a), *([a["environment"]] if logical else []),
             *_provenance_cells(a)] for a in found["artifacts"]]
    text = head + "\n\n" + table(headers, rows)
    missing, unexpected = found.get("expected_missing", []), found.get("unexpected", [])
    if missing:
        text += "\n\nExpected but not running:\n" + table(
            ["fingerprint", "trail", "announced"],
            [[m["fingerprint"][:12], f"{m['flow']}/{m['trail']}" if "flow" in m else None,
              m["time"]] for m in missing])
    if unexpected:
        text += "\n\nRunning but not expected:\n" + table(
            ["name", "fingerprint"], [[u["name"], u["fingerprint"][:12]] for u in unexpected])
    return _print(text)


def diff_snapshots(p: argparse.ArgumentParser) -> None:
    """``diff snapshots A B``."""
    p.add_argument("first", metavar="SNAPSHOT1", help=_ADDRESS_HELP)
    p.add_argument("second", metavar="SNAPSHOT2", help="the snapshot to compare it with")
    _read_flags(p)
    p.set_defaults(handler=_diff_snapshots)


def _diff_snapshots(args: argparse.Namespace) -> int:
    from affidavit.api import environments

    found = environments.diff_snapshots(_read_ledger(args),
                                        opt.required(args.first, "snapshot"),
                                        opt.required(args.second, "snapshot"))
    if args.output == "json":
        emit_json(found)
        return 0
    rows = [["added", a["name"], _short(a), *_provenance_cells(a)]
            for a in found["added"]]
    rows += [["removed", a["name"], _short(a), *_provenance_cells(a)]
             for a in found["removed"]]
    for change in found["changed"]:
        for a in change["from"]:
            rows.append(["changed from", a["name"], _short(a), *_provenance_cells(a)])
        for a in change["to"]:
            rows.append(["changed to", a["name"], _short(a), *_provenance_cells(a)])
    if not rows:
        return _print("no difference")
    return _print(table(["", "name", "fingerprint", "trail", "commit", "compliance"], rows))
