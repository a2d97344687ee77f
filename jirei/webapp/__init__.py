"""The reviewer web app: reviewers correct cases in the browser (queue by uncertainty,
keyboard-first editing, an append-only audit trail). `jirei serve` runs it; `create_app`
builds it over a store.

Modules: app (routes, pages), auth (passwords, sessions, CSRF), casepage (highlights, the review
form), filters (queue filters), labels (scheme, provenance), places (JIS municipality list),
pages (PDF page images), dashboard (figures, map), pool (store connections), commands (CLI),
sample_store and server_thread (stores and servers for tests, bench and screenshots)."""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str):
    # Imported on use: `jirei --help` and `jirei users` need no web stack loaded.
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
