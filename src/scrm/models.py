"""The explicit model registry: importing this module loads every table into `Base.metadata`.

Alembic and the test suite import it; add each new domain's `models` module here.
"""

from scrm.channels import models as _channels  # noqa: F401
from scrm.commerce import models as _commerce  # noqa: F401
from scrm.core import jobs as _jobs  # noqa: F401
from scrm.core import outbox_models as _core_tables  # noqa: F401
from scrm.core import shared_state as _shared_state  # noqa: F401
from scrm.core.db import Base
from scrm.customers import models as _customers  # noqa: F401
from scrm.forms import models as _forms  # noqa: F401
from scrm.identity import models as _identity  # noqa: F401
from scrm.platforms import models as _platforms  # noqa: F401
from scrm.staff import models as _staff  # noqa: F401
from scrm.tickets import models as _tickets  # noqa: F401
from scrm.tickets.classify import models as _ticket_classify  # noqa: F401
from scrm.tickets.routing import models as _ticket_routing  # noqa: F401

metadata = Base.metadata
