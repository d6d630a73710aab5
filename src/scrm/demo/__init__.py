"""`scrm demo`: one command from a fresh clone to a running console with live traffic."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel

from scrm.core.clock import utcnow
from scrm.core.db import make_engine, make_session_factory, session_scope
from scrm.settings import load_settings


def run_demo(*, host: str, port: int, console: Console, traffic: bool = True) -> None:
    import uvicorn
    from sqlalchemy import select

    from scrm.demo.desk import seed_desk_teams
    from scrm.demo.forms import seed_demo_forms
    from scrm.demo.handlers import TICK_INTERVAL, schedule_tick, tick_chain_alive
    from scrm.demo.seed import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
    from scrm.demo.shops import ShopTraffic, start_demo_shops
    from scrm.demo.ticket_classify import seed_ticket_classification
    from scrm.demo.tickets import seed_service_desk
    from scrm.demo.wecom import DemoTraffic, start_demo_wecom
    from scrm.identity.models import User
    from scrm.main import create_app
    from scrm.migrate import upgrade_to_head
    from scrm.registry import build_registry

    settings = load_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    base_url = f"http://{host}:{port}"
    if settings.public_base_url == "http://127.0.0.1:8000" and base_url != settings.public_base_url:
        settings = settings.model_copy(update={"public_base_url": base_url})
    with console.status("Migrating the database..."):
        upgrade_to_head(settings.database_url)
    build_registry()
    factory = make_session_factory(make_engine(settings.database_url))
    with (
        console.status("Seeding the demo workspace and starting the WeCom simulator..."),
        session_scope(factory) as session,
    ):
        seed = seed_demo(session)
        seed_service_desk(session, tenant_id=seed.tenant_id)
        seed_ticket_classification(session, tenant_id=seed.tenant_id)
        seed_desk_teams(session, tenant_id=seed.tenant_id)
        seed_demo_forms(session, tenant_id=seed.tenant_id)
        if not tick_chain_alive(session, tenant_id=seed.tenant_id):
            schedule_tick(session, tenant_id=seed.tenant_id, sequence=1, due_at=utcnow() + TICK_INTERVAL)
        owner_id = session.scalars(select(User.id).where(User.email == DEMO_EMAIL)).one()
        wecom = start_demo_wecom(
            session,
            tenant_id=seed.tenant_id,
            owner_user_id=owner_id,
            secret_key=settings.resolved_secret_key,
            public_base_url=settings.public_base_url,
        )
        shops = start_demo_shops(
            session,
            tenant_id=seed.tenant_id,
            secret_key=settings.resolved_secret_key,
            public_base_url=settings.public_base_url,
        )
    console.print(
        Panel.fit(
            f"[bold]SCRM demo[/bold] is starting at [link={base_url}]{base_url}[/link]\n"
            f"Log in as [bold]{DEMO_EMAIL}[/bold] / [bold]{DEMO_PASSWORD}[/bold]\n"
            f"WeCom simulator: {wecom.simulator.base_url} (corp {wecom.simulator.simulator.config.corp_id})\n"
            f"Shop simulator (Youzan, Taobao, Douyin, JD, PDD): {shops.simulator.base_url}/_sim/docs\n"
            f"Database: {settings.database_url}   (Ctrl+C to stop)",
            border_style="green",
        )
    )
    live = DemoTraffic(wecom.simulator.base_url, api_url=base_url) if traffic else None
    shop_traffic = ShopTraffic(shops, api_url=base_url) if traffic else None
    if live is not None:
        live.start()
    if shop_traffic is not None:
        shop_traffic.start()
    try:
        app = create_app(settings, run_embedded_worker=True)
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        if live is not None:
            live.stop()
        if shop_traffic is not None:
            shop_traffic.stop()
        wecom.simulator.stop()
        shops.stop()
