"""``/docs`` works in a locked-down network: every file it needs comes from the server itself,
under the same content security policy as the investor app's pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from spiko.web.rendering import SECURITY_HEADERS
from tests.chromium import chromium


def test_docs_page_and_its_files_come_from_the_server(client: Any) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    assert "<script>" not in page.text  # no inline script: the CSP would refuse it
    for path in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css", "/static/docs.js"):
        assert client.get(path).status_code == 200, path
    assert "http" not in page.text.replace("http-equiv", "")  # no absolute URL to anywhere


@pytest.mark.browser
@pytest.mark.server
def test_docs_load_in_chromium_with_no_request_leaving_the_machine(live_server: Any) -> None:
    seen: list[str] = []
    blocked: list[str] = []

    def only_local(route: Any) -> None:
        url = route.request.url
        seen.append(url)
        if url.startswith("data:") or urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    with chromium() as browser:
        page = browser.new_page()
        page.route("**/*", only_local)
        response = page.goto(live_server.url + "/docs")
        assert response is not None and response.status == 200
        assert response.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
        # Swagger UI rendered the application's specification: its operations are listed.
        page.wait_for_selector(".opblock-summary", timeout=60_000)
        assert page.locator(".opblock-summary").count() > 20
    assert blocked == []
    assert any(url.endswith("/openapi.json") for url in seen)
