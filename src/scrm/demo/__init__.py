"""`scrm demo`: one command from a fresh clone to a running console with live traffic."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel

from scrm.core.clock import utcnow
from scrm.core.db import make_engine, make_session_factory, session_scope
from scrm.settings import load_settings


def run_demo(*, host: str, port: int, console: Console) -> None:
    import uvicorn

    from scrm.demo.handlers import TICK_INTERVAL, schedule_tick, tick_chain_alive
    from scrm.demo.seed import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
    from scrm.main import create_app
    from scrm.migrate import upgrade_to_head
    from scrm.registry import build_registry

    settings = load_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    with console.status("Migrating the database..."):
        upgrade_to_head(settings.database_url)
    build_registry()
    factory = make_session_factory(make_engine(settings.database_url))
    with console.status("Seeding the demo workspace..."), session_scope(factory) as session:
        seed = seed_demo(session)
        if not tick_chain_alive(session, tenant_id=seed.tenant_id):
            schedule_tick(session, tenant_id=seed.tenant_id, sequence=1, due_at=utcnow() + TICK_INTERVAL)
    url = f"http://{host}:{port}"
    console.print(
        Panel.fit(
            f"[bold]SCRM demo[/bold] is starting at [link={url}]{url}[/link]\n"
            f"Log in as [bold]{DEMO_EMAIL}[/bold] / [bold]{DEMO_PASSWORD}[/bold]\n"
            f"Database: {settings.database_url}   (Ctrl+C to stop)",
            border_style="green",
        )
    )
    app = create_app(settings, run_embedded_worker=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
