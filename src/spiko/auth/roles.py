"""Members' roles: what an owner, an admin, a trader and a viewer may do, on pages and on /v1.

Roles are ordered; each one may do what the ones below it may:

- **viewer** reads everything (every ``:read`` scope of the investor API);
- **trader** also places and cancels orders (``orders:write``);
- **admin** also manages API keys, apps, bank accounts and webhooks (every API scope);
- **owner** also manages the members.

On /v1 a credential never reaches beyond the role its creating member holds *now*: the API key's
or OAuth grant's own scopes are intersected with the role's (``clamp``), when the key is looked
up, so lowering a member's role narrows their keys and apps within the caches' one second.
Keys an operator made with the ``spiko`` command have no creating member and are not clamped.

On pages, each route declares the permission it needs in ``PAGE_PERMISSIONS`` (a test fails for
a page that declares none, and walks every role over every declared page).
"""

from __future__ import annotations

from spiko.auth import scopes as api_scopes
from spiko.i18n import N_

OWNER, ADMIN, TRADER, VIEWER = "owner", "admin", "trader", "viewer"
ROLES: tuple[str, ...] = (OWNER, ADMIN, TRADER, VIEWER)  # highest first

# The roles' names as the pages show them, translated (``_(role)`` in a template).
ROLE_NAMES: dict[str, str] = {
    OWNER: N_("owner"),
    ADMIN: N_("admin"),
    TRADER: N_("trader"),
    VIEWER: N_("viewer"),
}

ROLE_DESCRIPTIONS: dict[str, str] = {
    OWNER: N_("Everything, including inviting and removing members and changing their roles."),
    ADMIN: N_("Everything but members: API keys, apps, bank accounts and webhooks, and orders."),
    TRADER: N_("Places and cancels orders, and sees everything."),
    VIEWER: N_("Sees everything, changes nothing."),
}

# The investor-API families each role reaches; None: all of them.
_REACH: dict[str, frozenset[str] | None] = {
    OWNER: None,
    ADMIN: None,
    TRADER: api_scopes.READ_SCOPES | {"orders:write"},
    VIEWER: api_scopes.READ_SCOPES,
}

# Page permissions, and the lowest role holding each.
PUBLIC = "public"  # no sign-in needed (sign-in, password reset, invitation links)
MEMBER = "member"  # any signed-in member (reading pages; their own sessions, factors and keys)
ORDERS = "orders"
MANAGE = "manage"  # every member's keys and apps, bank accounts, webhooks
MEMBERS = "members"
PERMISSIONS: dict[str, str | None] = {
    PUBLIC: None,
    MEMBER: VIEWER,
    ORDERS: TRADER,
    MANAGE: ADMIN,
    MEMBERS: OWNER,
}

