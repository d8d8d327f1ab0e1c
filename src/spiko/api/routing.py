"""The route class of /v1 and /v0: handlers return the presenters' TypedDicts, serialized as they are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.datastructures import Default, DefaultPlaceholder
from fastapi.routing import APIRoute


class PresentedRoute(APIRoute):
    """A route whose return annotation documents its shape without becoming a response model.

    The presenters' ``TypedDict`` bodies are checked by mypy and match the reference (see
    ``tests/presenters``); validating them again on every response would only cost time.
    """

    def __init__(
        self, path: str, endpoint: Callable[..., Any], *, response_model: Any = Default(None), **kwargs: Any
    ) -> None:
        if isinstance(response_model, DefaultPlaceholder):
            response_model = None
        super().__init__(path, endpoint, response_model=response_model, **kwargs)
