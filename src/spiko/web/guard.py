"""The role check every investor-app page passes before its route runs (``spiko.auth.roles``).

Page routers are included with ``dependencies=PAGE_GUARD`` (``spiko.app``). A page declares the
permission it needs in ``roles.PAGE_PERMISSIONS``; a page that declares none is for owners only,
so a forgotten declaration locks a page rather than opening it. A visitor who is not signed in
passes: the page itself sends them to the sign-in form.
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import Response

from spiko.auth import roles
from spiko.i18n import N_
from spiko.web.rendering import render, translate


class PageForbidden(Exception):
    """The signed-in member's role does not allow this page or form."""

    def __init__(self, role: str, permission: str) -> None:
        super().__init__(permission)
        self.role = role
        self.permission = permission


def page_permission(request: Request) -> str:
    """The permission the request's page declares (undeclared: the owners')."""
    route = request.scope.get("route")
    path = getattr(route, "path", None) or request.url.path
    method = "GET" if request.method == "HEAD" else request.method
    return roles.PAGE_PERMISSIONS.get((method, path), roles.MEMBERS)


def check_page_role(request: Request) -> None:
    permission = page_permission(request)
    if permission == roles.PUBLIC:
        return
    from spiko.web.routes import signed_in

    user = signed_in(request)
    if user is not None and not roles.holds(user.role, permission):
        raise PageForbidden(user.role, permission)


PAGE_GUARD = [Depends(check_page_role)]

_NEEDS = {
    roles.ORDERS: N_("placing or canceling orders"),
    roles.MANAGE: N_("managing keys, apps, bank accounts and webhooks"),
    roles.MEMBERS: N_("managing members"),
}


def forbidden_page(request: Request, refused: PageForbidden) -> Response:
    return render(
        request,
        "error.html",
        status_code=403,
        title=translate(request, "Not allowed"),
        message=translate(
            request,
            "Your role (%(role)s) does not allow %(what)s. "
            "An owner of your organization can change your role on the Members page.",
            role=refused.role,
            what=translate(request, _NEEDS.get(refused.permission, N_("this page"))),
        ),
    )
