"""``spiko login``, ``whoami`` and ``logout``: an investor signs in through the browser (OAuth 2.0
with a loopback redirect, RFC 8252) and the SDK calls the investor API with the stored token."""

from __future__ import annotations

import argparse
import sys
import threading
import time
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from spiko.cli.common import command

CALLBACK_PATH = "/callback"
PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Spiko</title></head>"
    "<body style='font-family:sans-serif'><h1>{title}</h1><p>{text}</p></body></html>"
)


def register(commands: Any) -> None:
    login_parser = command(
        commands,
        "login",
        "sign in with OAuth 2.0 in the browser and store the token (0600) for the SDK",
        login,
    )
    login_parser.add_argument("--issuer", required=True, help="base URL of the authorization server")
    login_parser.add_argument("--client-id", required=True)
    login_parser.add_argument("--client-secret", default=None, help="omit for a public client (PKCE)")
    login_parser.add_argument("--scope", default="offline")
    login_parser.add_argument("--port", type=int, default=8765, help="loopback port of the redirect URI")
    login_parser.add_argument(
        "--token-file", default=None, help="default: $SPIKO_TOKEN_FILE or ~/.config/spiko/token.json"
    )
    login_parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the browser")
    login_parser.add_argument("--no-browser", action="store_true", help="only print the URL to open")

    logout_parser = command(commands, "logout", "revoke the stored OAuth token and delete it", logout)
    logout_parser.add_argument("--token-file", default=None)

    whoami_parser = command(commands, "whoami", "print the investor of the stored OAuth token", whoami)
    whoami_parser.add_argument("--token-file", default=None)
    whoami_parser.add_argument("--api-url", default=None, help="default: the issuer the token came from")


class _Callback:
    """A one-shot loopback HTTP server that waits for the authorization server's redirect."""

    def __init__(self, port: int) -> None:
        self.url: str | None = None
        self.received = threading.Event()
        callback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != CALLBACK_PATH or callback.received.is_set():
                    self.send_error(404)
                    return
                callback.url = f"http://127.0.0.1:{port}{self.path}"
                refused = "error=" in self.path
                title = "Access not granted" if refused else "Signed in"
                body = PAGE.format(title=title, text="You can close this window and go back to the terminal.")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body.encode())))
                self.end_headers()
                self.wfile.write(body.encode())
                callback.received.set()

            def log_message(self, format: str, *args: Any) -> None:
                return None  # the query holds the authorization code: keep it out of the terminal

        # Loopback only (RFC 8252 §7.3): never reachable from another machine.
        self.httpd = HTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> _Callback:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait(self, timeout: float) -> str:
        if not self.received.wait(timeout) or self.url is None:
            raise TimeoutError(f"no answer from the browser within {timeout:.0f} seconds")
        return self.url


def login(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.client import OAuth2Session, SpikoError, TokenFile

    store = TokenFile(args.token_file)
    redirect_uri = f"http://127.0.0.1:{args.port}{CALLBACK_PATH}"
    session = OAuth2Session(
        issuer=args.issuer,
        client_id=args.client_id,
        client_secret=args.client_secret,
        redirect_uri=redirect_uri,
        scope=args.scope,
    )
    try:
        loopback = _Callback(args.port)
    except OSError as error:
        raise ValueError(
            f"cannot listen on 127.0.0.1:{args.port} ({error.strerror}); pick another --port "
            "registered as a redirect URI of the app"
        ) from error
    with loopback as callback:
        url = session.authorization_url()
        print(f"Open this URL to sign in and allow access:\n{url}", file=sys.stderr)
        if not args.no_browser:
            webbrowser.open(url)
        try:
            callback_url = callback.wait(args.timeout)
        except TimeoutError as error:
            raise ValueError(str(error)) from error
    try:
        token = session.exchange(callback_url)
    except SpikoError as error:
        raise ValueError(str(error)) from error
    store.save(_document(args.issuer, args.client_id, args.client_secret, redirect_uri, args.scope, token))
    print(f"Signed in; token stored in {store.path}", file=sys.stderr)
    return {
        "issuer": args.issuer.rstrip("/"),
        "client_id": args.client_id,
        "scope": token.get("scope", args.scope),
        "expires_at": token.get("expires_at"),
        "token_file": str(store.path),
    }


def _document(
    issuer: str,
    client_id: str,
    client_secret: str | None,
    redirect_uri: str,
    scope: str,
    token: dict[str, Any],
) -> dict[str, Any]:
    # What a later `spiko whoami` needs to refresh the token by itself; the file is mode 0600.
    return {
        "issuer": issuer.rstrip("/"),
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "token": token,
        "saved_at": int(time.time()),
    }


def _stored_session(token_file: str | None) -> tuple[Any, dict[str, Any], Any]:
    """The session of the stored token, the stored document and its store."""
    from spiko.client import OAuth2Session, TokenFile

    store = TokenFile(token_file)
    document = store.load()
    if document is None or "token" not in document:
        raise LookupError(f"no token in {store.path}: run `spiko login` first")

    def save(token: dict[str, Any]) -> None:
        # Refresh tokens rotate: the new one must be on disk before the old one is forgotten.
        store.save({**document, "token": token, "saved_at": int(time.time())})

    session = OAuth2Session(
        issuer=document["issuer"],
        client_id=document["client_id"],
        client_secret=document.get("client_secret"),
        redirect_uri=document["redirect_uri"],
        scope=document.get("scope", "offline"),
        token=document["token"],
        on_token=save,
    )
    return session, document, store


def logout(args: argparse.Namespace) -> None:
    from spiko.client import SpikoError

    session, _, store = _stored_session(args.token_file)
    try:
        session.revoke()
    except SpikoError as error:
        raise ValueError(f"could not revoke the token ({error}); it was kept in {store.path}") from error
    store.path.unlink()
    print(f"Signed out: token revoked and {store.path} deleted", file=sys.stderr)


def whoami(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.client import SpikoClient, SpikoError

    session, document, _ = _stored_session(args.token_file)
    with SpikoClient(args.api_url or document["issuer"], auth=session) as client:
        try:
            investor = client.investors.me()
        except SpikoError as error:
            raise ValueError(f"{error} (run `spiko login` again if the access was revoked)") from error
    result: dict[str, Any] = investor.model_dump(mode="json", by_alias=True)
    return result
