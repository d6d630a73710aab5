"""Satisfaction ratings over HTTP: staff rate on the customer's behalf, or the customer rates through a
signed link without logging in; once, only when resolved or closed, never a merged ticket. Forged,
tampered and expired links, bad scores and other tenants are refused and write nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.tickets import rating
from scrm.tickets import service as ticket_service
from scrm.tickets.models import Ticket, TicketTimelineEntry
from scrm.tickets.rating import sign_rating_token
from tests.conftest import TEST_SECRET_KEY, Persona
from tests.tickets.conftest import Records
from tests.tickets.test_tickets import MONDAY_10, Now, act, new_ticket, unrouted

PUBLIC = "/api/v1/public/ticket-ratings"


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Iterator[Now]:
    clock = Now(MONDAY_10)
    monkeypatch.setattr(ticket_service, "utcnow", clock)
    monkeypatch.setattr(rating, "utcnow", clock)
    yield clock


def resolved_ticket(client: Any, persona: Persona, **extra: Any) -> dict[str, Any]:
    ticket = new_ticket(client, persona, **extra)
    assert act(client, persona, ticket["id"], "resolve").status_code == 200
    return ticket


def rate(client: Any, persona: Persona, ticket_id: int, **body: Any) -> Any:
    return client.post(f"/api/v1/tickets/{ticket_id}/rating", json=body, headers=persona.headers)


def link(client: Any, persona: Persona, ticket_id: int) -> Any:
    return client.post(f"/api/v1/tickets/{ticket_id}/rating-link", headers=persona.headers)


def stored(factory: sessionmaker[Session], ticket_id: int) -> tuple[Any, ...]:
    with factory() as session:
        row = session.get(Ticket, ticket_id)
        assert row is not None
        rated = session.scalar(
            select(func.count())
            .select_from(TicketTimelineEntry)
            .where(TicketTimelineEntry.ticket_id == ticket_id, TicketTimelineEntry.kind == "rated")
        )
        return row.rating, row.rating_comment, row.rated_at, rated


def test_staff_rate_a_resolved_ticket_once(
    client: Any, owner: Persona, records: Records, now: Now, committing_factory: sessionmaker[Session]
) -> None:
    ticket = new_ticket(client, owner, customer_id=records.customers[0])
    rated_before = unrouted("ticket.rated")
    early = rate(client, owner, ticket["id"], score=5)
    assert early.status_code == 409 and "resolved or closed" in early.json()["detail"]
    act(client, owner, ticket["id"], "resolve")
    now.value = MONDAY_10 + timedelta(hours=1)
    answer = rate(client, owner, ticket["id"], score=4, comment="  换货很快  ")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["rating"], body["rating_comment"]) == (4, "换货很快")
    assert body["rated_at"].startswith("2026-09-28T03:00:00")
    # `ticket.rated` has no handler yet: publishing it counts it and writes no outbox row.
    assert unrouted("ticket.rated") == rated_before + 1
    timeline = client.get(f"/api/v1/tickets/{ticket['id']}", headers=owner.headers).json()["timeline"]
    assert timeline[-1]["kind"] == "rated" and timeline[-1]["detail"] == {"score": 4, "via": "staff"}

    again = rate(client, owner, ticket["id"], score=1)
    assert again.status_code == 409 and "already been rated" in again.json()["detail"]
    assert link(client, owner, ticket["id"]).status_code == 409
    assert stored(committing_factory, ticket["id"])[:2] == (4, "换货很快")
    assert unrouted("ticket.rated") == rated_before + 1


def test_bad_ratings_and_other_tenants_write_nothing(
    client: Any,
    owner: Persona,
    other_tenant: Persona,
    finance: Persona,
    committing_factory: sessionmaker[Session],
) -> None:
    ticket = resolved_ticket(client, owner)
    for body in ({"score": 0}, {"score": 6}, {"score": "five"}, {}, {"score": 3, "comment": "x" * 2001}):
        answer = rate(client, owner, ticket["id"], **body)
        assert answer.status_code == 422, body
        assert answer.json()["errors"][0]["field"] in ("score", "comment")
    assert rate(client, other_tenant, ticket["id"], score=5).status_code == 404
    assert link(client, other_tenant, ticket["id"]).status_code == 404
    assert rate(client, finance, ticket["id"], score=5).status_code == 403
    assert rate(client, owner, 999_999, score=5).status_code == 404
    assert stored(committing_factory, ticket["id"]) == (None, None, None, 0)


def test_a_merged_ticket_is_not_rated(client: Any, owner: Persona, records: Records) -> None:
    duplicate = new_ticket(client, owner, customer_id=records.customers[0])
    survivor = new_ticket(client, owner, customer_id=records.customers[0])
    merged = client.post(
        f"/api/v1/tickets/{duplicate['id']}/merge",
        json={"into_ticket_id": survivor["id"]},
        headers=owner.headers,
    )
    assert merged.status_code == 200, merged.text
    for answer in (rate(client, owner, duplicate["id"], score=5), link(client, owner, duplicate["id"])):
        assert answer.status_code == 409 and f"merged into ticket {survivor['id']}" in answer.json()["detail"]


def test_the_customer_rates_once_through_a_signed_link(
    client: Any, owner: Persona, records: Records, now: Now, committing_factory: sessionmaker[Session]
) -> None:
    pending = new_ticket(client, owner, customer_id=records.customers[0])
    assert link(client, owner, pending["id"]).status_code == 409
    ticket = resolved_ticket(
        client, owner, customer_id=records.customers[0], description="客户手机 13800000000"
    )
    made = link(client, owner, ticket["id"])
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    assert made.json()["url"].endswith(f"/ticket-rating/{token}")
    assert made.json()["expires_at"].startswith("2026-10-12T02:00:00")

    # No login; nothing personal in the answer.
    shown = client.get(f"{PUBLIC}/{token}")
    assert shown.status_code == 200, shown.text
    assert shown.json() == {
        "title": "口红断了",
        "status": "resolved",
        "rated": False,
        "score": None,
        "expires_at": made.json()["expires_at"],
    }
    rated_before = unrouted("ticket.rated")
    answer = client.post(f"{PUBLIC}/{token}", json={"score": 5, "comment": "很满意"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["rated"] is True and answer.json()["score"] == 5
    assert unrouted("ticket.rated") == rated_before + 1
    assert stored(committing_factory, ticket["id"])[:2] == (5, "很满意")
    timeline = client.get(f"/api/v1/tickets/{ticket['id']}", headers=owner.headers).json()["timeline"]
    assert (timeline[-1]["actor"], timeline[-1]["detail"]["via"]) == ("customer", "link")

    again = client.post(f"{PUBLIC}/{token}", json={"score": 1})
    assert again.status_code == 409
    assert rate(client, owner, ticket["id"], score=1).status_code == 409
    assert client.post(f"{PUBLIC}/{token}", json={"score": 9}).status_code == 422
    assert stored(committing_factory, ticket["id"])[:2] == (5, "很满意")


def test_forged_tampered_and_expired_links_write_nothing(
    client: Any,
    owner: Persona,
    other_tenant: Persona,
    now: Now,
    committing_factory: sessionmaker[Session],
) -> None:
    ticket = resolved_ticket(client, owner)
    token = link(client, owner, ticket["id"]).json()["token"]
    body, _, signature = token.partition(".")
    expires = MONDAY_10 + timedelta(days=14)
    forged = [
        "not-a-token",
        f"{body}.{'A' * len(signature)}",
        f"{body}x.{signature}",
        # A well-formed token signed with another secret.
        sign_rating_token(
            secret="another-secret-" + "y" * 32,
            tenant_id=owner.tenant_id,
            ticket_id=ticket["id"],
            expires_at=expires,
        ),
        # Genuinely signed, but naming the ticket in another tenant: no such ticket there.
        sign_rating_token(
            secret=TEST_SECRET_KEY,
            tenant_id=other_tenant.tenant_id,
            ticket_id=ticket["id"],
            expires_at=expires,
        ),
    ]
    for bad in forged:
        assert client.get(f"{PUBLIC}/{bad}").status_code == 404, bad
        refused = client.post(f"{PUBLIC}/{bad}", json={"score": 5})
        assert refused.status_code == 404 and refused.json()["detail"] == "this rating link is not valid"
    assert client.get(f"{PUBLIC}/{'a' * 300}").status_code == 422

    now.value = MONDAY_10 + timedelta(days=14, seconds=1)
    expired = client.post(f"{PUBLIC}/{token}", json={"score": 5})
    assert expired.status_code == 410 and "expired" in expired.json()["detail"]
    assert client.get(f"{PUBLIC}/{token}").status_code == 410
    assert stored(committing_factory, ticket["id"]) == (None, None, None, 0)

    now.value = MONDAY_10 + timedelta(days=13)
    assert client.post(f"{PUBLIC}/{token}", json={"score": 3}).status_code == 201
