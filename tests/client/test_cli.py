"""``spiko login`` (loopback redirect, token stored 0600) and ``spiko whoami`` against a real server."""

from __future__ import annotations

import contextlib
import io
import json
import stat
import threading
import time
import webbrowser
from collections.abc import Iterator
from typing import Any

import pytest

from spiko.cli import main
from spiko.client import TokenFile
from tests.client.browser import Browser
from tests.client.conftest import Server, live
from tests.conftest import InvestorFixture, free_port


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """A real server: ``spiko login`` and ``whoami`` reach it over the network, as they do in use."""
    yield from live(databases, tmp_path_factory.mktemp("server"))


def run(*argv: str) -> tuple[int, Any, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    text = out.getvalue().strip()
    return code, (json.loads(text) if text else None), err.getvalue()


def browser_that_consents(server: Server, investor: InvestorFixture, opened: list[str]) -> Any:
    """Stands in for ``webbrowser.open``: the investor signs in and allows, and the browser
    follows the redirect to the loopback callback."""

    def open_url(url: str, *args: Any, **kwargs: Any) -> bool:
        opened.append(url)

        def drive() -> None:
            browser = Browser(server.url)
            try:
                browser.sign_in(investor.email, investor.password)
                callback = browser.authorize(url)
                browser.http.get(callback)  # the loopback server answers it
            finally:
                browser.close()

        threading.Thread(target=drive, daemon=True).start()
        return True

    return open_url


def login(server: Server, investor: InvestorFixture, token_file: str, monkeypatch, *, public: bool) -> dict:
    port = free_port()
    redirect_uri = f"http://127.0.0.1:{port}/callback"
    argv = ["oauth-clients", "create", "--name", "Spiko CLI", "--redirect-uri", redirect_uri]
    app = server.cli(*argv, *(["--public"] if public else []))
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", browser_that_consents(server, investor, opened))
    secret = [] if public else ["--client-secret", app["client_secret"]]
    code, result, err = run(
        "login", "--issuer", server.url, "--client-id", app["client_id"], *secret,
        "--port", str(port), "--token-file", token_file, "--timeout", "30",
    )  # fmt: skip
    assert code == 0, err
    assert len(opened) == 1 and opened[0] in err  # the URL is printed too
    assert result["token_file"] == token_file
    assert "access_token" not in json.dumps(result)  # tokens never go to stdout
    return app


@pytest.mark.parametrize("public", [False, True], ids=["confidential", "public"])
def test_login_stores_the_token_0600_and_whoami_uses_it(server, investor, tmp_path, monkeypatch, public):
    token_file = str(tmp_path / "config" / "token.json")
    login(server, investor, token_file, monkeypatch, public=public)

    mode = stat.S_IMODE((tmp_path / "config" / "token.json").stat().st_mode)
    assert mode == 0o600
    stored = TokenFile(token_file).load()
    assert stored is not None
    assert stored["token"]["access_token"] and stored["token"]["refresh_token"]
    assert stored["redirect_uri"].startswith("http://127.0.0.1:")

    code, me, err = run("whoami", "--token-file", token_file)
    assert code == 0, err
    assert me["id"] == investor.investor_id
    assert me["name"] == "Alice Treasury SAS"


def test_whoami_refreshes_an_expired_token_and_saves_the_rotated_one(server, investor, tmp_path, monkeypatch):
    token_file = str(tmp_path / "token.json")
    monkeypatch.setenv("SPIKO_TOKEN_FILE", token_file)  # the default path comes from the environment
    login(server, investor, token_file, monkeypatch, public=False)
    store = TokenFile()
    document = store.load()
    assert document is not None
    old_refresh = document["token"]["refresh_token"]
    document["token"]["expires_at"] = int(time.time()) - 10  # expired
    store.save(document)

    code, me, err = run("whoami")
    assert code == 0, err
    assert me["id"] == investor.investor_id
    saved = store.load()
    assert saved is not None
    assert saved["token"]["refresh_token"] != old_refresh
    assert saved["token"]["expires_at"] > time.time()
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600

    code, me, err = run("whoami")  # the rotated token works on the next run
    assert code == 0, err


def test_whoami_without_a_token_explains_what_to_do(tmp_path):
    code, _, err = run("whoami", "--token-file", str(tmp_path / "missing.json"))
    assert code == 1
    assert "spiko login" in err
    assert len(err.strip().splitlines()) == 1


def test_token_file_replaces_a_readable_file_with_a_private_one(tmp_path):
    path = tmp_path / "token.json"
    path.write_text("{}")
    path.chmod(0o644)
    TokenFile(path).save({"token": {"access_token": "a", "refresh_token": "r"}})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert TokenFile(path).load() == {"token": {"access_token": "a", "refresh_token": "r"}}
    assert [item.name for item in tmp_path.iterdir()] == ["token.json"]  # no temporary file left


def test_credentials_never_show_their_secrets():
    from spiko.client import ApiKeyAuth, OAuth2Session

    key = ApiKeyAuth("spk_id", "sks_very_secret")
    session = OAuth2Session(
        "http://127.0.0.1:9", "app", "app-secret", token={"access_token": "tok", "refresh_token": "ref"}
    )
    for text in (repr(key), str(key), repr(session), str(session)):
        assert "secret" not in text.replace("client_secret", "") and "tok" not in text and "ref" not in text


def test_login_explains_a_busy_port_and_a_browser_that_never_comes_back(tmp_path, monkeypatch):
    import socket

    monkeypatch.setattr(webbrowser, "open", lambda url, *args, **kwargs: True)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        code, _, err = run("login", "--issuer", "http://127.0.0.1:9", "--client-id", "app", "--port", port)
    assert code == 1 and "pick another --port" in err and len(err.strip().splitlines()) == 1

    port = str(free_port())
    code, _, err = run(
        "login", "--issuer", "http://127.0.0.1:9", "--client-id", "app", "--port", port, "--timeout", "0.2",
        "--token-file", str(tmp_path / "token.json"),
    )  # fmt: skip
    assert code == 1 and "no answer from the browser" in err
    assert not (tmp_path / "token.json").exists()


def test_logout_revokes_the_token_and_deletes_the_file(server, investor, tmp_path, monkeypatch):
    token_file = str(tmp_path / "token.json")
    login(server, investor, token_file, monkeypatch, public=True)
    stored = TokenFile(token_file).load()
    assert stored is not None
    code, _, err = run("logout", "--token-file", token_file)
    assert code == 0, err
    assert not (tmp_path / "token.json").exists()
    TokenFile(token_file).save(stored)  # an old copy of the token no longer works
    code, _, err = run("whoami", "--token-file", token_file)
    assert code == 1 and "spiko login" in err
