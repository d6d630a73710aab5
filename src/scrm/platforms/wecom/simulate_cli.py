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
