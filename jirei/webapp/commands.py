"""`jirei serve` (the reviewer web app) and `jirei users` (its accounts)."""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import json
import os
import sys
from pathlib import Path

from jirei import paths
from jirei.evaluation.runs import DEFAULT_RUNS_FILE

DEFAULT_DB = "jirei.db"

SERVE_HELP = """\
Run the reviewer web app over a case store: a queue of cases by uncertainty, keyboard-first
editing (press ? on any page for the keys), history with undo, a dashboard, and for admins user
management, exports and the Models page (retrain from the reviewers' corrections in the
background, compare with the active model, promote; models go to <db>.models/ beside the store).
Every page needs a login (`jirei users add NAME`).

It binds to 127.0.0.1 unless --host says otherwise. Sessions are kept in the store: the cookie
(HttpOnly, SameSite=Lax) carries only a random token; a session ends on logout, when the user's
password is set again, when the user is disabled, after 2 hours idle and 12 hours after login.
The key of the CSRF tokens is kept in <db>.session-key beside the store, made on the first start.
Behind an HTTPS proxy add --https-only: the cookie is then sent over HTTPS only and pages carry
Strict-Transport-Security. One process unless --workers N; requests run in threads, each with
its own store connection. With --workers N the processes share everything through the store
(sessions, messages, case data, failed logins) and the session key file. Failed logins are
limited to 5 per name and 20 per client address in 5 minutes, whichever process answers, and
the count survives a restart.

examples:
  jirei serve --db jirei.db
  jirei serve --db jirei.db --port 8080
  jirei serve --db jirei.db --host 0.0.0.0 --https-only     # behind a TLS-terminating proxy
"""

USERS_HELP = """\
Accounts of the reviewer web app, kept in the store (table users). Passwords are hashed with
argon2id (argon2-cffi); the password is read from a prompt, or from standard input (first line)
when it is not a terminal. Roles: reviewer (queue, cases, dashboard) and admin (also users and
exports). Adding an existing name sets its role and password again and ends that user's
sessions. The last active admin can be neither demoted nor disabled.

examples:
  jirei users add ana --db jirei.db
  printf '%s\\n' "$PASSWORD" | jirei users add ben --role admin --db jirei.db
  jirei users list --db jirei.db
  jirei users disable ana --db jirei.db
"""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from jirei.store import Store, StoreError

    from . import auth
    from .app import SERVE_ENV, create_app

    try:
        with Store(args.db, create=False) as store:
            users = store.users()
            store.check_writable()  # saves and logins write: refuse a read-only store now, in one line
    except StoreError as exc:
        print(f"jirei: error: {exc}", file=sys.stderr)
        return 2
    if not any(u["active"] for u in users):
        print(f"jirei: warning: {args.db} has no users yet: add one with "
              f"`jirei users add NAME --role admin --db {args.db}`", file=sys.stderr)
    if not _is_loopback(args.host):
        print(f"jirei: warning: serving on {args.host}: other machines can reach the login page"
              + ("" if args.https_only else "; put it behind HTTPS and pass --https-only"), file=sys.stderr)
    problem = _bind_problem(args.host, args.port)
    if problem:
        print(f"jirei: error: {args.host}:{args.port}: {problem}", file=sys.stderr)
        return 2
    secret, where = auth.session_secret(args.db)
    print(f"session key: {where}", file=sys.stderr)
    if args.workers > 1:
        if not Path(where).is_file():
            print(f"jirei: error: --workers {args.workers}: the workers share the session key through a file beside "
                  f"the store, and {Path(args.db).resolve().parent} is not writable; run one worker",
                  file=sys.stderr)
            return 2
        os.environ[SERVE_ENV] = json.dumps({"db": str(Path(args.db).resolve()), "https_only": args.https_only,
                                            "models": args.models, "runs": args.runs, "seeds": args.seeds})
        uvicorn.run("jirei.webapp.app:app_from_environment", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level=args.log_level, proxy_headers=args.https_only,
                    server_header=False)
        return 0
    app = create_app(args.db, secret_key=secret, https_only=args.https_only, models_dir=args.models,
                     runs_file=args.runs, seeds_dir=args.seeds)
    uvicorn.run(app, host=args.host, port=args.port, workers=1, log_level=args.log_level,
                proxy_headers=args.https_only, server_header=False)
    return 0


