"""Who may do what: password hashes, server-side sessions, login throttling, and the ASGI
middlewares that guard every request (a session cookie for every page but the login page; a CSRF
token on every state-changing request; security headers).

- Passwords are hashed with argon2id (argon2-cffi's PasswordHasher and its default parameters,
  RFC 9106's low-memory profile); a hash made with older parameters is replaced at the next login.
- Sessions live in the store (table `sessions`): the cookie (HttpOnly, SameSite=Lax, Secure with
  `https_only`) carries only a random token, the store its sha256 with the user, times and client
  address. A session ends on logout, when the user's password is set again (their other sessions),
  when the user is disabled, after `idle` seconds without a request and `max_age` after login.
  The user's row is read on every request, so a changed role takes effect at once. The cookie
  outlives the session by `grace`, so a form sent after its session ended still names its user and
  can be kept for them (the review form is; see app.py).
- The CSRF token is an HMAC of the cookie's token under the key in `<db>.session-key` (mode 0600,
  made on the first start); the login page gives a visitor an anonymous token first.
- Failed logins are counted per (name, client address) and per client address: a name is slowed
  from the address that guesses it, never locked for its owner elsewhere. They are counted in the
  store (table `login_failures`), so every server process counts the same tries and a restart
  forgets none.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, quote

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse

ROLES = ("reviewer", "admin")
# Names go into history rows next to `batch` and `model@<version>`: no `@`, not `batch`.
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
RESERVED_NAMES = {"batch", "model"}
MIN_PASSWORD = 8
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PUBLIC_PATHS = ("/login", "/static/", "/favicon.ico")
MAX_FORM_BYTES = 1 << 20
COOKIE = "jirei_session"
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)

_hasher = PasswordHasher()


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so an unknown name costs the same time."""
    return _hasher.hash(secrets.token_hex(16))


def check_username(name: str) -> str | None:
    """Why `name` cannot be a user name, or None."""
    if not USERNAME_RE.match(name or ""):
        return "user names are 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit"
    if name.lower() in RESERVED_NAMES or name.lower().startswith("model"):
        return f"{name!r} is reserved for the store's own entries"
    return None


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(store, name: str, password: str) -> dict | None:
    """The active user with this name and password, or None. Rehashes outdated hashes."""
    user = store.user(name) if USERNAME_RE.match(name or "") else None
    if user is None:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user["password_hash"], password):
        return None
    if _hasher.check_needs_rehash(user["password_hash"]):
        store.rehash_password(user["name"], _hasher.hash(password))  # same password: sessions go on
    return user


class LoginThrottle:
    """At most `limit` failed logins for one name from one client address, and `address_limit`
    failed logins from one address whatever the names, in `window` seconds; then that pair (or
    address) waits. Someone guessing a colleague's password slows only their own address: the
    colleague logs in from theirs as usual.

    The failures are counted in the store (table `login_failures`), not in the process: every
    server process of `jirei serve --workers N` counts the same tries, and a restart forgets
    none. A try is counted as failed when it begins (`attempt`), in the same write transaction
    that checks the limits, and forgotten when it succeeds (`succeeded`): tries sent at once to
    different processes cannot get past a limit together. Names count case-blind, by their first
    64 characters (no user name is longer; a guesser's megabyte name is not kept whole)."""

    def __init__(self, limit: int = 5, window: float = 300.0, address_limit: int = 20):
        self.limit, self.window, self.address_limit = limit, window, address_limit

    def _wait(self, counts: dict, at: datetime) -> tuple[int, str]:
        for why, limit in (("name", self.limit), ("address", self.address_limit)):
            count, earliest = counts[why]
            if count >= limit:
                waited = (at - _utc(earliest)).total_seconds()
                return max(int(self.window - waited) + 1, 1), why
        return 0, ""

    def wait_seconds(self, store, name: str, address: str = "") -> tuple[int, str]:
        """Seconds to wait before this name may try from this address (0: go on), and why
        ("name": this name from this address; "address": every name from it). Reads only."""
        at = datetime.now(timezone.utc)
        since = _stamp(at - timedelta(seconds=self.window))
        return self._wait(store.login_failures(_counted(name), address, since), at)

    def attempt(self, store, name: str, address: str = "") -> tuple[int, str]:
        """As `wait_seconds`; when the answer is 0 (go on), this try is counted as a failed
        login until `succeeded` is called for it."""
        at = datetime.now(timezone.utc)
        counted, counts = store.login_attempt(_counted(name), address, at=_stamp(at),
                                              since=_stamp(at - timedelta(seconds=self.window)),
                                              limit=self.limit, address_limit=self.address_limit)
        return (0, "") if counted else self._wait(counts, at)

    def succeeded(self, store, name: str, address: str = "") -> None:
        """The pair's failures are forgotten (and leave the address's count with them); the other
        names' failures from the address still count (one known password must not reset the
        count of guesses at other names)."""
        store.clear_login_failures(_counted(name), address)


