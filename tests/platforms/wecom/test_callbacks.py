"""The WeCom callback receiver over HTTP: URL verification, storing each callback once, and the
worker turning stored callbacks into canonical events."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette

from scrm.core.events import HandlerRegistry
from scrm.core.metrics import REGISTRY
from scrm.core.outbox_models import InboundMessage, InboundState
from scrm.platforms.wecom.callbacks import get_receiver
from scrm.platforms.wecom.callbacks import router as callbacks_router
from tests.platforms.wecom.conftest import (
    WeComSender,
    canonical_events,
    fixture_names,
    inbox_count,
    load_fixture,
    run_worker,
)
from tests.platforms.wecom.test_mapping import EXPECTED

Factory = sessionmaker[Session]


def test_url_verification_answers_the_plaintext_of_echostr(sender: WeComSender) -> None:
    echostr = sender.crypto.encrypt("1616140317555161061")
    timestamp, nonce = str(int(__import__("time").time())), "263014780"
    response = sender.client.get(
        sender.url,
        params={
            "msg_signature": sender.crypto.sign(timestamp, nonce, echostr),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        },
    )
    assert response.status_code == 200
    assert response.content == b"1616140317555161061"  # no quotes, no BOM, no newline
    assert response.headers["content-type"].startswith("text/plain")


def test_url_verification_with_a_forged_signature_is_refused(sender: WeComSender) -> None:
    echostr = sender.crypto.encrypt("42")
    response = sender.client.get(
        sender.url, params={"msg_signature": "0" * 40, "timestamp": "1", "nonce": "1", "echostr": echostr}
    )
    assert response.status_code == 401
    assert b"42" not in response.content


@pytest.mark.parametrize("name", fixture_names())
def test_each_recorded_callback_is_stored_once_and_mapped(
    name: str, sender: WeComSender, committing_factory: Factory, recording_registry: HandlerRegistry
) -> None:
    plaintext = load_fixture(name)
    response = sender.post(plaintext)
    assert response.status_code == 200
    assert response.content == b""

    with committing_factory() as session:
        (message,) = session.scalars(select(InboundMessage)).all()
        assert message.raw_payload == plaintext
        assert message.platform == "wecom"
        assert message.connection_id == str(sender.connection_id)
        assert message.state == InboundState.RECEIVED

    run_worker(committing_factory, recording_registry)

    expected = EXPECTED[name]
    events = canonical_events(committing_factory)
    with committing_factory() as session:
        message = session.get_one(InboundMessage, message.id)
    if expected is None:
        assert events == []
        assert message.state == InboundState.IGNORED
        return
    (event,) = events
    assert event.event_type == expected[0]
    assert {key: event.payload[key] for key in expected[1]} == expected[1]
    assert event.payload["inbound_message_id"] == message.id
    assert event.payload["connection_id"] == sender.connection_id
    assert message.state == InboundState.PROCESSED

    # Running the worker again, or re-delivering the inbox event, changes nothing.
    run_worker(committing_factory, recording_registry)
    assert len(canonical_events(committing_factory)) == 1


def test_wecom_retries_store_one_row_and_publish_one_event(
    sender: WeComSender, committing_factory: Factory, recording_registry: HandlerRegistry
) -> None:
    plaintext = load_fixture("add_external_contact__with_state")
    # Each retry is encrypted afresh with a new timestamp and nonce, like WeCom's re-sends.
    for _ in range(3):
        assert sender.post(plaintext).status_code == 200
    assert inbox_count(committing_factory) == 1
    run_worker(committing_factory, recording_registry)
    for _ in range(3):
        assert sender.post(plaintext).status_code == 200
    run_worker(committing_factory, recording_registry)
    assert inbox_count(committing_factory) == 1
    assert [event.event_type for event in canonical_events(committing_factory)] == [
        "wecom.external_contact.added"
    ]


def test_the_very_same_request_replayed_is_stored_once(
    sender: WeComSender, committing_factory: Factory
) -> None:
    params, body = sender.envelope(load_fixture("change_external_chat__dismiss"))
    for _ in range(3):
        assert sender.post_raw(params, body).status_code == 200
    assert inbox_count(committing_factory) == 1


def test_two_customers_added_to_one_staff_member_in_the_same_second_are_two_events(
    sender: WeComSender, committing_factory: Factory, recording_registry: HandlerRegistry
) -> None:
    first = load_fixture("add_external_contact__with_state")
    second = first.replace("woAJ2GCAAAXtWyujaWJHDDGi0mAAAA", "woAJ2GCAAAXtWyujaWJHDDGi0mEEEE").replace(
        "WELCOMECODE", "WELCOMECODE-2"
    )
    assert sender.post(first).status_code == 200
    assert sender.post(second).status_code == 200
    assert inbox_count(committing_factory) == 2
    run_worker(committing_factory, recording_registry)
    events = canonical_events(committing_factory)
    assert sorted(event.payload["external_userid"] for event in events) == [
        "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA",
        "woAJ2GCAAAXtWyujaWJHDDGi0mEEEE",
    ]


def test_a_row_the_worker_cannot_read_is_marked_failed_without_retries(
    sender: WeComSender, committing_factory: Factory, recording_registry: HandlerRegistry
) -> None:
    plaintext = load_fixture("add_external_contact__with_state").replace(
        "<UserID><![CDATA[zhangsan]]></UserID>", ""
    )
    assert sender.post(plaintext).status_code == 200
    run_worker(committing_factory, recording_registry)
    with committing_factory() as session:
        (message,) = session.scalars(select(InboundMessage)).all()
        assert message.state == InboundState.FAILED
        assert "UserID" in (message.error or "")
    assert canonical_events(committing_factory) == []
    assert run_worker(committing_factory, recording_registry) == 0  # nothing left to retry


def test_accepted_callbacks_are_counted(sender: WeComSender) -> None:
    def stored() -> float:
        return (
            REGISTRY.get_sample_value("scrm_wecom_callbacks_total", {"kind": "event", "outcome": "stored"})
            or 0
        )

    before = stored()
    assert sender.post(load_fixture("change_external_tag__shuffle")).status_code == 200
    assert stored() == before + 1


def test_routing_without_the_shortcut_answers_as_the_shortcut_does(
    app: Any, sender: WeComSender, committing_factory: Factory
) -> None:
    # `CallbackShortcut` only saves time: an app that routes to the endpoint the ordinary way (no
    # shortcut installed) stores and refuses the same requests with the same answers.
    routed = Starlette(routes=callbacks_router.routes)
    routed.state.wecom_receiver = get_receiver(app)
    plaintext = load_fixture("change_external_chat__dismiss")
    with TestClient(routed) as plain_client:
        for client in (sender.client, plain_client):
            params, body = sender.envelope(plaintext)
            stored = client.post(sender.url, params=params, content=body)
            forged = client.post(sender.url, params={**params, "msg_signature": "0" * 40}, content=body)
            wrong_method = client.put(sender.url, params=params, content=body)
            assert (stored.status_code, stored.content, stored.headers["content-length"]) == (200, b"", "0")
            assert forged.status_code == 401
            assert forged.headers["content-type"] == "application/problem+json"
            assert forged.json()["type"] == "/problems/wecom-callback-bad-signature"
            assert wrong_method.status_code == 405
    assert inbox_count(committing_factory) == 1


def test_the_shortcut_takes_only_what_the_route_matches(
    sender: WeComSender, committing_factory: Factory
) -> None:
    params, body = sender.envelope(load_fixture("change_external_chat__dismiss"))
    for path in (sender.url + "/", sender.url + "/x", "/api" + sender.url, "/hooks/wecom/"):
        assert sender.client.post(path, params=params, content=body).status_code in (404, 405)
    assert inbox_count(committing_factory) == 0
