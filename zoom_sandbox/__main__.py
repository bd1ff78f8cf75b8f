"""`python -m zoom_sandbox`: run the sandbox with flags (environment as defaults)."""

from __future__ import annotations

import argparse
import dataclasses
import sys

import uvicorn

from zoom_sandbox.app import create_app
from zoom_sandbox.config import SandboxConfig, _floats


def parse_args(argv: list[str] | None = None) -> SandboxConfig:
    env = SandboxConfig.from_env()
    p = argparse.ArgumentParser(prog="python -m zoom_sandbox",
                                description="Local imitation of Zoom OAuth, Meetings API and webhooks.")
    p.add_argument("--host", default=env.host, help="ZOOM_SANDBOX_HOST (127.0.0.1)")
    p.add_argument("--port", type=int, default=env.port, help="ZOOM_SANDBOX_PORT (8765)")
    p.add_argument("--client-id", default=env.client_id, help="ZOOM_CLIENT_ID")
    p.add_argument("--client-secret", default=env.client_secret, help="ZOOM_CLIENT_SECRET")
    p.add_argument("--redirect-uri", default=env.redirect_uri,
                   help="ZOOM_REDIRECT_URI: one URI, a comma-separated list, or * (any; sandbox only)")
    p.add_argument("--webhook-url", default=env.webhook_url, help="ZOOM_WEBHOOK_URL (empty: no delivery)")
    p.add_argument("--webhook-secret", default=env.webhook_secret, help="ZOOM_WEBHOOK_SECRET_TOKEN")
    p.add_argument("--enable-control", action="store_true", default=env.enable_control,
                   help="ZOOM_SANDBOX_CONTROL=1: enable the /_sandbox control API")
    p.add_argument("--state-file", default=env.state_file, help="ZOOM_SANDBOX_STATE_FILE (empty: memory)")
    p.add_argument("--access-token-ttl", type=int, default=env.access_token_ttl,
                   help="ZOOM_SANDBOX_ACCESS_TOKEN_TTL seconds (3599)")
    p.add_argument("--refresh-token-ttl", type=int, default=env.refresh_token_ttl,
                   help="ZOOM_SANDBOX_REFRESH_TOKEN_TTL seconds (7776000 = 90 days)")
    p.add_argument("--start-url-ttl", type=int, default=env.start_url_ttl,
                   help="ZOOM_SANDBOX_START_URL_TTL seconds (7200)")
    p.add_argument("--webhook-retry-delays", default=",".join(f"{d:g}" for d in env.webhook_retry_delays),
                   help="ZOOM_SANDBOX_WEBHOOK_RETRY_DELAYS seconds, comma separated "
                        "(300,1200,3600: Zoom's 5, 20, 60 minutes)")
    p.add_argument("--webhook-timeout", type=float, default=env.webhook_timeout,
                   help="ZOOM_SANDBOX_WEBHOOK_TIMEOUT seconds (3)")
    p.add_argument("--qps", type=int, default=env.qps, help="ZOOM_SANDBOX_QPS per user (30)")
    p.add_argument("--daily-limit", type=int, default=env.daily_limit,
                   help="ZOOM_SANDBOX_DAILY_LIMIT create/update per user per day (100)")
    p.add_argument("--public-url", default=env.public_url,
                   help="ZOOM_SANDBOX_PUBLIC_URL (default http://HOST:PORT)")
    a = p.parse_args(argv)
    return dataclasses.replace(
        env, host=a.host, port=a.port, client_id=a.client_id, client_secret=a.client_secret,
        redirect_uri=a.redirect_uri, webhook_url=a.webhook_url, webhook_secret=a.webhook_secret,
        enable_control=a.enable_control, state_file=a.state_file, access_token_ttl=a.access_token_ttl,
        refresh_token_ttl=a.refresh_token_ttl, start_url_ttl=a.start_url_ttl,
        webhook_retry_delays=_floats(a.webhook_retry_delays),
        webhook_timeout=a.webhook_timeout, qps=a.qps, daily_limit=a.daily_limit, public_url=a.public_url,
    )


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    print(f"Zoom sandbox on {config.base_url} (OAuth {config.base_url}/oauth, API {config.base_url}/v2, "
          f"admin {config.base_url}/_sandbox/admin, control API "
          f"{'on' if config.enable_control else 'off'})", file=sys.stderr)
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
