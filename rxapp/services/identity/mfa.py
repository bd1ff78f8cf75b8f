"""Two-step sign-in for staff: an authenticator app's codes (TOTP) and single-use recovery codes.

- TOTP as RFC 6238 specifies it over RFC 4226's HOTP: HMAC-SHA1, 30-second steps, 6 digits (what
  every authenticator app uses by default); a code of the step before or after is accepted too (clock
  drift), and a step once accepted never again (`User.mfa_last_step`), so a code seen over someone's
  shoulder cannot be replayed within its window.
- The secret (160 random bits) is shown once as a QR code (`otpauth://` URI) and as text, stored
  encrypted with SECRET_KEYS (services.crypto), and only after a first code proves the app has it.
- 10 recovery codes are shown once and stored as SHA-256; each works once, in place of a code.
- Wrong codes count toward the same lockout as wrong passwords (services.identity.auth).
- Turning it off needs the password; the owner can reset it for a team member who lost their device
  (their sessions end, they are emailed). Every change is audited. Clients are never asked for it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

import segno
from sqlalchemy import update
from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import MfaRecoveryCode, Practice, Role, User
from rxapp.services import crypto
from rxapp.services.audit import trail
from rxapp.services.identity import sessions
from rxapp.services.identity.passwords import verify_password
from rxapp.services.notify.outbox import OutgoingEmail, queue_email
from rxapp.services.permissions import Action, NotAllowed, Principal, require

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # one step either side
RECOVERY_CODES = 10
STAFF_ROLES = frozenset({Role.OWNER, Role.MANAGER, Role.PRACTITIONER, Role.STAFF})


class CodeRejected(Exception):
    """The code is wrong, expired or already used."""

    def __init__(self, message: str = "That code is not right. Check your authenticator app and try again.") -> None:
        super().__init__(message)


# -- RFC 4226 / RFC 6238 ---------------------------------------------------------------------------------

def new_secret() -> str:
    """A fresh TOTP secret: 20 random bytes, base32 without padding (what authenticator apps read)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    return base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS, digest: str = "sha1") -> str:
    """RFC 4226 section 5.3: HMAC of the 8-byte counter, dynamically truncated."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def step_at(moment: datetime) -> int:
    """RFC 6238 section 4: T = floor((unix time - T0) / X), T0 = 0, X = 30 s."""
    return int(moment.timestamp()) // STEP_SECONDS


def code_at(secret: str, moment: datetime) -> str:
    return hotp(_key(secret), step_at(moment))


def _matching_step(secret: str, code: str, moment: datetime) -> int | None:
    """The time step whose code this is (within the drift), or None."""
    typed = "".join(code.split())
    if len(typed) != DIGITS or not typed.isdigit():
        return None
    current = step_at(moment)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(hotp(_key(secret), step), typed):
            return step
    return None


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The `otpauth://totp/...` URI an authenticator app reads from the QR code (Key Uri Format)."""
    label = quote(f"{issuer}:{account}")
    query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS,
                       "period": STEP_SECONDS})
    return f"otpauth://totp/{label}?{query}"


def qr_svg_data_uri(uri: str) -> str:
    """The QR code of `uri` as an SVG data URI (the page shows it; nothing leaves the server)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


# -- a person's second factor -------------------------------------------------------------------------

def required_for(user: User, practice: Practice | None) -> bool:
    """Whether this person must have a second step: staff of a practice that requires it."""
    return Role(user.role) in STAFF_ROLES and practice is not None and practice.require_staff_mfa


def enabled(user: User) -> bool:
    return user.mfa_secret_encrypted is not None and user.mfa_enabled_at is not None


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret (to type) and its QR code (to scan)."""

    secret: str
    uri: str
    qr: str


def start_enrolment(user: User, issuer: str) -> Enrolment:
    secret = new_secret()
    uri = provisioning_uri(secret, user.email, issuer)
    return Enrolment(secret=secret, uri=uri, qr=qr_svg_data_uri(uri))


