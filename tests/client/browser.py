"""An investor's browser, scripted with httpx: signs in on /login and allows the consent page."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx


class _Forms(HTMLParser):
    """Collects each form's action and hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append({"action": values.get("action", ""), "fields": {}, "decisions": []})
        elif self.forms and tag == "input" and values.get("type") == "hidden":
            fields = self.forms[-1]["fields"]
            assert isinstance(fields, dict)
            fields[values.get("name", "")] = values.get("value", "")
        elif self.forms and tag == "button" and values.get("name") == "decision":
            decisions = self.forms[-1]["decisions"]
            assert isinstance(decisions, list)
            decisions.append(values.get("value"))


def forms(html: str) -> list[dict[str, object]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Browser:
    """A cookie-keeping HTTP client that never follows redirects by itself."""

    def __init__(self, base_url: str, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url
        self.http = httpx.Client(follow_redirects=False, timeout=30, transport=transport)

    def close(self) -> None:
        self.http.close()

    def sign_in(self, email: str, password: str) -> None:
        page = self.http.get(self.base_url + "/login")
        form = next(f for f in forms(page.text) if "csrf_token" in f["fields"])  # type: ignore[operator]
        fields = dict(form["fields"])  # type: ignore[call-overload]
        fields.update(email=email, password=password, next="/integrations")
        answer = self.http.post(self.base_url + "/login", data=fields)
        assert answer.status_code in (302, 303), answer.text[:500]

    def authorize(self, authorization_url: str, decision: str = "allow") -> str:
        """Open the authorization URL, answer the consent page; the URL the server redirects back to."""
        answer = self.http.get(authorization_url)
        if answer.status_code in (302, 303):
            location = answer.headers["location"]
            if not location.startswith("/"):
                return location  # consent remembered: straight back to the app
            raise AssertionError(f"sent to {location}: sign in first")
        assert answer.status_code == 200, answer.text[:500]
        form = next(f for f in forms(answer.text) if decision in f["decisions"])  # type: ignore[operator]
        action = urljoin(str(answer.url), str(form["action"]) or str(answer.url))
        fields = dict(form["fields"])  # type: ignore[call-overload]
        fields["decision"] = decision
        decided = self.http.post(action, data=fields)
        assert decided.status_code in (302, 303), decided.text[:500]
        return decided.headers["location"]
