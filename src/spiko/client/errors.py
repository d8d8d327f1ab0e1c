"""Errors raised by the SDK: one ``SpikoError`` subclass per ``_tag`` the API answers with."""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

import httpx


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class SpikoError(Exception):
    """An error answered by the API (or the network), with its ``tag``, ``status`` and body fields.

    Body fields are readable as attributes, in the API's camelCase or in snake_case:
    ``error.reason``, ``error.custom_error_code``, ``error.payload``.
    """

    tag: str = "SpikoError"
    status: int | None = None
    fields: dict[str, Any]
    response: httpx.Response | None

    registry: ClassVar[dict[str, type[SpikoError]]] = {}
    #: False for the classes made at run time for tags this SDK version does not declare.
    declared: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__.endswith("Error"):
            SpikoError.registry[cls.__name__] = cls
            cls.tag = cls.__name__

    def __init__(
        self,
        message: str | None = None,
        *,
        tag: str | None = None,
        status: int | None = None,
        fields: dict[str, Any] | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        self.fields = dict(fields or {})
        if tag is not None:
            self.tag = tag
        if status is not None:
            self.status = status
        self.response = response
        text = message or self.fields.get("message") or self.fields.get("reason") or self.tag
        super().__init__(f"{self.tag} ({self.status}): {text}" if self.status else f"{self.tag}: {text}")

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not found normally: look the name up in the body's fields.
        fields = self.__dict__.get("fields", {})
        if name in fields:
            return fields[name]
        for key, value in fields.items():
            if _snake(key) == name:
                return value
        raise AttributeError(name)

    @property
    def request_id(self) -> str | None:
        """The server's request id (``X-Request-ID``), useful when reporting a problem."""
        if self.response is None:
            return None
        request_id: str | None = self.response.headers.get("x-request-id")
        return request_id


class HttpApiDecodeError(SpikoError):
    """400: the request did not match the schema; ``issues`` lists what was wrong."""

    status = 400


class BadRequestError(SpikoError):
    status = 400


class ApplicationError(SpikoError):
    """400: a business rule refused the request; ``custom_error_code`` says which (e.g. ``MissingNAV``)."""

    status = 400


class InvestorAuthenticationError(SpikoError):
    """401: missing, wrong, expired or revoked credentials."""

    status = 401


class ForbiddenError(SpikoError):
    """403: the credentials do not give access: another investor's ``investorId``, or an operation
    outside the scopes the API key or OAuth grant was narrowed to."""

    status = 403


class NotFoundError(SpikoError):
    """404: no such object for this investor (or no such route)."""

    status = 404


class ConflictError(SpikoError):
    """409 without a more specific tag, e.g. an idempotency key reused with another body."""

    status = 409


class InsufficientBalanceError(SpikoError):
    """400: the account does not hold enough shares; ``payload`` gives requested and available."""

    status = 400


class CollectionNotCancelableError(SpikoError):
    """409: the order can no longer be canceled."""

    status = 409


class DepositNotAllowedError(SpikoError):
    """400: deposit orders cannot be created through the API for this share class; wire the money
    directly instead. ``error.share_class_id`` and ``error.share_class_symbol`` name the class."""

    status = 400


class SubscriptionNotAllowedError(SpikoError):
    """400: the same refusal, as the deprecated subscription routes name it."""

    status = 400


class TooManyRequestsError(SpikoError):
    """429 after every retry: the client is sending too fast."""

    status = 429


class InternalServerError(SpikoError):
    status = 500


class ServiceUnavailableError(SpikoError):
    """503 after every retry."""

    status = 503


class HttpError(SpikoError):
    """An HTTP error status whose body carries no ``_tag`` (e.g. a proxy's error page)."""


class SpikoConnectionError(SpikoError):
    """The server could not be reached (after every retry); ``__cause__`` holds the network error."""


class OAuth2Error(SpikoError):
    """An OAuth 2.0 error (RFC 6749): ``error`` and ``error_description``."""

    @property
    def error(self) -> str:
        return str(self.fields.get("error", self.tag))

    @property
    def error_description(self) -> str | None:
        value = self.fields.get("error_description")
        return None if value is None else str(value)


class StateMismatchError(OAuth2Error):
    """The callback's ``state`` is missing or is not the one this session sent: refused, nothing sent."""


class AuthorizationDeniedError(OAuth2Error):
    """The authorization server redirected back with an error (e.g. ``access_denied``)."""


def error_from_response(response: httpx.Response) -> SpikoError:
    """The ``SpikoError`` subclass matching a failed response's ``_tag``."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("_tag"), str):
        tag = body["_tag"]
        fields = {key: value for key, value in body.items() if key != "_tag"}
        cls = SpikoError.registry.get(tag)
        if cls is None:
            # A tag this SDK version does not know yet still gets a class of that name.
            cls = type(tag, (SpikoError,), {"__module__": __name__, "declared": False})
        return cls(tag=tag, status=response.status_code, fields=fields, response=response)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return OAuth2Error(tag=body["error"], status=response.status_code, fields=body, response=response)
    text = response.text[:200] if response.content else response.reason_phrase
    return HttpError(text, status=response.status_code, fields={"message": text}, response=response)
