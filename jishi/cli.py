"""The ``jishi`` command: ``jishi demo|serve|worker|check-ledger|seed|<any manage.py command>``."""

from __future__ import annotations

import os
import sys

ALIASES = {
    "check-ledger": "check_ledger",
    "worker": "run_huey",
}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jishi.settings")
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = ALIASES.get(args[1], args[1].replace("-", "_"))
    from django.core.management import execute_from_command_line

    execute_from_command_line(args)


if __name__ == "__main__":
    main()