def _read_password(confirm: bool = True) -> str:
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if confirm and getpass.getpass("again: ") != password:
            raise SystemExit("jirei: error: the passwords differ")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def cmd_users(args: argparse.Namespace) -> int:
    from jirei.store import LastAdminError, Store, StoreError, open_for_reading

    from . import auth

    try:
        store = open_for_reading(args.db) if args.users_command == "list" else \
            Store(args.db, create=args.users_command == "add")
    except StoreError as exc:
        print(f"jirei: error: {exc}", file=sys.stderr)
        return 2
    with store:
        if args.users_command == "list":
            for u in store.users():
                print(f"{u['name']}\t{u['role']}\t{'active' if u['active'] else 'disabled'}\t{u['created_at']}")
            return 0
        if args.users_command == "disable":
            try:
                found = store.set_user_active(args.name, False)
            except LastAdminError:
                print(f"jirei: error: {args.name} is the last active admin of {args.db}: make another user admin "
                      "first", file=sys.stderr)
                return 2
            if not found:
                print(f"jirei: error: no user {args.name!r}", file=sys.stderr)
                return 2
            print(f"user {args.name} disabled")
            return 0
        problem = auth.check_username(args.name)
        if problem:
            print(f"jirei: error: {problem}", file=sys.stderr)
            return 2
        password = _read_password()
        try:
            password_hash = auth.hash_password(password)
        except ValueError as exc:
            print(f"jirei: error: {exc}", file=sys.stderr)
            return 2
        existed = any(u["name"] == args.name for u in store.users())
        try:
            ended = store.add_user(args.name, args.role, password_hash)
        except LastAdminError:
            print(f"jirei: error: {args.name} is the last active admin of {args.db}: make another user admin first",
                  file=sys.stderr)
            return 2
    print(f"user {args.name} ({args.role}) {'updated' if existed else 'added'} in {args.db}"
          + (f"; {ended} session(s) ended" if ended else ""))
    return 0


def _bind_problem(host: str, port: int) -> str | None:
    """Why the server could not listen there (a port in use, an address not of this machine),
    found before uvicorn starts, so it is one line instead of the server's log."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot resolve the address ({exc.strerror})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind(address)
        except OSError as exc:
            return (exc.strerror or str(exc)).lower()
    return None


def _workers(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError(f"{value!r}: a number of processes from 1 to 64")
    return int(value)


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise argparse.ArgumentTypeError(f"{value!r}: expected a port number 1-65535")
    return int(value)


def add_webapp_parsers(sub) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("serve", help="run the reviewer web app", description=SERVE_HELP, formatter_class=fmt)
    p.add_argument("--db", default=DEFAULT_DB, help="case store (default: %(default)s)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s, this machine only)")
    p.add_argument("--port", type=_port, default=8000, help="port (default: %(default)s)")
    p.add_argument("--models", default=str(paths.MODELS), metavar="DIR",
                   help="the model the app shows until one is promoted on its Models page (default: the "
                        "committed models/)")
    p.add_argument("--seeds", default=str(paths.seeds_dir()), metavar="DIR",
                   help="seed reports, for retraining from the Models page (default: %(default)s)")
    p.add_argument("--runs", default=str(DEFAULT_RUNS_FILE), metavar="FILE",
                   help="evaluation runs file for the model's held-out figures (default: %(default)s)")
    p.add_argument("--https-only", action="store_true",
                   help="send the session cookie over HTTPS only and add Strict-Transport-Security (behind a "
                        "TLS proxy, whose X-Forwarded headers are then trusted)")
    p.add_argument("--workers", type=_workers, default=1, metavar="N",
                   help="server processes (default: %(default)s); each runs requests in threads, all share the "
                        "store, its sessions, the failed-login count and the session key file")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"],
                   help="server log level (default: %(default)s)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("users", help="add, list or disable reviewer accounts", description=USERS_HELP,
                       formatter_class=fmt)
    usub = p.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    a = usub.add_parser("add", help="add a user or set their role and password (password from a prompt or stdin)")
    a.add_argument("name", metavar="NAME")
    a.add_argument("--role", choices=["reviewer", "admin"], default="reviewer", help="(default: %(default)s)")
    a.add_argument("--db", default=DEFAULT_DB, help="case store (default: %(default)s)")
    a.set_defaults(func=cmd_users)
    a = usub.add_parser("list", help="list users")
    a.add_argument("--db", default=DEFAULT_DB, help="case store (default: %(default)s)")
    a.set_defaults(func=cmd_users)
    a = usub.add_parser("disable", help="stop a user logging in (their history stays)")
    a.add_argument("name", metavar="NAME")
    a.add_argument("--db", default=DEFAULT_DB, help="case store (default: %(default)s)")
    a.set_defaults(func=cmd_users)
