"""The `caseline` command: the local platform and admin tasks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    values = Settings.from_env().model_dump()
    if getattr(args, "data_dir", None):
        values["data_dir"] = Path(args.data_dir)
    return Settings.model_validate(values)


def cmd_dev(args: argparse.Namespace) -> int:
    from .runtime.server import serve

    serve(_settings(args), host=args.host, port=args.port, seed=not args.no_seed, workers=args.workers)
    return 0


def cmd_schemas(args: argparse.Namespace) -> int:
    from .api.openapi import write_schemas

    for path in write_schemas(Path(args.out)):
        print(path)
    return 0


def _local(args: argparse.Namespace):
    from .runtime.server import build_local

    return build_local(_settings(args))


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from .services.audit import verify_all

    local = _local(args)
    report = verify_all(local.platform.deps.store)
    print(f"checked {report.chains} chains, {report.records} records")
    for problem in report.problems:
        print(f"BROKEN {problem.target_type}/{problem.target_id} at #{problem.seq}: {problem.problem}")
    return 1 if report.problems else 0


def cmd_rules_install(args: argparse.Namespace) -> int:
    """The shipped rules into a table that never had a rule set: the local data dir, or (CASELINE_ADAPTERS=aws)
    the DynamoDB table named by CASELINE_TABLE_NAME with the caller's AWS credentials."""
    from . import bootstrap
    from .services.rules import install_defaults

    installed = install_defaults(bootstrap.build(_settings(args)).deps)
    print(f"installed {installed} default rules" if installed else "a rule set is already stored; nothing installed")
    return 0


def cmd_dead_letters(args: argparse.Namespace) -> int:
    local = _local(args)
    letters = list(local.dispatcher.dead_letters())
    for letter in letters:
        print(json.dumps({"consumer": letter.consumer, "event_id": letter.event.id, "type": letter.event.type,
                          "attempts": letter.attempts, "error": letter.error}))
    print(f"{len(letters)} dead letter(s)", file=sys.stderr)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    local = _local(args)
    letters = [d for d in local.dispatcher.dead_letters()
               if (args.event_id in (None, d.event.id)) and (args.consumer in (None, d.consumer))]
    failed = 0
    for letter in letters:
        ok = local.dispatcher.replay(letter.consumer, letter.event.id)
        failed += not ok
        print(f"{'replayed' if ok else 'FAILED again'} {letter.consumer} {letter.event.id}")
    return 1 if failed else 0


def cmd_token(args: argparse.Namespace) -> int:
    from .runtime.server import dev_logins

    local = _local(args)
    for login in dev_logins(local.platform):
        if login.email == args.email:
            print(local.token_for(login))
            return 0
    print(f"no dev user {args.email}", file=sys.stderr)
    return 1


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="caseline", description="Caseline customer-support platform")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_data_dir(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--data-dir", help="where the local platform keeps its data (default .caseline-data)")
        return p

    dev = with_data_dir(commands.add_parser("dev", help="run the whole platform locally"))
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8080)
    dev.add_argument("--no-seed", action="store_true", help="do not seed demo data on first start")
    dev.add_argument("--workers", type=_positive, default=1, metavar="N",
                     help="serve HTTP and SMTP from N processes, one per core you want to use (default 1)")
    dev.set_defaults(run=cmd_dev)

    schemas = commands.add_parser("schemas", help="regenerate schemas/ (OpenAPI and event JSON Schemas)")
    schemas.add_argument("--out", default="schemas")
    schemas.set_defaults(run=cmd_schemas)

    audit = commands.add_parser("audit", help="audit trail tools").add_subparsers(dest="audit", required=True)
    with_data_dir(audit.add_parser("verify", help="check every audit hash chain")).set_defaults(run=cmd_audit_verify)

    events = commands.add_parser("events", help="outbox tools").add_subparsers(dest="events", required=True)
    with_data_dir(events.add_parser("dead-letters", help="list dead-lettered deliveries")).set_defaults(
        run=cmd_dead_letters)
    replay = with_data_dir(events.add_parser("replay", help="deliver dead letters again"))
    replay.add_argument("--event-id")
    replay.add_argument("--consumer")
    replay.set_defaults(run=cmd_replay)

    rules = commands.add_parser("rules", help="automation rules").add_subparsers(dest="rules", required=True)
    with_data_dir(rules.add_parser("install-defaults", help="store the shipped rules if no rule set exists")
                  ).set_defaults(run=cmd_rules_install)

    token = with_data_dir(commands.add_parser("token", help="print a dev token for a seeded user"))
    token.add_argument("email")
    token.set_defaults(run=cmd_token)
    return root


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
