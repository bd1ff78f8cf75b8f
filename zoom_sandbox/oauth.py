"""Zoom's OAuth endpoints: authorization codes, /oauth/token and /oauth/revoke.

Behaviour the app must survive is imitated on purpose: single-use codes that
expire after 5 minutes, PKCE, refresh-token rotation with no grace period, and
revocation of older tokens when the same Zoom user authorizes again (4741).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from zoom_sandbox import scopes as sc
from zoom_sandbox.core import Sandbox
from zoom_sandbox.responses import fault_response, oauth_error
from zoom_sandbox.state import AuthCode, Grant, new_token
from zoom_sandbox.users import DemoUser

CODE_TTL = 300.0
REVOKED_REASON = "The token has been revoked"  # Zoom error 4741


class AuthorizeError(ValueError):
    """A problem with authorize parameters, shown to the user (never redirected)."""


def check_authorize(sandbox: Sandbox, params: dict[str, str]) -> list[str]:
    """Validate authorize parameters; return the scopes to grant."""
    if params.get("response_type", "code") != "code":
        raise AuthorizeError("Invalid response_type: only 'code' is supported (4700).")
    if params.get("client_id") != sandbox.config.client_id:
        raise AuthorizeError(f"Invalid client_id: {params.get('client_id', '')} (4702).")
    if not sandbox.config.redirect_allowed(params.get("redirect_uri", "")):
        raise AuthorizeError(f"Invalid redirect: {params.get('redirect_uri', '')} (4709).")
    method = params.get("code_challenge_method", "")
    if params.get("code_challenge") and method not in ("", "S256", "plain"):
        raise AuthorizeError("Invalid code_challenge_method: use S256 or plain.")
    granted = sc.grantable(params.get("scope", ""), sandbox.config.default_scopes)
    if not granted:
        raise AuthorizeError(f"Invalid scope: {params.get('scope', '')} (4711).")
    return granted


def issue_code(sandbox: Sandbox, user: DemoUser, params: dict[str, str]) -> tuple[str, str]:
    """Create a code for `user`; return (code, redirect location with code and state)."""
    granted = check_authorize(sandbox, params)
    code = new_token("", 24)
    challenge = params.get("code_challenge", "")
    sandbox.store.codes[code] = AuthCode(
        code=code, email=user.email, client_id=params["client_id"],
        redirect_uri=params["redirect_uri"], scopes=granted,
        expires_at=sandbox.store.now() + CODE_TTL, code_challenge=challenge,
        code_challenge_method=(params.get("code_challenge_method") or "plain") if challenge else "",
    )
    sandbox.store.save()
    return code, redirect_location(params["redirect_uri"], {"code": code, "state": params.get("state", "")})


def redirect_location(redirect_uri: str, query: dict[str, str]) -> str:
    sep = "&" if "?" in redirect_uri else "?"
    return redirect_uri + sep + urlencode({k: v for k, v in query.items() if v or k == "code"})


def pkce_ok(code: AuthCode, verifier: str) -> bool:
    if not code.code_challenge:
        return True
    if not verifier:
        return False
    if code.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        return hmac.compare_digest(computed, code.code_challenge)
    return hmac.compare_digest(verifier, code.code_challenge)


def client_authenticated(sandbox: Sandbox, request: Request) -> bool:
    """HTTP Basic base64(client_id:client_secret), as Zoom requires."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    client_id, _, secret = decoded.partition(":")
    return hmac.compare_digest(client_id, sandbox.config.client_id) and hmac.compare_digest(
        secret, sandbox.config.client_secret)


async def _params(request: Request) -> dict[str, str]:
    """Zoom reads token parameters from the form body or the query string."""
    params = {k: v for k, v in request.query_params.items()}
    form = await request.form()
    params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _token_body(sandbox: Sandbox, grant: Grant) -> dict[str, Any]:
    access, refresh = sandbox.store.issue_tokens(grant, sandbox.config.access_token_ttl,
                                                 sandbox.config.refresh_token_ttl)
    sandbox.store.save()
    return {
        "access_token": access,
        "token_type": "bearer",
        "refresh_token": refresh,
        "expires_in": sandbox.config.access_token_ttl,
        "scope": " ".join(grant.scopes),
        "api_url": sandbox.config.base_url,
    }


