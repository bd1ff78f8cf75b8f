"""What can go wrong with Zoom, as small domain exceptions the services and pages understand."""

from __future__ import annotations


class ZoomError(Exception):
    """A Zoom call failed. `status` is the HTTP status (0 when nothing came back)."""

    retryable = False

    def __init__(self, message: str, *, status: int = 0, code: int | None = None) -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


class ZoomUnavailable(ZoomError):
    """Timeout, connection failure, 5xx or an unreadable body: try again later."""

    retryable = True


class ZoomRateLimited(ZoomError):
    """429. `daily` is the 100 create/update per user per day limit (resets 00:00 UTC)."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None, daily: bool) -> None:
        super().__init__(message, status=429)
        self.retry_after, self.daily = retry_after, daily


class ZoomAccessTokenInvalid(ZoomError):
    """401 code 124: the access token expired or was revoked; refresh once and retry once."""


class ZoomMeetingNotFound(ZoomError):
    """404 code 3001: the meeting is gone at Zoom."""


class ZoomRejected(ZoomError):
    """Zoom refused the request (validation, meeting in progress, missing scope …)."""


class ZoomNotConnected(Exception):
    """The practitioner has no usable Zoom connection (never connected, removed, or not allowed)."""


class ZoomNeedsReconnect(ZoomNotConnected):
    """Zoom refused the refresh token: only connecting again can restore the connection."""


class ZoomNotAllowed(ZoomNotConnected):
    """The practice has not allowed Zoom integration."""
