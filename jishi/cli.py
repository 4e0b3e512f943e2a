"""The ``jishi`` command: ``jishi demo|serve|worker|check-ledger|seed|<any manage.py command>``."""

from __future__ import annotations

import os
import sys

ALIASES = {
    "check-ledger": "check_ledger",
}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jishi.settings")
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = ALIASES.get(args[1], args[1].replace("-", "_"))
        if args[1] == "demo":
            # Before settings load: the demo's sandbox payments and its own secret key.
            os.environ.setdefault("JISHI_DEMO", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(args)


if __name__ == "__main__":
    main()
