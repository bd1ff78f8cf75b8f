"""Management commands: `python -m rxapp.manage migrate|demo-data|demo-week|ensure-key|banner`."""

from __future__ import annotations

import argparse

from rxapp import migrate
from rxapp.dev import demo_data
from rxapp.services import crypto
from rxapp.settings import get_settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m rxapp.manage")
    parser.add_argument("command", choices=["migrate", "demo-data", "demo-week", "ensure-key", "banner"])
    args = parser.parse_args()
    settings = get_settings()
    if args.command == "migrate":
        migrate.upgrade()
        print("Database migrated to the newest revision.")
    elif args.command == "ensure-key":
        if not settings.secret_keys:
            crypto.ensure_key_file(settings.secret_key_file)
    elif args.command == "demo-data":
        created = demo_data.load_demo_data()
        print("Demo data loaded." if created else "Demo data already present.")
    elif args.command == "demo-week":
        added = demo_data.load_demo_week()
        print(f"Demo week loaded: {added} appointments." if added else "Demo appointments already present.")
        blocks = demo_data.load_demo_availability()
        print(f"Demo availability loaded: {blocks} weekly blocks." if blocks else "Demo availability already present.")
    else:
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
