"""The `lieux` command: Django's management commands with the project's settings.

lieux migrate          lieux demo           lieux serve
lieux token EMAIL      lieux billing run    lieux helloasso-import
lieux help             (and every other Django command; hyphens and underscores are the same in names)
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lieux.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")  # Django names commands after modules: helloasso_import
    execute_from_command_line(["lieux", *args])


if __name__ == "__main__":
    main()
