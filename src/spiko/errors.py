"""Typed errors raised where rules live, and their one mapping to the `_tag` JSON envelope of /v1 and /v0.

Rules raise these where they live; the handlers in ``spiko.app`` turn them into responses.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from spiko.presenters.formats import decimal_text, money


class ApiError(Exception):
    """An error with an HTTP status and a tagged JSON body."""

    status: ClassVar[int] = 400
    tag: ClassVar[str] = "BadRequestError"
    headers: dict[str, str] | None = None

    def __init__(self, **fields: Any) -> None:
        super().__init__(fields.get("message") or fields.get("reason") or self.tag)
        self.fields = fields

    def body(self) -> dict[str, Any]:
        return {"_tag": self.tag, **self.fields}


class BadRequestError(ApiError):
    status = 400
    tag = "BadRequestError"

    def __init__(self, reason: str) -> None:
        super().__init__(reason=reason)


class HttpApiDecodeError(ApiError):
    status = 400
    tag = "HttpApiDecodeError"

    def __init__(self, message: str, issues: list[dict[str, Any]]) -> None:
        super().__init__(issues=issues, message=message)

    @classmethod
    def single(cls, path: list[str | int], message: str, issue_tag: str = "Type") -> HttpApiDecodeError:
        return cls(message, [{"_tag": issue_tag, "path": path, "message": message}])


class InvestorAuthenticationError(ApiError):
    status = 401
    tag = "InvestorAuthenticationError"

    def __init__(self, reason: str, *, scheme: str = "Basic", error: str | None = None) -> None:
        super().__init__(reason=reason)
        challenge = f'{scheme} realm="spiko-investor-api"'
        if error:
            challenge += f', error="{error}"'
        self.headers = {"WWW-Authenticate": challenge}


class ForbiddenError(ApiError):
    status = 403
    tag = "ForbiddenError"

    def __init__(self, message: str = "You do not have access to this resource") -> None:
        super().__init__(message=message)


class NotFoundError(ApiError):
    status = 404
    tag = "NotFoundError"

    def __init__(self, message: str = "Not found") -> None:
        super().__init__(message=message)


class ConflictError(ApiError):
    """409 without a more specific tag (e.g. an idempotency key reused with another body)."""

    status = 409
    tag = "ConflictError"

    def __init__(self, message: str) -> None:
        super().__init__(message=message)


class InsufficientBalanceError(ApiError):
    """An order asks for more than the account's available balance; the payload says how much."""

    status = 400
    tag = "InsufficientBalanceError"

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload=payload)

    @classmethod
    def empty_account(cls) -> InsufficientBalanceError:
        return cls({"type": "empty-account"})

    @classmethod
    def shares(cls, requested: Decimal, available: Decimal, share_decimals: int) -> InsufficientBalanceError:
        return cls(
            {
                "type": "shares",
                "requested": decimal_text(requested, share_decimals),
                "available": decimal_text(available, share_decimals),
            }
        )

    @classmethod
    def amount(cls, requested: Decimal, available: Decimal, currency: str) -> InsufficientBalanceError:
        requested_money, available_money = money(requested, currency), money(available, currency)
        return cls({"type": "amount", "requested": requested_money, "available": available_money})


class CollectionNotCancelableError(ApiError):
    status = 409
    tag = "CollectionNotCancelableError"

    def __init__(self, message: str) -> None:
        super().__init__(message=message)


class DepositNotAllowedError(ApiError):
    status = 400
    tag = "DepositNotAllowedError"

    def __init__(self, share_class_id: str, share_class_symbol: str) -> None:
        super().__init__(shareClassId=share_class_id, shareClassSymbol=share_class_symbol)


class SubscriptionNotAllowedError(ApiError):
    """``DepositNotAllowedError`` as the deprecated subscription routes name it."""

    status = 400
    tag = "SubscriptionNotAllowedError"

    def __init__(self, share_class_id: str, share_class_symbol: str) -> None:
        super().__init__(shareClassId=share_class_id, shareClassSymbol=share_class_symbol)


class ApplicationError(ApiError):
    status = 400
    tag = "ApplicationError"

    def __init__(self, reason: str, custom_error_code: str | None = None) -> None:
        fields: dict[str, Any] = {"reason": reason}
        if custom_error_code:
            fields["customErrorCode"] = custom_error_code
        super().__init__(**fields)


class TooManyRequestsError(ApiError):
    status = 429
    tag = "TooManyRequestsError"

    def __init__(self, retry_after: int) -> None:
        super().__init__(message="Too many requests; retry later", retryAfter=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


class ServiceUnavailableError(ApiError):
    status = 503
    tag = "ServiceUnavailableError"

    def __init__(self, reason: str) -> None:
        super().__init__(reason=reason)


class InternalServerError(ApiError):
    status = 500
    tag = "InternalServerError"

    def __init__(self, request_id: str) -> None:
        super().__init__(message="An unexpected error occurred", requestId=request_id)


class InvariantError(Exception):
    """Stored data breaks a rule the code relies on (a bug, or a database edited by hand).

    Not an API error: it is logged and answered as the last-resort 500, like any other defect.
    Raised where an ``assert`` would have been, so the check holds under ``python -O`` too.
    """


def decode_error_from_validation(errors: list[dict[str, Any]]) -> HttpApiDecodeError:
    """Translate FastAPI/pydantic validation errors into the reference's decode-error shape."""
    issues = []
    for error in errors:
        location = [part for part in error.get("loc", ()) if part not in ("body",)]
        kind = error.get("type", "")
        if kind == "missing":
            issue_tag = "Missing"
        elif kind in ("extra_forbidden",):
            issue_tag = "Unexpected"
        elif kind.endswith("_parsing") or kind.endswith("_type"):
            issue_tag = "Type"
        else:
            issue_tag = "Refinement"
        path = [part if isinstance(part, int | str) else str(part) for part in location]
        message = str(error.get("msg", "invalid value"))
        if kind == "json_invalid":
            # The location is a character offset, not a property: the body as a whole is wrong.
            path, issue_tag = [], "Type"
            message = f"the body is not valid JSON (at character {location[0] if location else 0})"
        issues.append({"_tag": issue_tag, "path": path, "message": message})
    summary = "; ".join(f"{'.'.join(map(str, i['path'])) or '(root)'}: {i['message']}" for i in issues)
    return HttpApiDecodeError(summary or "The request did not match the expected schema", issues)
