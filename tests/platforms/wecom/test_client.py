"""The WeCom client's transport against the simulator over loopback HTTP: one token for many calls
and many processes, refresh once on token errors, retries on -1, shared back-off on 45009/45033,
pacing, typed errors and network failures."""

from __future__ import annotations

import logging
import threading
from typing import Any

import httpx
import pytest

from scrm.core.shared_state import DatabaseSharedState, SharedState
from scrm.platforms.base import PlatformError, PlatformUnavailable
from scrm.platforms.wecom.client import WeComClient
from scrm.platforms.wecom.errors import WeComError
from scrm.platforms.wecom.simulator import RunningSimulator, start_simulator
from tests.platforms.wecom import simulator_support
from tests.platforms.wecom.simulator_support import (
    CONTACT_SECRET,
    RecordedSleep,
    api_requests,
    make_client,
    redis_state,
    sim_config,
    wecom_config,
)

# The simulator fixtures, shared with the other simulator test modules.
sim = simulator_support.sim
receiver = simulator_support.receiver
control = simulator_support.control

FOLLOW_LIST = "externalcontact/get_follow_user_list"


@pytest.fixture
def state(committing_factory: Any) -> SharedState:
    return DatabaseSharedState(committing_factory)


def fault(control: httpx.Client, **spec: Any) -> None:
    control.post("/_sim/faults", json=spec).raise_for_status()


def test_many_calls_use_one_cached_token(
    sim: RunningSimulator, control: httpx.Client, state: SharedState
) -> None:
    client = make_client(sim, state)
    for _ in range(5):
        assert client.get_follow_user_list() == ["zhangsan", "lisi", "wangwu"]
    assert client.get_access_token() == client.get_access_token("contact")
    assert len(api_requests(control, "gettoken")) == 1
    # The app secret has a token of its own.
    client.get_access_token("app")
    assert len(api_requests(control, "gettoken")) == 2


@pytest.mark.parametrize("backend", ["database", "redis"])
def test_clients_sharing_state_fetch_the_token_once(
    backend: str, sim: RunningSimulator, control: httpx.Client, committing_factory: Any
) -> None:
    if backend == "database":
        first: SharedState = DatabaseSharedState(committing_factory)
        second: SharedState = DatabaseSharedState(committing_factory)
    else:
        first = redis_state()
        second = first
    clients = [make_client(sim, first), make_client(sim, second)]
    errors: list[BaseException] = []

    def work(client: WeComClient) -> None:
        try:
            for _ in range(3):
                client.get_follow_user_list()
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(clients[index % 2],)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(api_requests(control, "gettoken")) == 1
    assert len(api_requests(control, FOLLOW_LIST)) == 18


@pytest.mark.parametrize(
    ("control_path", "errcode"), [("/_sim/tokens/expire", 42001), ("/_sim/tokens/revoke", 40014)]
)
def test_token_errors_refresh_the_token_once(
    control_path: str, errcode: int, sim: RunningSimulator, control: httpx.Client, state: SharedState
) -> None:
    client = make_client(sim, state)
    old = client.get_access_token()
    control.post(control_path).raise_for_status()
    assert client.get_follow_user_list()
    answers = [entry["errcode"] for entry in api_requests(control, FOLLOW_LIST)]
    assert answers == [errcode, 0]
    assert client.get_access_token() != old
    assert len(api_requests(control, "gettoken")) == 2


def test_a_second_token_error_is_raised_not_looped(
    sim: RunningSimulator, control: httpx.Client, state: SharedState
) -> None:
    client = make_client(sim, state)
    fault(control, api=FOLLOW_LIST, errcode=42001, count=5)
    with pytest.raises(WeComError) as caught:
        client.get_follow_user_list()
    assert caught.value.errcode == 42001 and caught.value.retryable is False
    assert len(api_requests(control, FOLLOW_LIST)) == 2


