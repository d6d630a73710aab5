"""`scrm simulate wecom ...`: run the WeCom simulator (kept apart from the simulator package so the
CLI starts without importing the web stack)."""

from __future__ import annotations

from typing import Annotated

import typer

simulate_app = typer.Typer(
    help="Run a platform simulator (same API as the real platform).", no_args_is_help=True
)


@simulate_app.command("wecom")
def simulate_wecom(
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8700,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    corp_id: Annotated[str | None, typer.Option(help="CorpID of the simulated corp.")] = None,
    contact_secret: Annotated[str | None, typer.Option(help="The 客户联系 secret.")] = None,
    app_secret: Annotated[str | None, typer.Option(help="A self-built app's secret.")] = None,
    agent_id: Annotated[int | None, typer.Option(help="That app's AgentID.")] = None,
    token: Annotated[str | None, typer.Option(help="Callback Token.")] = None,
    aes_key: Annotated[str | None, typer.Option(help="Callback EncodingAESKey (43 characters).")] = None,
    callback_url: Annotated[str | None, typer.Option(help="Where callbacks are delivered.")] = None,
    staff: Annotated[str | None, typer.Option(help="Members with 客户联系: zhangsan,lisi,wangwu")] = None,
    customers: Annotated[int | None, typer.Option(help="Customers to pre-create over the staff.")] = None,
    rate_limit_per_minute: Annotated[int | None, typer.Option(help="Per API (default 10000).")] = None,
    rate_limit_per_hour: Annotated[int | None, typer.Option(help="Per API (default 150000).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for generated data and choices.")] = None,
    config: Annotated[str | None, typer.Option(help="JSON file with the same options.")] = None,
) -> None:
    """Serve a simulated WeCom corp: /cgi-bin/... like WeCom, /_sim/... to play customers and admins."""
    import pydantic

    from scrm.platforms.wecom.simulator import SimulatorConfig, run_simulator

    options = {
        "corp_id": corp_id,
        "contact_secret": contact_secret,
        "app_secret": app_secret,
        "agent_id": agent_id,
        "token": token,
        "encoding_aes_key": aes_key,
        "callback_url": callback_url,
        "customers": customers,
        "rate_limit_per_minute": rate_limit_per_minute,
        "rate_limit_per_hour": rate_limit_per_hour,
        "seed": seed,
        "staff": SimulatorConfig.staff_from_list(staff) if staff else None,
    }
    try:
        if config:
            settings = SimulatorConfig.from_file(config, **options)
        else:
            settings = SimulatorConfig.model_validate({k: v for k, v in options.items() if v is not None})
    except (pydantic.ValidationError, OSError, ValueError) as exc:
        typer.echo(f"invalid simulator options: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"WeCom simulator for {settings.corp_id} on http://{host}:{port} "
        f"({len(settings.staff)} members, {settings.customers} customers; control API under /_sim/)",
        err=True,
    )
    run_simulator(settings, host=host, port=port)


SHOP_PLATFORMS = ("youzan", "taobao", "douyin", "jd", "pdd")


@simulate_app.command("shops")
def simulate_shops(
    platforms: Annotated[str, typer.Option(help="Platforms to serve, comma separated.")] = ",".join(
        SHOP_PLATFORMS
    ),
    shop: Annotated[
        list[str] | None,
        typer.Option(
            help="A shop: platform:shop_id:key=value,key=value (credentials by the connection config's "
            "names), optionally @push_url at the end. Repeatable."
        ),
    ] = None,
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8710,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    seed: Annotated[int, typer.Option(help="Seed for generated data and choices.")] = 7,
) -> None:
    """Serve simulated shops (Youzan, Taobao/TOP, Douyin, JD, PDD): each platform's real API paths,
    signed pushes to the shops' push URLs, message channels; /_sim/ plays buyers and injects faults."""
    from scrm.platforms.shops.simulator.app import run_shop_simulator
    from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop

    served = [name.strip() for name in platforms.split(",") if name.strip()]
    unknown = sorted(set(served) - set(SHOP_PLATFORMS))
    if unknown:
        typer.echo(f"unknown platforms: {', '.join(unknown)}", err=True)
        raise typer.Exit(2)
    sim = ShopSimulator(seed=seed)
    for spec in shop or []:
        try:
            body, _, push_url = spec.partition("@")
            platform, shop_id, pairs = body.split(":", 2)
            credentials = dict(pair.split("=", 1) for pair in pairs.split(",") if pair)
        except ValueError:
            typer.echo(
                f"invalid --shop {spec!r}: expected platform:shop_id:key=value,...[@push_url]", err=True
            )
            raise typer.Exit(2) from None
        if platform not in served:
            typer.echo(f"--shop {spec!r}: {platform} is not served (--platforms)", err=True)
            raise typer.Exit(2)
        sim.add_shop(
            SimShop(platform, shop_id, f"{platform} {shop_id}", credentials, push_url=push_url or None)
        )
    typer.echo(
        f"shop simulator ({', '.join(served)}) on http://{host}:{port} with {len(shop or [])} shops; "
        f"control API and docs under /_sim/",
        err=True,
    )
    run_shop_simulator(sim, served, host=host, port=port)


def _one_platform(platform: str) -> None:
    def command(
        shop: Annotated[
            list[str] | None,
            typer.Option(help="A shop: shop_id:key=value,key=value, optionally @push_url. Repeatable."),
        ] = None,
        port: Annotated[int, typer.Option(help="Port to bind.")] = 8710,
        host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
        seed: Annotated[int, typer.Option(help="Seed for generated data and choices.")] = 7,
    ) -> None:
        simulate_shops(
            platforms=platform,
            shop=[f"{platform}:{spec}" for spec in shop or []],
            port=port,
            host=host,
            seed=seed,
        )

    command.__doc__ = f"Serve simulated {platform} shops (the same as `shops --platforms {platform}`)."
    simulate_app.command(platform)(command)


for _platform in SHOP_PLATFORMS:
    _one_platform(_platform)
