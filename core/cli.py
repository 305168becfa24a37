"""The ``interviewminds`` command: plugins, migrate, worker, jobs, token, users, and plugin
commands as ``interviewminds <plugin id> <command> CONFIG [...]`` (``interviewminds_cli``)."""
from __future__ import annotations

import argparse
import json
import sys

from core.lookup import PLUGINS, find_service
from core.permissions import ROLES
from core.plugins import PluginError
from core.settings import SettingsError

CORE_COMMANDS = ("plugins", "migrate", "worker", "jobs", "token", "users")


def bootstrap(config_uri: str, *, start: bool = False):
    """Load the ini's app settings and build the app; returns its registry.

    ``start`` also runs the plugins' startup hooks (and their shutdown hooks at exit), as a
    long-running process such as a worker must.
    """
    from pyramid.paster import get_appsettings, setup_logging

    from core import app

    setup_logging(config_uri)
    config = app.build_config(get_appsettings(config_uri, name="main"))
    config.commit()
    if start:
        app.start(config.registry)
    return config.registry


def cmd_plugins(args) -> int:
    registry = bootstrap(args.config)
    infos = find_service(registry, PLUGINS).infos
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
                              ("permissions", info.permissions), ("rate limits", info.rate_limit_paths),
                              ("identity", info.identity_sources), ("services", info.services),
                              ("uses", info.optional_services),
                              ("settings", info.settings)):
            print(f"  {label + ':':15}{', '.join(values) if values else '-'}")
    return 0


def cmd_migrate(args) -> int:
    from core.storage import migrate, migrate_documents

    registry = bootstrap(args.config)
    infos = find_service(registry, PLUGINS).infos
    prefixes = ("core.",) + tuple(info.module.__name__ for info in infos.values())
    for name, indexes in migrate(prefixes):
        print(f"{name}: {', '.join(indexes)}")
    for note in migrate_documents(prefixes):  # printed only when a migration changed something
        print(f"migrated {note}")
    return 0


def cmd_worker(args) -> int:
    from core.jobs import run_worker

    from core.app import shutdown

    registry = bootstrap(args.config, start=True)
    try:
        run_worker(registry, burst=args.burst)
    finally:
        shutdown(registry)
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
    add("migrate", cmd_migrate, "Create every index declared by core and the enabled plugins, and run "
        "their data migrations (idempotent)")
    add("worker", cmd_worker, "Run an RQ worker over the enabled plugins' queues").add_argument(
        "--burst", action="store_true", help="exit when the queues are empty")
    add("jobs", cmd_jobs, "Queued, started, scheduled, failed and finished counts per queue").add_argument(
        "--json", action="store_true")
    token = add("token", cmd_token, "Print a dev bearer token (dev configs only); records the user's role")
    token.add_argument("--user", required=True)
    token.add_argument("--role", required=True, choices=ROLES)
    token.add_argument("--ttl", type=int, default=3600)
    users = add("users", cmd_users, "Manage user roles: `users CONFIG grant USER ROLE`, `users CONFIG list`")
    users.add_argument("action", choices=("grant", "list"))
    users.add_argument("user", nargs="?")
    users.add_argument("role", nargs="?", choices=ROLES)
    p.epilog = ("Plugin commands: interviewminds <plugin id> <command> CONFIG [...] "
                "(`interviewminds <plugin id> --help CONFIG` lists them).")
    return p


class PluginCommands:
    """What ``interviewminds_cli`` receives: one plugin's argparse sub-parsers, each command
    given the CONFIG argument and run with the app's registry."""

    def __init__(self, subparsers):
        self._subparsers = subparsers

    def add_parser(self, name: str, **kwargs) -> argparse.ArgumentParser:
        kwargs.setdefault("description", kwargs.get("help"))
        command = self._subparsers.add_parser(name, **kwargs)
        command.add_argument("config", help="PasteDeploy ini file, e.g. development.ini")
        return command


def plugin_parser(plugin_id: str, config_uri: str) -> argparse.ArgumentParser:
    """The parser of ``interviewminds <plugin_id> ...``, built from the plugins CONFIG enables."""
    from pyramid.paster import get_appsettings

    from core.app import load_settings

    _, pm, infos = load_settings(get_appsettings(config_uri, name="main"))
    if plugin_id not in infos:
        raise PluginError(f"no enabled plugin {plugin_id!r} in {config_uri} "
                          f"(enabled: {', '.join(infos) or 'none'}; core commands: {', '.join(CORE_COMMANDS)})")
    p = argparse.ArgumentParser(prog=f"interviewminds {plugin_id}", description=f"Commands of plugin {plugin_id}")
    sub = p.add_subparsers(dest="plugin_command", required=True)
    impl = next((i for i in pm.hook.interviewminds_cli.get_hookimpls() if i.plugin_name == plugin_id), None)
    if impl is None:
        raise PluginError(f"plugin {plugin_id!r} adds no commands")
    impl.function(subparsers=PluginCommands(sub))
    return p


def run_plugin_command(argv: list[str]) -> int:
    plugin_id, rest = argv[0], argv[1:]
    config_uri = next((a for a in rest if not a.startswith("-") and a.endswith(".ini")), None)
    if config_uri is None:
        print(f"usage: interviewminds {plugin_id} <command> CONFIG [...] (CONFIG names the enabled plugins)",
              file=sys.stderr)
        return 2
    args = plugin_parser(plugin_id, config_uri).parse_args(rest)
    if not callable(getattr(args, "func", None)):
        raise PluginError(f"plugin {plugin_id!r}: command {args.plugin_command!r} sets no func")
    return args.func(args, bootstrap(args.config)) or 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv and not argv[0].startswith("-") and argv[0] not in CORE_COMMANDS:
            return run_plugin_command(argv)
        args = parser().parse_args(argv)
        if getattr(args, "action", None) == "grant" and not (args.user and args.role):
            parser().error("users grant needs USER and ROLE")
        return args.func(args) or 0
    except (PluginError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
