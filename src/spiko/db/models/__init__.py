"""ORM tables, one module per area; importing this package registers them all on ``Base.metadata``."""

from spiko.db.models import funds, idempotency, identity, ledger, oauth, orders, reporting  # noqa: F401
from spiko.db.models.identity import ApiKey, Investor, User, WebSession  # noqa: F401