async def _faulted(sandbox: Sandbox, operation: str) -> tuple[Response | None, float]:
    """(response to answer now, delay to add after the work) for a planned fault."""
    fault = sandbox.take_fault(operation)
    if fault is None:
        return None, 0.0
    if fault.kind == "timeout-after":
        return None, fault.delay
    if fault.kind == "timeout":
        await sandbox.sleep(fault.delay)
    return fault_response(fault.kind, fault.status, sandbox.rate_limits(operation)), 0.0


async def token(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    params = await _params(request)
    grant_type = params.get("grant_type", "")
    sandbox.store.stats[f"token.{grant_type or 'missing'}"] += 1
    faulted, after = await _faulted(sandbox, "token")
    if faulted is not None:
        return faulted
    response = _token(sandbox, request, params, grant_type)
    if after:
        await sandbox.sleep(after)
    return response


def _token(sandbox: Sandbox, request: Request, params: dict[str, str], grant_type: str) -> Response:
    if not client_authenticated(sandbox, request):
        return oauth_error(401, "Invalid client_id or client_secret", "invalid_client")
    if grant_type == "authorization_code":
        return _exchange_code(sandbox, params)
    if grant_type == "refresh_token":
        return _refresh(sandbox, params)
    return oauth_error(400, "Unsupported grant type", "unsupported_grant_type")


def _exchange_code(sandbox: Sandbox, params: dict[str, str]) -> Response:
    store = sandbox.store
    code = store.codes.get(params.get("code", ""))
    if code is None or code.used or code.client_id != sandbox.config.client_id:
        return oauth_error(400, "Invalid authorization code", "invalid_request")  # 4734
    if code.expires_at <= store.now():
        return oauth_error(400, "Authorization code is expired", "invalid_request")  # 4733
    if params.get("redirect_uri", "") != code.redirect_uri:
        return oauth_error(400, "Redirect URI mismatch.", "invalid_request")  # 4709
    if not pkce_ok(code, params.get("code_verifier", "")):
        return oauth_error(400, "Invalid code_verifier", "invalid_request")
    code.used = True
    previous = store.active_grant(code.email, code.client_id)
    if previous is not None:
        # A newer authorization of the same Zoom user kills the older tokens (4741).
        store.revoke_grant(previous, REVOKED_REASON)
    grant = Grant(id=new_token("g", 9), email=code.email, client_id=code.client_id,
                  scopes=list(code.scopes), created_at=store.now())
    store.grants[grant.id] = grant
    return JSONResponse(_token_body(sandbox, grant))


def _refresh(sandbox: Sandbox, params: dict[str, str]) -> Response:
    store = sandbox.store
    entry = store.refresh_tokens.get(params.get("refresh_token", ""))
    if entry is None:
        return oauth_error(400, "Invalid Token!", "invalid_grant")
    grant = store.grants.get(entry[0])
    if grant is None or grant.status != "active":
        revoked = grant is not None and grant.revoked_reason == REVOKED_REASON
        return oauth_error(400, REVOKED_REASON if revoked else "Invalid Token!", "invalid_grant")
    if entry[1] != "active" or store.refresh_expired(params.get("refresh_token", "")):
        # Rotation without grace: an already-used refresh token is dead; so is one past its lifetime.
        return oauth_error(400, "Invalid Token!", "invalid_grant")
    return JSONResponse(_token_body(sandbox, grant))


async def revoke(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    sandbox.store.stats["revoke"] += 1
    faulted, after = await _faulted(sandbox, "revoke")
    if faulted is not None:
        return faulted
    params = await _params(request)
    if not client_authenticated(sandbox, request):
        response: Response = oauth_error(401, "Invalid client_id or client_secret", "invalid_client")
    else:
        response = _revoke(sandbox, params.get("token", ""))
    if after:
        await sandbox.sleep(after)
    return response


def _revoke(sandbox: Sandbox, token_value: str) -> Response:
    store = sandbox.store
    grant_id = None
    if token_value in store.access_tokens:
        grant_id = store.access_tokens[token_value].grant_id
    elif (token_value in store.refresh_tokens and store.refresh_tokens[token_value][1] == "active"
          and not store.refresh_expired(token_value)):
        grant_id = store.refresh_tokens[token_value][0]
    grant = store.grants.get(grant_id or "")
    if grant is None or grant.status != "active":
        return oauth_error(400, "Invalid Token!", "invalid_request")
    sandbox.deauthorize(grant, "revoked by the app")
    return JSONResponse({"status": "success"})