def test_40001_on_a_cached_token_refreshes_but_a_bad_secret_does_not(
    sim: RunningSimulator, control: httpx.Client, state: SharedState
) -> None:
    client = make_client(sim, state)
    client.get_access_token()
    fault(control, api=FOLLOW_LIST, errcode=40001, count=1)
    assert client.get_follow_user_list()
    assert len(api_requests(control, "gettoken")) == 2

    wrong = make_client(sim, state, contact_secret="not-the-secret")
    with pytest.raises(WeComError) as caught:
        wrong.get_follow_user_list()
    assert caught.value.errcode == 40001 and not caught.value.retryable
    other_corp = make_client(sim, state, corp_id="wwsomeoneelse")
    with pytest.raises(WeComError) as caught:
        other_corp.get_access_token()
    assert caught.value.errcode == 40013


def test_system_busy_is_retried_three_times_with_backoff(
    sim: RunningSimulator, control: httpx.Client, state: SharedState
) -> None:
    sleep = RecordedSleep()
    client = make_client(sim, state, sleep)
    client.get_access_token()
    fault(control, api=FOLLOW_LIST, errcode=-1, count=3)
    assert client.get_follow_user_list()
    backoffs = [wait for wait in sleep.waits if wait > 0.2]
    assert len(backoffs) == 3
    assert backoffs[0] < backoffs[2]  # exponential: 0.25-0.75 s, then 1-3 s

    fault(control, api=FOLLOW_LIST, errcode=-1)
    with pytest.raises(WeComError) as caught:
        client.get_follow_user_list()
    assert caught.value.errcode == -1 and caught.value.retryable is True
    assert len(api_requests(control, FOLLOW_LIST)) == 4 + 4


def test_45009_blocks_the_api_for_every_client_then_succeeds(
    sim: RunningSimulator, control: httpx.Client, state: SharedState
) -> None:
    sleep = RecordedSleep()
    client = make_client(sim, state, sleep)
    client.get_access_token()
    fault(control, api=FOLLOW_LIST, errcode=45009, count=1)
    assert client.get_follow_user_list()
    assert 55 < max(sleep.waits) <= 60  # waited out the shared 60 s block before the retry
    # Another process sharing the state waits for the same block before calling at all.
    other_sleep = RecordedSleep()
    other = make_client(sim, state, other_sleep)
    assert other.get_follow_user_list()
    assert 50 < max(other_sleep.waits) <= 60
    assert [entry["errcode"] for entry in api_requests(control, FOLLOW_LIST)] == [45009, 0, 0]


def test_persistent_45009_raises_retryable_with_retry_after(
    sim: RunningSimulator, control: httpx.Client, state: SharedState
) -> None:
    client = make_client(sim, state, max_rate_limit_retries=2)
    client.get_access_token()
    fault(control, api=FOLLOW_LIST, errcode=45009)
    with pytest.raises(WeComError) as caught:
        client.get_follow_user_list()
    assert caught.value.errcode == 45009 and caught.value.retryable
    assert caught.value.retry_after is not None and 50 < caught.value.retry_after <= 60
    assert len(api_requests(control, FOLLOW_LIST)) == 3
    # With a short wait budget (inside a request or a job step) the block is not slept out.
    impatient_sleep = RecordedSleep()
    impatient = make_client(sim, state, impatient_sleep, max_wait_seconds=5)
    with pytest.raises(WeComError) as caught:
        impatient.get_follow_user_list()
    assert caught.value.retryable and caught.value.retry_after is not None
    assert len(api_requests(control, FOLLOW_LIST)) == 3  # refused before calling
    assert all(wait < 5 for wait in impatient_sleep.waits)


def test_45033_backs_off_briefly(sim: RunningSimulator, control: httpx.Client, state: SharedState) -> None:
    sleep = RecordedSleep()
    client = make_client(sim, state, sleep)
    client.get_access_token()
    fault(control, api=FOLLOW_LIST, errcode=45033, count=2)
    assert client.get_follow_user_list()
    blocks = [wait for wait in sleep.waits if wait > 0.1]
    assert len(blocks) == 2 and all(wait < 6 for wait in blocks)