# The permission each page (method, route path) needs. Pages added later declare theirs here.
PAGE_PERMISSIONS: dict[tuple[str, str], str] = {
    ("GET", "/"): MEMBER,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("POST", "/locale"): PUBLIC,
    # The investor app's pages: anyone reads; traders place and cancel orders; admins manage the
    # bank accounts withdrawals are paid to.
    ("GET", "/accounts/{account_id}"): MEMBER,
    ("GET", "/accounts/{account_id}/transactions.{extension}"): MEMBER,
    ("GET", "/orders"): MEMBER,
    ("GET", "/orders/new"): ORDERS,
    ("POST", "/orders/new"): ORDERS,
    ("GET", "/orders/{kind}/{order_id}"): MEMBER,
    ("POST", "/orders/{kind}/{order_id}/cancel"): ORDERS,
    ("GET", "/statements"): MEMBER,
    ("GET", "/statements/download"): MEMBER,
    ("GET", "/bank-accounts"): MEMBER,
    ("POST", "/bank-accounts"): MANAGE,
    ("GET", "/integrations"): MEMBER,
    # Any member creates keys within their role and revokes their own; admins revoke anyone's.
    ("POST", "/integrations"): MEMBER,
    ("GET", "/authorized-apps"): MEMBER,
    # Revoking an app ends its access for every member of the investor.
    ("POST", "/authorized-apps"): MANAGE,
    ("GET", "/settings/webhooks"): MEMBER,
    ("POST", "/settings/webhooks"): MANAGE,
    ("GET", "/settings/members"): MEMBER,
    ("POST", "/settings/members"): MEMBERS,
    ("POST", "/settings/members/verify-email"): MEMBER,
    ("GET", "/activity"): MEMBER,
    ("GET", "/invitations/{token}"): PUBLIC,
    ("POST", "/invitations/{token}"): PUBLIC,
    ("GET", "/password-reset"): PUBLIC,
    ("POST", "/password-reset"): PUBLIC,
    ("GET", "/password-reset/{token}"): PUBLIC,
    ("POST", "/password-reset/{token}"): PUBLIC,
    ("GET", "/verify-email/{token}"): PUBLIC,
    ("POST", "/verify-email/{token}"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    # The steps of sign-in after the password, and step-up: each checks its own session.
    ("GET", "/login/verify"): PUBLIC,
    ("POST", "/login/verify"): PUBLIC,
    ("POST", "/login/verify/passkey"): PUBLIC,
    ("POST", "/login/passkey"): PUBLIC,
    ("GET", "/login/enroll"): PUBLIC,
    ("GET", "/login/step-up"): PUBLIC,
    ("POST", "/login/step-up"): PUBLIC,
    # Every member manages their own factors and sessions. Setting a factor up also serves a
    # sign-in whose operator requires one, before it is signed in: those forms check either.
    ("GET", "/settings/security"): MEMBER,
    ("POST", "/settings/security/totp"): PUBLIC,
    ("POST", "/settings/security/totp/confirm"): PUBLIC,
    ("POST", "/settings/security/passkeys"): PUBLIC,
    ("POST", "/settings/security/totp/remove"): MEMBER,
    ("POST", "/settings/security/passkeys/remove"): MEMBER,
    ("POST", "/settings/security/recovery-codes"): MEMBER,
    ("POST", "/settings/security/sessions/end"): MEMBER,
    ("POST", "/settings/security/sessions/end-all"): MEMBER,
    # The authorization server's pages: any member may authorize an app within their role.
    ("GET", "/oauth2/auth"): PUBLIC,
    ("POST", "/oauth2/auth"): PUBLIC,
    ("GET", "/oauth2/sessions/logout"): PUBLIC,
    ("POST", "/oauth2/sessions/logout"): PUBLIC,
}


def rank(role: str) -> int:
    """Higher is more: viewer 0 ... owner 3 (an unknown role ranks below every role)."""
    return len(ROLES) - 1 - ROLES.index(role) if role in ROLES else -1


def holds(role: str | None, permission: str) -> bool:
    """Whether a member with ``role`` (None: not signed in) has ``permission``."""
    needed = PERMISSIONS.get(permission, OWNER)
    if needed is None:
        return True
    return role is not None and rank(role) >= rank(needed)


def reach(role: str | None) -> frozenset[str] | None:
    """The API families a role reaches (None: all); an unknown role reaches nothing."""
    if role is None:
        return None
    return _REACH.get(role, frozenset())


def clamp(granted: frozenset[str] | None, role: str | None, *, has_creator: bool) -> frozenset[str] | None:
    """A credential's families once limited by its creator's role.

    ``has_creator`` False (an operator's key) leaves ``granted`` as it is; a creator with no role
    any more (``role`` None: removed) reaches nothing.
    """
    if not has_creator:
        return granted
    if role is None:
        return frozenset()
    ceiling = reach(role)
    if ceiling is None:
        return granted
    if granted is None:
        return ceiling
    return granted & ceiling


def exceeds(scopes: str | list[str] | None, role: str) -> bool:
    """Whether a credential asking for ``scopes`` (None: full access) reaches beyond ``role``."""
    ceiling = reach(role)
    if ceiling is None:
        return False
    wanted = api_scopes.permissions(" ".join(scopes) if isinstance(scopes, list) else scopes)
    return wanted is None or not wanted <= ceiling


def allowed_scopes(role: str) -> list[str]:
    """The API scope names a member with ``role`` may give a key, in the usual order."""
    ceiling = reach(role)
    names = [name for name in api_scopes.API_SCOPES if name != api_scopes.READ]
    return (
        [api_scopes.READ, *names]
        if ceiling is None
        else [api_scopes.READ, *(n for n in names if n in ceiling)]
    )
