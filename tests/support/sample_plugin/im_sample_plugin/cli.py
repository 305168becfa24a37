"""Commands: `interviewminds sample <command> CONFIG [...]`."""
from __future__ import annotations

from core import find_service
from im_sample_plugin.declarations import NOTES


def add_commands(subparsers) -> None:
    count = subparsers.add_parser("count-notes", help="Print how many notes a user has.")
    count.add_argument("--owner", required=True, help="the user id")
    count.set_defaults(func=count_notes)


def count_notes(args, registry) -> int:
    print(find_service(registry, NOTES).count(args.owner))
    return 0
