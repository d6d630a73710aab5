"""The `scrm` command: serve, worker, migrate, tenant, demo, bench, openapi."""

from __future__ import annotations

import importlib
import json
import sys
from typing import Annotated

import typer
from rich.console import Console

from scrm.platforms.wecom.simulate_cli import simulate_app
from scrm.settings import load_settings

app = typer.Typer(help="SCRM: WeCom private-domain operations tied to every shop.", no_args_is_help=True)
tenant_app = typer.Typer(help="Manage tenants (workspaces).", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(simulate_app, name="simulate")
console = Console(stderr=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    worker: Annotated[bool, typer.Option("--worker/--no-worker", help="Run the embedded worker.")] = True,
) -> None:
    """Run the API server (and, unless --no-worker, an embedded worker thread)."""
    import uvicorn

    from scrm.main import create_app

    settings = load_settings()
    uvicorn.run(
        create_app(settings, run_embedded_worker=worker and settings.embedded_worker),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


@app.command()
def worker(
    processes: Annotated[int, typer.Option(help="Worker processes to run on this machine.")] = 1,
) -> None:
    """Run background workers (outbox events and timers) as separate processes."""
    from scrm.logging_setup import configure_logging
    from scrm.settings import worker_config
    from scrm.worker_process import run_worker

    settings = load_settings()
    configure_logging(settings)
    run_worker(
        settings.database_url,
        processes=processes,
        config=worker_config(settings),
    )


@app.command()
def migrate() -> None:
    """Bring the database schema to the latest migration."""
    from scrm.migrate import upgrade_to_head

    settings = load_settings()
    _ensure_var_dir(settings.database_url, settings.var_dir)
    with console.status("Migrating the database..."):
        upgrade_to_head(settings.database_url)
    console.print(f"[green]Database is at the latest schema[/green] ({_safe_url(settings.database_url)})")


@tenant_app.command("create")
def tenant_create(
    name: Annotated[str, typer.Option(help="Workspace name.")],
    admin_email: Annotated[str, typer.Option(help="Email of the first owner.")],
    admin_password: Annotated[str, typer.Option(help="Password of the first owner (8+ characters).")],
) -> None:
    """Create a workspace with its built-in roles and first owner (non-interactive)."""
    from scrm.core.db import make_engine, make_session_factory, session_scope
    from scrm.core.errors import DomainError
    from scrm.identity.service import create_tenant

    settings = load_settings()
    factory = make_session_factory(make_engine(settings.database_url))
    try:
        with session_scope(factory) as session:
            tenant = create_tenant(session, name=name, admin_email=admin_email, admin_password=admin_password)
            tenant_id = tenant.id
    except DomainError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"[green]Created tenant {tenant_id}[/green] ({name}); owner {admin_email}")


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
) -> None:
    """Migrate, seed a demo workspace, and start the server with live demo traffic."""
    from scrm.demo import run_demo

    run_demo(host=host, port=port, console=console)


@app.command()
def bench(
    name: Annotated[str, typer.Argument(help="Benchmark module under bench/ (outbox, timers, ...).")],
    args: Annotated[list[str] | None, typer.Argument(help="Arguments passed to the benchmark.")] = None,
) -> None:
    """Run a benchmark from bench/ (in the project root, the current directory) and print its figures."""
    import os

    sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(f"bench.{name}")
    except ModuleNotFoundError as exc:
        console.print(f"[red]no benchmark named {name!r}[/red] (run from the project root)")
        raise typer.Exit(2) from exc
    module.main(args or [])


@app.command()
def openapi() -> None:
    """Print the OpenAPI document (used to generate the console's API client)."""
    from scrm.main import create_app

    settings = load_settings(database_url="sqlite://", embedded_worker=False)
    sys.stdout.write(json.dumps(create_app(settings).openapi(), ensure_ascii=False, indent=2) + "\n")


def _ensure_var_dir(database_url: str, var_dir: object) -> None:
    from pathlib import Path

    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    Path(str(var_dir)).mkdir(parents=True, exist_ok=True)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
