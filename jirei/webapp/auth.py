"""Who may do what: password hashes, the session key, login throttling, and the two ASGI
middlewares that guard every request (a session for every page but the login page; a CSRF token
on every state-changing request).

- Passwords are hashed with argon2id (argon2-cffi's PasswordHasher and its default parameters,
  RFC 9106's low-memory profile); a hash made with older parameters is replaced at the next login.
- Sessions are Starlette's signed cookie (itsdangerous), HttpOnly, SameSite=Lax, Secure with
  `https_only`. The cookie holds the user name and the CSRF token; the user's row is read again on
  every request, so a disabled user or a changed role takes effect at once.
- The session key lives in a file beside the store (`<db>.session-key`, mode 0600), made on the
  first start: sessions survive a restart; delete the file to log everyone out.
"""

from __future__ import annotations

import functools
import hmac
import os
import re
import secrets
import threading
import time
from collections import deque
from pathlib import Path
from urllib.parse import parse_qs, quote

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse

ROLES = ("reviewer", "admin")
# Names go into history rows next to `batch` and `model@<version>`: no `@`, not `batch`.
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
RESERVED_NAMES = {"batch", "model"}
MIN_PASSWORD = 8
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PUBLIC_PATHS = ("/login", "/static/", "/favicon.ico")
MAX_FORM_BYTES = 1 << 20

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
        store.add_user(user["name"], user["role"], _hasher.hash(password))
    return user


class LoginThrottle:
    """At most `limit` failed logins per name in `window` seconds; then the name waits."""

    def __init__(self, limit: int = 5, window: float = 300.0):
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, name: str, now: float) -> deque[float]:
        times = self._failures.setdefault(name.lower(), deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def wait_seconds(self, name: str) -> int:
        now = time.monotonic()
        with self._lock:
            times = self._recent(name, now)
            return int(self.window - (now - times[0])) + 1 if len(times) >= self.limit else 0

    def failed(self, name: str) -> None:
        with self._lock:
            self._recent(name, time.monotonic()).append(time.monotonic())

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name.lower(), None)


def session_secret(db_path: str | Path) -> tuple[str, str]:
    """The session signing key and where it came from: the file `<db>.session-key` beside the
    store (made with mode 0600 if missing), or a key for this run only when that file cannot be
    written (sessions then end when the server stops)."""
    path = Path(f"{db_path}.session-key")
    try:
        return path.read_text(encoding="ascii").strip(), str(path)
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text(encoding="ascii").strip(), str(path)
    except OSError:
        return key, "generated for this run (the folder of the store is not writable)"
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key, str(path)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(session) -> str:
    """The session's CSRF token, made on first use (the login page makes it for anonymous users)."""
    token = session.get("csrf")
    if not token:
        token = new_csrf_token()
        session["csrf"] = token
    return token


def safe_next(target: str | None) -> str:
    """Only paths of this app are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/queue"


def _is_public(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in PUBLIC_PATHS)


class LoginRequired:
    """Pages without a logged-in session go to the login page (GET) or are refused (API, POST).
    Runs inside SessionMiddleware; the endpoint then checks the user is still active."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or _is_public(scope["path"]) or scope.get("session", {}).get("user"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path.startswith("/api/"):
            response = JSONResponse({"error": "log in first"}, status_code=401)
        else:
            query = scope.get("query_string", b"").decode("latin-1")
            target = path + (f"?{query}" if query else "")
            response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        await response(scope, receive, send)


class CSRFProtect:
    """Every request that is not GET/HEAD/OPTIONS must carry the session's CSRF token, in the
    `X-CSRF-Token` header or the `csrf_token` field of a url-encoded form; else 403 and the
    endpoint never runs. The form body is read here and replayed to the endpoint."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        expected = scope.get("session", {}).get("csrf")
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

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + self.HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)
