"""Management commands: `python -m rxapp.manage migrate|setup-code|create-practice|backup FILE|restore FILE|
demo-data|demo-week|demo|ensure-key|banner` (`demo`: migrate, demo-data and demo-week in one process, as
`make run` prepares its database)."""

from __future__ import annotations

import argparse

from rxapp.settings import get_settings

# Each command imports what it uses: `ensure-key` runs on every `make run` and `make test` and needs
# 0.2 s that way, against 1.2 s with the whole app (Alembic, the services, the demo practice).


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m rxapp.manage")
    parser.add_argument("command", choices=["migrate", "setup-code", "create-practice", "backup", "restore",
                                            "demo-data", "demo-week", "demo", "ensure-key", "banner"])
    parser.add_argument("file", nargs="?", help="backup / restore: the backup file")
    parser.add_argument("--name", help="create-practice: the practice's name")
    parser.add_argument("--owner-email", help="create-practice: the owner's email (they get an invite link)")
    parser.add_argument("--owner-name", default="", help="create-practice: the owner's name (default: the email)")
    parser.add_argument("--timezone", default="America/New_York", help="create-practice: the practice's timezone")
    parser.add_argument("--country", default="US", help="create-practice: ISO country code of its phone numbers")
    parser.add_argument("--address", default="", help="create-practice: where in-person visits take place")
    parser.add_argument("--pos-code", default="10", help="create-practice: telehealth place of service (02 or 10)")
    args = parser.parse_args()
    for step in _STEPS.get(args.command, (args.command,)):
        _run(step, args)


# `make run` prepares its database in one process (each start of Python and the app's imports costs ~1 s).
_STEPS = {"demo": ("migrate", "demo-data", "demo-week")}


def _run(command: str, args: argparse.Namespace) -> None:
    settings = get_settings()
    if command == "migrate":
        from rxapp import migrate

        migrate.upgrade()
        print("Database migrated to the newest revision.")
    elif command in ("backup", "restore"):
        from rxapp import backup

        if not args.file:
            raise SystemExit(f"{command} needs a FILE.")
        try:
            revision = (backup.backup if command == "backup" else backup.restore)(args.file)
        except backup.BackupRefused as exc:
            raise SystemExit(f"Not restored: {exc}") from exc
        print(f"Backed up to {args.file} (schema {revision})." if command == "backup" else
              f"Restored {args.file} (schema {revision}), then migrated to the newest revision.")
    elif command == "setup-code":
        from rxapp.services.practice import setup

        code = setup.new_setup_code()
        if code is None:
            raise SystemExit("This installation has its practice already: sign in at /login.")
        print(f"Open {settings.app_url}/setup and enter this one-time setup code: {code}")
    elif command == "create-practice":
        from rxapp.services.practice import setup

        if not args.name or not args.owner_email:
            raise SystemExit("create-practice needs --name and --owner-email.")
        form = setup.PracticeForm(practice_name=args.name, timezone=args.timezone, country=args.country.upper(),
                                  address=args.address, pos_code=args.pos_code,
                                  owner_name=args.owner_name or args.owner_email, owner_email=args.owner_email)
        try:
            link = setup.create_practice(form)
        except setup.SetupInvalid as exc:
            raise SystemExit("Not created: " + "; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from exc
        print(f"Practice {args.name!r} created. The owner sets a password with this link (also emailed): {link}")
    elif command == "ensure-key":
        from rxapp.services import crypto

        if not settings.secret_keys:
            crypto.ensure_key_file(settings.secret_key_file)
    elif command == "demo-data":
        from rxapp.dev import demo_data

        created = demo_data.load_demo_data()
        print("Demo data loaded." if created else "Demo data already present.")
    elif command == "demo-week":
        from rxapp.dev import demo_data

        added = demo_data.load_demo_week()
        print(f"Demo week loaded: {added} appointments." if added else "Demo appointments already present.")
        blocks = demo_data.load_demo_availability()
        print(f"Demo availability loaded: {blocks} weekly blocks." if blocks else "Demo availability already present.")
    else:
        from rxapp.dev import demo_data

        print(f"\n  App:            {settings.app_url}")
        print(f"  Zoom sandbox:   {settings.zoom_oauth_base_url}/_sandbox/admin")
        print(f"  Caught mail:    {settings.app_url}/dev/mail")
        print(f"  Caught SMS:     {settings.app_url}/dev/sms")
        print(f"\n  Demo sign-ins (password: {demo_data.DEMO_PASSWORD}):")
        for email, role in demo_data.demo_sign_ins():
            print(f"    {email:<24} {role}")
        print("\n  Press Ctrl-C to stop everything.\n", flush=True)


if __name__ == "__main__":
    main()
