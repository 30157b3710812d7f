"""The `lieux` command: Django's management commands with the project's settings.

lieux migrate          lieux demo           lieux serve
lieux token EMAIL      lieux help           (and every other Django command)
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lieux.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["lieux", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
