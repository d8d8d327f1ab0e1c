"""ORM tables, one module per area; importing this package registers them all on ``Base.metadata``."""

from spiko.db.models import (  # noqa: F401
    audit,
    factors,
    fapi,
    funds,
    idempotency,
    identity,
    ledger,
    limits,
    members,
    oauth,
    orders,
    register,
    reporting,
    webhooks,
)
from spiko.db.models.identity import ApiKey, Investor, User, WebSession  # noqa: F401