def _digest(code: str) -> str:
    return hashlib.sha256("".join(code.split()).lower().encode()).hexdigest()


def _retire_recovery_codes(session: Session, user: User) -> None:
    session.execute(update(MfaRecoveryCode).where(col(MfaRecoveryCode.user_id) == user.id,
                                                  col(MfaRecoveryCode.used_at).is_(None)).values(used_at=now()))


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    _retire_recovery_codes(session, user)
    codes = ["-".join(secrets.token_hex(3) for _ in range(2)) for _ in range(RECOVERY_CODES)]
    for code in codes:
        session.add(MfaRecoveryCode(practice_id=user.practice_id, user_id=user.id or 0, code_hash=_digest(code)))
    return codes


def finish_enrolment(session: Session, user: User, secret: str, code: str, actor: int | None) -> list[str]:
    """The first code proves the app has the secret: two-step sign-in is on; returns the 10 recovery
    codes (shown once). Raises `CodeRejected` (also for a secret that is not one `start_enrolment`
    made: the codes of an empty or short key are anyone's to compute)."""
    try:
        strong = len(_key(secret)) >= 20
    except ValueError:  # binascii.Error: not base32
        strong = False
    step = _matching_step(secret, code, now()) if strong else None
    if step is None:
        raise CodeRejected()
    user.mfa_secret_encrypted, user.mfa_enabled_at, user.mfa_last_step = crypto.encrypt(secret), now(), step
    codes = _new_recovery_codes(session, user)
    trail.record(session, practice_id=user.practice_id, actor_user_id=actor, action="user.mfa_enabled",
                 subject_type="user", subject_id=user.id or 0)
    return codes


def check_code(session: Session, user: User, code: str) -> str:
    """A sign-in's second step: a current authenticator code never used before, or an unused recovery
    code (used up by this). Returns "code" or "recovery". Raises `CodeRejected`. Two requests never
    both accept one step: the step is claimed by one UPDATE ... WHERE mfa_last_step < step."""
    if not enabled(user):
        raise CodeRejected()
    secret = crypto.decrypt(user.mfa_secret_encrypted or "")
    step = _matching_step(secret, code, now())
    if step is not None:
        if step <= user.mfa_last_step:
            raise CodeRejected("That code was used already. Wait for the next one in your authenticator app.")
        claimed = session.execute(update(User).where(col(User.id) == user.id, col(User.mfa_last_step) < step)
                                  .values(mfa_last_step=step))
        if claimed.rowcount != 1:  # another request took this step a moment ago
            raise CodeRejected("That code was used already. Wait for the next one in your authenticator app.")
        return "code"
    used = session.execute(update(MfaRecoveryCode).where(
        col(MfaRecoveryCode.user_id) == user.id, col(MfaRecoveryCode.code_hash) == _digest(code),
        col(MfaRecoveryCode.used_at).is_(None)).values(used_at=now()))
    if used.rowcount == 1:  # claimed atomically: one UPDATE ... WHERE unused
        trail.record(session, practice_id=user.practice_id, actor_user_id=user.id, action="user.mfa_recovery_used",
                     subject_type="user", subject_id=user.id or 0)
        return "recovery"
    raise CodeRejected()


def recovery_codes_left(session: Session, user_id: int) -> int:
    return len(session.exec(select(MfaRecoveryCode.id).where(MfaRecoveryCode.user_id == user_id,
                                                            col(MfaRecoveryCode.used_at).is_(None))).all())


def turn_off(session: Session, user: User, actor: int | None, action: str = "user.mfa_disabled") -> None:
    """No second step any more (the secret and unused recovery codes are destroyed)."""
    user.mfa_secret_encrypted, user.mfa_enabled_at, user.mfa_last_step = None, None, 0
    _retire_recovery_codes(session, user)
    trail.record(session, practice_id=user.practice_id, actor_user_id=actor, action=action,
                 subject_type="user", subject_id=user.id or 0)


# -- what a signed-in person (and the owner) does -------------------------------------------------------