def _counted(name: str) -> str:
    """The name a failed login is counted under."""
    return name.lower()[:64]


# --- sessions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionPolicy:
    idle: int = 2 * 3600  # seconds without a request
    max_age: int = 12 * 3600  # seconds after login: a working day
    grace: int = 24 * 3600  # how much longer the cookie (and the ended session's row) is kept
    touch_every: int = 60  # last_seen is written at most once a minute per session


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def cookie_token(scope) -> str | None:
    """The session token of the request's cookie, if it has the form of one."""
    token = cookie_parser(Headers(scope=scope).get("cookie", "")).get(COOKIE)
    return token if token and _TOKEN_RE.match(token) else None


def csrf_for(secret: str, token: str | None) -> str:
    """The CSRF token that goes with a session (or anonymous) token: only pages served to the
    holder of the cookie can know it."""
    if not token:
        return ""
    mac = hmac.new(secret.encode("utf-8"), b"csrf:" + token.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def _utc(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


def start_session(store, user: str, client: str | None, policy: SessionPolicy) -> str:
    """A new session for `user`; returns the token for the cookie (only its hash is stored)."""
    at = datetime.now(timezone.utc)
    token = new_token()
    store.start_session(token_hash(token), user, client, _stamp(at + timedelta(seconds=policy.max_age)),
                        purge_before=_stamp(at - timedelta(seconds=policy.grace)))
    return token


def resolve_session(store, token: str | None, policy: SessionPolicy) -> tuple[str, dict | None]:
    """("ok", session) for a live session (its last_seen moved on), ("expired", session) for one
    that timed out (idle or past its expiry) whose row is still kept, else ("none", None). A
    disabled user has no sessions left; a session whose user row is inactive counts as none."""
    if not token:
        return "none", None
    session = store.session(token_hash(token))
    if session is None or not session["active"]:
        return "none", None
    at = datetime.now(timezone.utc)
    last = _utc(session["last_seen"])
    if _utc(session["expires_at"]) <= at or at - last >= timedelta(seconds=policy.idle):
        return "expired", session
    if at - last >= timedelta(seconds=policy.touch_every):
        store.touch_session(session["token_hash"], _stamp(at))
    return "ok", session


def live_sessions(store, user: str, policy: SessionPolicy) -> int:
    """How many sessions of `user` are neither expired nor idle too long."""
    at = datetime.now(timezone.utc)
    return sum(1 for s in store.user_sessions(user)
               if _utc(s["expires_at"]) > at and at - _utc(s["last_seen"]) < timedelta(seconds=policy.idle))


def set_session_cookie(response, token: str, policy: SessionPolicy, https_only: bool) -> None:
    response.set_cookie(COOKIE, token, max_age=policy.max_age + policy.grace, path="/", httponly=True,
                        samesite="lax", secure=https_only)


def session_secret(db_path: str | Path) -> tuple[str, str]:
    """The key of the CSRF tokens and where it came from: the file `<db>.session-key` beside the
    store (made with mode 0600 if missing), or a key for this run only when that file cannot be
    written (open pages then need a reload after a restart)."""
    path = Path(f"{db_path}.session-key")
    try:
        return path.read_text(encoding="ascii").strip(), str(path)
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    # written whole under a temporary name, then linked into place: a process starting at the same
    # moment finds either no file or the complete key, never an empty one
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return key, "generated for this run (the folder of the store is not writable)"
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:  # another process made it first: its key is the key
            return path.read_text(encoding="ascii").strip(), str(path)
        except OSError:
            return key, "generated for this run (the folder of the store is not writable)"
    finally:
        temporary.unlink(missing_ok=True)
    return key, str(path)


def safe_next(target: str | None) -> str:
    """Only paths of this app are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/queue"


def _is_public(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in PUBLIC_PATHS)


_CASE_ACTION_RE = re.compile(r"^(/case/[0-9a-f]{16}-\d{4,})/(save|accept|undo)$")


def page_after_login(method: str, path: str, query: str = "") -> str:
    """Where login leads back to: the page itself for a GET; for a form sent after the session
    ended, the page the form was on (a POST-only address would answer "Method Not Allowed")."""
    if method in SAFE_METHODS:
        return path + (f"?{query}" if query else "")
    case = _CASE_ACTION_RE.match(path)
    if case:
        return case.group(1)
    return "/admin/users" if path.startswith("/admin/") else "/queue"


def login_url(target: str, reason: str = "") -> str:
    return f"/login?next={quote(target, safe='')}" + (f"&reason={reason}" if reason else "")


class LoginRequired:
    """Requests without a session cookie go to the login page (pages) or are refused (API). A
    cookie is only a claim: the endpoint looks its session up in the store (app.py)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or _is_public(scope["path"]) or cookie_token(scope):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path.startswith("/api/"):
            response = JSONResponse({"error": "log in first"}, status_code=401)
        else:
            query = scope.get("query_string", b"").decode("latin-1")
            posted = scope["method"] not in SAFE_METHODS
            # a form without any cookie cannot be tied to a user: say so rather than drop it silently
            response = RedirectResponse(login_url(page_after_login(scope["method"], path, query),
                                                  "lost" if posted else ""), status_code=303)
        await response(scope, receive, send)


class CSRFProtect:
    """Every request that is not GET/HEAD/OPTIONS must carry the session's CSRF token, in the
    `X-CSRF-Token` header or the `csrf_token` field of a url-encoded form; else 403 and the
    endpoint never runs. The form body is read here and replayed to the endpoint."""

    def __init__(self, app, secret: str):
        self.app, self.secret = app, secret

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        expected = csrf_for(self.secret, cookie_token(scope))
        headers = Headers(scope=scope)
        token = headers.get("x-csrf-token")
        messages = []
        if token is None and headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            body = b""
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break
                body += message.get("body", b"")
                if len(body) > MAX_FORM_BYTES:
                    await HTMLResponse("Form too large.", status_code=413)(scope, receive, send)
                    return
                if not message.get("more_body", False):
                    break
            token = (parse_qs(body.decode("latin-1")).get("csrf_token") or [None])[0]
        if not expected or not token or not hmac.compare_digest(token.encode(), expected.encode()):
            await HTMLResponse(CSRF_REFUSED, status_code=403)(scope, receive, send)
            return

        async def replay():
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


CSRF_REFUSED = """<!doctype html><meta charset="utf-8"><title>Refused</title>
<p>Refused: this request has no valid security token (CSRF). Reload the page and try again.</p>
<p>拒否しました: フォームのセキュリティトークンがないか古くなっています。ページを再読み込みしてください。</p>"""


class SecurityHeaders:
    """Defence in depth for untrusted case text: even if markup got through, the browser would
    run no script but the app's own file (no inline script, no other origin)."""

    HEADERS = [
        (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                     b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
    ]

    # Behind a TLS proxy (`--https-only`): browsers keep to HTTPS for a year.
    HSTS = (b"strict-transport-security", b"max-age=31536000")

    def __init__(self, app, hsts: bool = False):
        self.app = app
        self.headers = self.HEADERS + ([self.HSTS] if hsts else [])

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + self.headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
