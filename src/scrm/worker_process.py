"""Worker processes: `run_worker` runs the outbox/timer worker outside the API (process mode).

    python -m scrm.worker_process --database-url URL [--processes N] [--registry module:function]

SIGTERM or SIGINT stops each worker after the batch it is running; the parent of several children
forwards the signal and waits for them. A worker killed harder (SIGKILL, power loss) commits nothing
of its batch, and the rows are rerun by another worker once their lease expires.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
from dataclasses import asdict
from types import FrameType

from scrm.core.db import make_engine, make_session_factory
from scrm.core.events import set_active_registry
from scrm.core.outbox_models import WorkerMode
from scrm.core.worker import Worker, WorkerConfig
from scrm.registry import load_registry_factory

log = logging.getLogger(__name__)

DEFAULT_REGISTRY_FACTORY = "scrm.registry:build_registry"
LOG_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s %(message)s"


def run_worker(
    database_url: str,
    *,
    processes: int = 1,
    config: WorkerConfig | None = None,
    registry_factory: str = DEFAULT_REGISTRY_FACTORY,
) -> None:
    """Run worker loops until SIGTERM/SIGINT: in this process, or in `processes` spawned children.

    Must be called from the main thread (it installs signal handlers). Returns once every loop ended.
    """
    if processes < 1:
        raise ValueError("processes must be at least 1")
    if processes == 1:
        _run_one_worker(database_url, config, registry_factory)
        return
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(
            target=_run_one_worker,
            args=(database_url, config, registry_factory),
            name=f"scrm-worker-{number}",
        )
        for number in range(processes)
    ]
    for child in children:
        child.start()

    def forward(signum: int, _frame: FrameType | None) -> None:
        for child in children:
            if child.is_alive() and child.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        child.join()


def _run_one_worker(database_url: str, config: WorkerConfig | None, registry_factory: str) -> None:
    if not logging.getLogger().handlers:  # a spawned child starts with no logging configured
        from scrm.logging_setup import configure_logging
        from scrm.settings import load_settings

        configure_logging(load_settings())
    engine = make_engine(database_url)
    registry = load_registry_factory(registry_factory)()
    # Handlers publish follow-up events; in a process of its own the registry must be installed here.
    set_active_registry(registry)
    worker = Worker(make_session_factory(engine), registry, config, WorkerMode.PROCESS)

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("worker %s: signal %s, stopping after the current batch", worker.worker_id, signum)
        worker.request_stop()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        worker.run()
    finally:
        engine.dispose()


def _parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    defaults = WorkerConfig()
    parser = argparse.ArgumentParser(prog="python -m scrm.worker_process", description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument(
        "--registry", default=DEFAULT_REGISTRY_FACTORY, help="module:function returning a registry"
    )
    for name, value in asdict(defaults).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    arguments = _parse_arguments(argv)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    config = WorkerConfig(**{name: getattr(arguments, name) for name in asdict(WorkerConfig())})
    run_worker(
        arguments.database_url,
        processes=arguments.processes,
        config=config,
        registry_factory=arguments.registry,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
