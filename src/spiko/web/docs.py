"""``/docs``: Swagger UI over ``/openapi.json``, from files shipped with the package (no CDN).

The page is served under the same headers as every page of the investor app, content security
policy included: its script is a file of its own, never inline.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from spiko.web.rendering import render

SWAGGER_UI_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSETS_PATH = "/docs/assets"

router = APIRouter(include_in_schema=False)
assets = StaticFiles(directory=SWAGGER_UI_DIR)


@router.get("/docs")
def docs(request: Request) -> Response:
    return render(request, "docs.html", assets=ASSETS_PATH)
