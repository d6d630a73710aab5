"""Satisfaction ratings (满意度评价): a score of 1..5 and an optional comment, given once for a resolved or
closed ticket, by staff on the customer's behalf or by the customer through a rating link. Keyword-only,
typed, never commits.

A rating link carries a token signed with HMAC-SHA256 under a key derived from the application's secret
(so it is no other kind of token): `<base64url "tenant.ticket.expiry">.<base64url signature>`, valid 14
days. Whoever holds it may see the ticket's title and status (nothing personal) and rate it once, without
logging in. A malformed or forged token is a 404, an expired one a 410; neither writes anything.

Refused with 409: a ticket not yet resolved or closed, a ticket merged into another (rate that one), a
ticket already rated (checked again by the UPDATE itself, so two racing ratings cannot both land).
A rating is written to the ticket (`rating`, `rating_comment`, `rated_at`), recorded on its timeline
and published as `ticket.rated` (no handler yet: the outbox counts it as unrouted and writes nothing).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.errors import Conflict, DomainError, NotFound
from scrm.core.events import publish
from scrm.core.tenancy import get_in_tenant, require_in_tenant
from scrm.tickets import service
from scrm.tickets.events import TicketRated
from scrm.tickets.lifecycle import DONE, TicketStatus
from scrm.tickets.models import Ticket
from scrm.tickets.permissions import TicketPermission
from scrm.tickets.schemas import PublicRatingOut, RatingIn, RatingLinkOut, TicketOut
from scrm.tickets.timeline import record

RATING_LINK_TTL = timedelta(days=14)
MAX_TOKEN_LENGTH = 200
_PURPOSE = b"scrm.tickets.rating-link.v1"
#: The actor a customer's own rating is recorded under.
CUSTOMER = "customer"


class LinkExpired(DomainError):
    status = 410
    title = "Gone"
    type_slug = "rating-link-expired"


@dataclass(frozen=True)
class RatingClaim:
    tenant_id: int
    ticket_id: int
    expires_at: datetime


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_rating_token(*, secret: str, tenant_id: int, ticket_id: int, expires_at: datetime) -> str:
    body = _b64(f"{tenant_id}.{ticket_id}.{int(expires_at.timestamp())}".encode())
    signature = _b64(hmac.new(_key(secret), body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


def read_rating_token(token: str, *, secret: str, now: datetime) -> RatingClaim:
    """The claim a genuine token carries. Raises NotFound when it is malformed or its signature is
    wrong, LinkExpired when it is past its expiry."""
    invalid = NotFound("this rating link is not valid")
    body, dot, signature = token.partition(".")
    if not dot or len(token) > MAX_TOKEN_LENGTH:
        raise invalid
    expected = _b64(hmac.new(_key(secret), body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise invalid
    try:
        tenant_id, ticket_id, expiry = (int(part) for part in _unb64(body).decode().split("."))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid from None
    claim = RatingClaim(tenant_id, ticket_id, datetime.fromtimestamp(expiry, UTC))
    if now >= claim.expires_at:
        raise LinkExpired("this rating link has expired; ask for a new one")
    return claim


def _check_ratable(ticket: Ticket) -> None:
    if ticket.merged_into_id is not None:
        raise Conflict(f"ticket {ticket.id} was merged into ticket {ticket.merged_into_id}; rate that one")
    if TicketStatus(ticket.status) not in DONE:
        raise Conflict(f"only a resolved or closed ticket can be rated; this one is {ticket.status}")
    if ticket.rating is not None:
        raise Conflict(f"ticket {ticket.id} has already been rated")


def _rate(session: Session, ticket: Ticket, data: RatingIn, *, actor: str, via: str) -> None:
    _check_ratable(ticket)
    comment = data.comment.strip() if data.comment and data.comment.strip() else None
    now = utcnow()
    landed = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.tenant_id == ticket.tenant_id, Ticket.rating.is_(None))
        .values(rating=data.score, rating_comment=comment, rated_at=now)
        .execution_options(synchronize_session=False)
    )
    if landed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"ticket {ticket.id} has already been rated")
    session.refresh(ticket)
    record(
        session,
        ticket,
        "rated",
        f"满意度评价：{data.score} 星" + (f"：{comment}" if comment else ""),
        actor,
        score=data.score,
        via=via,
    )
    publish(
        session,
        TicketRated(
            tenant_id=ticket.tenant_id, ticket_id=ticket.id, customer_id=ticket.customer_id, score=data.score
        ),
    )
    session.flush()


def rate_ticket(session: Session, *, actor: Actor, ticket_id: int, data: RatingIn) -> TicketOut:
    """Staff record the customer's rating on their behalf (a phone call, a chat)."""
    actor.require(TicketPermission.EDIT)
    ticket = require_in_tenant(session, Ticket, actor.tenant_id, ticket_id)
    _rate(session, ticket, data, actor=actor.label, via="staff")
    return service.render(ticket)


def create_rating_link(
    session: Session, *, actor: Actor, ticket_id: int, secret: str, public_base_url: str
) -> RatingLinkOut:
    """A link for the customer to rate the ticket, valid 14 days (409 when the ticket cannot be rated
    now). Each call makes a new link; any of them rates the ticket once."""
    actor.require(TicketPermission.EDIT)
    ticket = require_in_tenant(session, Ticket, actor.tenant_id, ticket_id)
    _check_ratable(ticket)
    expires_at = (utcnow() + RATING_LINK_TTL).replace(microsecond=0)
    token = sign_rating_token(
        secret=secret, tenant_id=ticket.tenant_id, ticket_id=ticket.id, expires_at=expires_at
    )
    record(
        session,
        ticket,
        "rating.link_created",
        "生成满意度评价链接",
        actor.label,
        expires_at=expires_at.isoformat(),
    )
    session.flush()
    return RatingLinkOut(
        token=token, url=f"{public_base_url.rstrip('/')}/ticket-rating/{token}", expires_at=expires_at
    )


def _claimed_ticket(session: Session, token: str, secret: str) -> tuple[RatingClaim, Ticket]:
    claim = read_rating_token(token, secret=secret, now=utcnow())
    ticket = get_in_tenant(session, Ticket, claim.tenant_id, claim.ticket_id)
    if ticket is None:
        raise NotFound("this rating link is not valid")
    return claim, ticket


def _public(claim: RatingClaim, ticket: Ticket) -> PublicRatingOut:
    return PublicRatingOut(
        title=ticket.title,
        status=ticket.status,
        rated=ticket.rating is not None,
        score=ticket.rating,
        expires_at=claim.expires_at,
    )


def public_rating(session: Session, *, token: str, secret: str) -> PublicRatingOut:
    """What the customer's rating page shows (no login: the token is the credential)."""
    claim, ticket = _claimed_ticket(session, token, secret)
    return _public(claim, ticket)


def submit_public_rating(session: Session, *, token: str, secret: str, data: RatingIn) -> PublicRatingOut:
    """The customer rates the ticket through the link (once; see the module docstring)."""
    claim, ticket = _claimed_ticket(session, token, secret)
    _rate(session, ticket, data, actor=CUSTOMER, via="link")
    return _public(claim, ticket)
