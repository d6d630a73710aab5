"""The handler registry of the whole application, built once at start-up.

Each domain with reactions has a `handlers` module exposing `HANDLERS` (a list of
`scrm.core.events.EventHandler`) and, if it owns timers, `TIMER_HANDLERS` (`TimerHandler`). They are
listed here explicitly, never discovered by import side effects: to add a domain, import its handlers
module below and append it to `HANDLER_MODULES`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from types import ModuleType

from scrm.channels import handlers as channels_handlers
from scrm.commerce import handlers as commerce_handlers
from scrm.core.events import HandlerRegistry, set_active_registry
from scrm.core.jobs import JobKind, job_step_timer_handler
from scrm.customers import handlers as customers_handlers
from scrm.demo import handlers as demo_handlers
from scrm.platforms.shops import handlers as shops_handlers
from scrm.platforms.wecom import handlers as wecom_handlers
from scrm.platforms.wecom import reactions as wecom_reactions
from scrm.platforms.wecom import sync as wecom_sync
from scrm.staff import handlers as staff_handlers
from scrm.tickets import handlers as ticket_handlers
from scrm.tickets.classify import handlers as ticket_classify_handlers

HANDLER_MODULES: tuple[ModuleType, ...] = (
    demo_handlers,
    wecom_handlers,
    wecom_reactions,
    wecom_sync,
    customers_handlers,
    staff_handlers,
    # After customers and the WeCom reactions: on an add, the profile and the customer's name exist
    # when the channel handlers run (they send the welcome message).
    channels_handlers,
    shops_handlers,
    commerce_handlers,
    ticket_handlers,
    ticket_classify_handlers,
)


def build_registry(modules: Iterable[ModuleType] = HANDLER_MODULES) -> HandlerRegistry:
    """Collect every module's HANDLERS, TIMER_HANDLERS and JOB_KINDS, install the result as the active
    registry (what `publish` routes by) and return it. Raises ValueError on a duplicate handler name."""
    registry = HandlerRegistry()
    job_kinds: list[JobKind] = []
    for module in modules:
        for handler in (*getattr(module, "HANDLERS", ()), *getattr(module, "TIMER_HANDLERS", ())):
            registry.add(handler)
        job_kinds.extend(getattr(module, "JOB_KINDS", ()))
    registry.add(job_step_timer_handler(job_kinds))
    set_active_registry(registry)
    return registry


def load_registry_factory(path: str) -> Callable[[], HandlerRegistry]:
    """Resolve "package.module:function" to the registry factory it names (for worker processes)."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"registry factory {path!r} is not of the form 'module:function'")
    factory: Callable[[], HandlerRegistry] = getattr(importlib.import_module(module_name), attribute)
    return factory