def test_pacing_spaces_calls_by_the_configured_limit(
    sim: RunningSimulator, control: httpx.Client, state: SharedState
) -> None:
    sleep = RecordedSleep()
    client = make_client(sim, state, sleep, rate_limit_per_minute=60)
    for _ in range(5):
        client.get_follow_user_list()
    # 60/min with 2% headroom: one slot every 1.02 s; the first call goes at once. Each wait is the
    # slot's distance from now, so it grows by about one interval per call (the calls themselves
    # take a few milliseconds of real time, which the reservation already accounts for).
    waits = [wait for wait in sleep.waits]
    assert len(waits) == 4
    for index, wait in enumerate(waits, start=1):
        assert index * 1.02 - 2 < wait <= index * 1.02


def test_request_logs_carry_no_token_or_secret(
    sim: RunningSimulator, state: SharedState, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(sim, state)
    with caplog.at_level(logging.INFO, logger="httpx"):
        client.get_follow_user_list()
    token = client.get_access_token()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "access_token=***" in logged and "corpsecret=***" in logged
    assert token not in logged and CONTACT_SECRET not in logged


def test_typed_errors_are_not_retried(
    sim: RunningSimulator, control: httpx.Client, state: SharedState
) -> None:
    client = make_client(sim, state)
    with pytest.raises(WeComError) as caught:
        client.list_users(department_id=999)
    assert caught.value.errcode == 60123 and caught.value.retryable is False
    assert isinstance(caught.value, PlatformError) and caught.value.platform == "wecom"
    with pytest.raises(WeComError) as caught:
        client.remark("nobody", "wmnobody")
    assert caught.value.errcode == 40003
    assert len(api_requests(control, "externalcontact/remark")) == 1


def test_unreachable_wecom_is_platform_unavailable(state: SharedState) -> None:
    with start_simulator(sim_config()) as running:
        base_url = running.base_url
    sleep = RecordedSleep()
    client = WeComClient(wecom_config(base_url), shared_state=state, sleep=sleep, max_network_retries=2)
    with pytest.raises(PlatformUnavailable) as caught:
        client.get_follow_user_list()
    assert caught.value.retryable is True
    assert len(sleep.waits) == 2  # connect errors are always safe to repeat


def test_a_dropped_answer_is_retried_only_when_repeating_is_harmless(
    sim: RunningSimulator, control: httpx.Client, state: SharedState
) -> None:
    client = make_client(sim, state)
    client.get_access_token()
    fault(control, api=FOLLOW_LIST, drop=True, count=1)
    assert client.get_follow_user_list() == ["zhangsan", "lisi", "wangwu"]

    fault(control, api="externalcontact/add_contact_way", drop=True, count=1)
    with pytest.raises(PlatformUnavailable):
        client.add_contact_way(type=1, scene=2, user=["zhangsan"], state="dropped")
    # WeCom did the work; only the answer was lost (the caller's retry must tolerate that).
    assert control.get("/_sim/state").json()["counts"]["contact_ways"] == 1
    assert len(api_requests(control, "externalcontact/add_contact_way")) == 1


def test_a_stalled_answer_times_out(receiver: Any, state: SharedState) -> None:
    with start_simulator(sim_config(fault_timeout_seconds=1)) as running:
        http = httpx.Client(timeout=httpx.Timeout(0.3))
        client = make_client(running, state, http=http, max_network_retries=0)
        client.get_access_token()
        with httpx.Client(base_url=running.base_url) as control_client:
            fault(control_client, api=FOLLOW_LIST, timeout=True, count=1)
        with pytest.raises(PlatformUnavailable):
            client.get_follow_user_list()
        http.close()