@dataclass(frozen=True)
class MfaStatus:
    enabled: bool
    required: bool  # the practice requires it of staff
    recovery_codes_left: int


def status(principal: Principal) -> MfaStatus:
    with unit_of_work() as session:
        user, practice = _me(session, principal)
        return MfaStatus(enabled=enabled(user), required=required_for(user, practice),
                         recovery_codes_left=recovery_codes_left(session, user.id or 0) if enabled(user) else 0)


def _me(session: Session, principal: Principal) -> tuple[User, Practice | None]:
    user = session.get(User, principal.user_id)
    if user is None or Role(user.role) not in STAFF_ROLES:
        raise NotAllowed("two-step sign-in is for the practice's staff")
    return user, session.get(Practice, user.practice_id)


def begin(principal: Principal) -> Enrolment:
    """A new secret and QR code for the signed-in staff member (nothing is stored until `enable`)."""
    with unit_of_work() as session:
        user, practice = _me(session, principal)
        return start_enrolment(user, practice.name if practice else "Telehealth")


def enable(principal: Principal, secret: str, code: str) -> list[str]:
    """Turn two-step sign-in on with the app's first code; returns the recovery codes (shown once).
    Raises `CodeRejected`."""
    with unit_of_work() as session:
        user, _ = _me(session, principal)
        return finish_enrolment(session, user, secret, code, principal.user_id)


def disable(principal: Principal, password: str) -> None:
    """Turn it off, with the password. Refused (`NotAllowed`) where the practice requires it;
    raises `CodeRejected` with a password message for a wrong password."""
    with unit_of_work() as session:
        user, practice = _me(session, principal)
        if required_for(user, practice):
            raise NotAllowed("Your practice requires two-step sign-in, so it stays on.")
        if not verify_password(user.password_hash, password):
            raise CodeRejected("That password is not right.")
        turn_off(session, user, principal.user_id)


def reset_for(principal: Principal, user_id: int) -> str:
    """The owner resets a team member's two-step sign-in (a lost phone): it is off, their sessions
    end, they are emailed; returns their name. Raises `NotAllowed` for anyone not in the team."""
    require(principal, Action.MANAGE_TEAM)
    if Role(principal.role) != Role.OWNER:
        raise NotAllowed("only the owner resets two-step sign-in")
    with unit_of_work() as session:
        user = session.get(User, user_id)
        if user is None or user.practice_id != principal.practice_id or Role(user.role) not in STAFF_ROLES:
            raise NotAllowed("not a member of your team")
        turn_off(session, user, principal.user_id, action="user.mfa_reset")
        sessions.end_all(session, user.id or 0)
        practice = session.get(Practice, user.practice_id)
        queue_email(session, practice_id=user.practice_id, key=f"mfa-reset:{user.id}:{now().isoformat()}",
                    email=OutgoingEmail(to=user.email, subject="Your two-step sign-in was reset", text=(
                        f"Hello {user.full_name},\n\n{principal.full_name} reset your two-step sign-in, so the "
                        "authenticator app and recovery codes you had no longer work, and you were signed out "
                        "everywhere. "
                        + ("Your practice requires two-step sign-in: you will set it up again when you next sign "
                           "in." if practice and practice.require_staff_mfa else
                           "Set it up again on the Security tab of My profile.")
                        + "\n\nIf you did not ask for this, tell your practice's owner at once.\n")))
        return user.full_name


def set_required(principal: Principal, required: bool) -> None:
    """The owner requires (or stops requiring) two-step sign-in of every staff member."""
    require(principal, Action.MANAGE_TEAM)
    if Role(principal.role) != Role.OWNER:
        raise NotAllowed("only the owner decides this")
    with unit_of_work() as session:
        practice = session.get(Practice, principal.practice_id)
        assert practice is not None
        trail.set_practice_setting(session, practice, "require_staff_mfa", required, actor_user_id=principal.user_id,
                                   action="practice.mfa_required" if required else "practice.mfa_not_required")
