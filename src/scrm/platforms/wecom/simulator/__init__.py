"""A WeCom simulator: the same paths, methods, shapes and error codes as WeCom's APIs over a
stateful in-memory corp, plus a control API under /_sim/ that plays the customers and admins and
delivers encrypted callbacks. See README.md beside this file.

    config = SimulatorConfig(corp_id=..., contact_secret=..., token=..., encoding_aes_key=...,
                             callback_url=..., staff=SimulatorConfig.staff_from_list("zhangsan,lisi"))
    with start_simulator(config) as running:          # uvicorn in a thread, on a free port
        WeComConfig(..., api_base_url=running.base_url, oauth_base_url=running.base_url, ...)
"""

from scrm.platforms.wecom.simulator.app import (
    RunningSimulator,
    create_simulator_app,
    run_simulator,
    start_simulator,
)
from scrm.platforms.wecom.simulator.config import DepartmentSeed, SimulatorConfig, StaffSeed
from scrm.platforms.wecom.simulator.corp import SimClock
from scrm.platforms.wecom.simulator.runtime import Simulator

__all__ = [
    "DepartmentSeed",
    "RunningSimulator",
    "SimClock",
    "Simulator",
    "SimulatorConfig",
    "StaffSeed",
    "create_simulator_app",
    "run_simulator",
    "start_simulator",
]
