"""The ``interviewminds`` command: plugins, migrate, worker, jobs, token, users."""
from __future__ import annotations

import argparse
import json
import sys

from core.plugins import PluginError
from core.settings import SettingsError


def bootstrap(config_uri: str):
    """Load the ini's app settings and build the app; returns its registry."""
    from pyramid.paster import get_appsettings, setup_logging

    from core.app import build_config

    setup_logging(config_uri)
    config = build_config(get_appsettings(config_uri, name="main"))
    config.commit()
    return config.registry


def cmd_plugins(args) -> int:
    registry = bootstrap(args.config)
    infos = registry.im_plugin_info
    if args.json:
        print(json.dumps([{k: v for k, v in vars(i).items() if k != "module"} for i in infos.values()], indent=2))
        return 0
    if not infos:
        print("no plugins enabled (set interviewminds.plugins)")
    for info in infos.values():
        print(f"{info.id}  ({info.distribution} {info.version})  module {info.module.__name__}")
        for label, values in (("hooks", info.hooks), ("routes", info.routes),
                              ("graphql", info.graphql_fields), ("jobs", info.jobs),
                              ("health checks", info.health_checks), ("events", info.events),
                              ("settings", info.settings)):
            print(f"  {label + ':':15}{', '.join(values) if values else '-'}")
    return 0


def cmd_migrate(args) -> int:
    from core.storage import migrate

    registry = bootstrap(args.config)
    prefixes = ("core.",) + tuple(info.module.__name__ for info in registry.im_plugin_info.values())
    for name, indexes in migrate(prefixes):
        print(f"{name}: {', '.join(indexes)}")
    return 0


def cmd_worker(args) -> int:
    from core.jobs import run_worker

    registry = bootstrap(args.config)
    run_worker(registry, burst=args.burst)
    return 0


def cmd_jobs(args) -> int:
    from core.jobs import queue_counts

    registry = bootstrap(args.config)
    counts = queue_counts(registry)
    if args.json:
        print(json.dumps(counts, indent=2))
        return 0
    print(f"{'queue':36} {'queued':>7} {'started':>8} {'scheduled':>10} {'failed':>7} {'finished':>9}")
    for name, c in counts.items():
        print(f"{name:36} {c['queued']:>7} {c['started']:>8} {c['scheduled']:>10} {c['failed']:>7} {c['finished']:>9}")
    return 0


def cmd_token(args) -> int:
    from core.auth.devkeys import issue_dev_token, load_or_create_dev_key
    from core.auth.setup import dev_key_path
    from core.auth.users import set_role

    registry = bootstrap(args.config)
    settings = registry.settings
    if not settings["interviewminds.auth.dev"]:
        print("error: this config does not accept dev tokens (interviewminds.auth.dev is off)", file=sys.stderr)
        return 2
    # The role lives in MongoDB, never in the token: record it for this dev user.
    set_role(args.user, args.role, by="cli:token")
    key = load_or_create_dev_key(dev_key_path(settings))
    print(issue_dev_token(key, user_id=args.user, role=args.role, ttl=args.ttl))
    return 0


def cmd_users(args) -> int:
    from core.auth.users import User, set_role

    bootstrap(args.config)
    if args.action == "grant":
        user = set_role(args.user, args.role, by="cli")
        print(f"{user.user_id}: {user.role}")
    else:
        for user in User.objects.order_by("user_id"):
            print(f"{user.user_id}: {user.role}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="interviewminds", description="InterviewMinds operator commands")
    sub = p.add_subparsers(dest="command", required=True)

    def add(name, func, help_text):
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.add_argument("config", help="PasteDeploy ini file, e.g. development.ini")
        sp.set_defaults(func=func)
        return sp

    add("plugins", cmd_plugins, "List enabled plugins: distribution, version, hooks, routes, "
        "GraphQL fields, jobs").add_argument("--json", action="store_true")
    add("migrate", cmd_migrate, "Create every index declared by core and the enabled plugins (idempotent)")
    add("worker", cmd_worker, "Run an RQ worker over the enabled plugins' queues").add_argument(
        "--burst", action="store_true", help="exit when the queues are empty")
    add("jobs", cmd_jobs, "Queued, started, scheduled, failed and finished counts per queue").add_argument(
        "--json", action="store_true")
    token = add("token", cmd_token, "Print a dev bearer token (dev configs only); records the user's role")
    token.add_argument("--user", required=True)
    token.add_argument("--role", required=True, choices=("candidate", "interviewer", "admin"))
    token.add_argument("--ttl", type=int, default=3600)
    users = add("users", cmd_users, "Manage user roles: `users CONFIG grant USER ROLE`, `users CONFIG list`")
    users.add_argument("action", choices=("grant", "list"))
    users.add_argument("user", nargs="?")
    users.add_argument("role", nargs="?", choices=("candidate", "interviewer", "admin"))
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "action", None) == "grant" and not (args.user and args.role):
        parser().error("users grant needs USER and ROLE")
    try:
        return args.func(args) or 0
    except (PluginError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
