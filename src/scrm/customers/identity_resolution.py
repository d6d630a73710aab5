"""Identity resolution (身份识别): which profile a set of identifiers belongs to, and why.

The rules, strongest first (a profile is one person):

| rule | identifier | exclusive per |
|---|---|---|
| same_unionid | WeChat unionid | tenant (a person has one) |
| same_external_userid | WeCom external_userid | corp |
| same_openid | WeChat openid | app |
| same_member_id | membership number | programme (namespace) |
| same_platform_buyer | buyer id on a sales platform | `<platform>:<shop>` |
| same_phone | phone number (keyed hash) | not exclusive: families share phones |

Deterministic and explainable: `resolve` is pure. Each claimed identifier already held by a profile
is a match (rule, identifier, profile). Profiles matched through an exclusive identifier are taken
first, then those matched only by phone; each is accepted unless it *conflicts* with what is
already accepted: both sides hold an identifier of the same exclusive kind and namespace and share
no value (two different unionids; two different buyer accounts on one shop). A conflicting profile
is refused and queued for review (`customer_merge_suggestions`) instead of merged. The accepted
profiles merge into the oldest one (lowest id), and unheld claims are attached to it.

`resolve_customer` is the database service around it (commerce, imports and the API call it);
`reconcile_wecom` handles the WeCom case of a known external_userid meeting a unionid that another
profile holds. Never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.errors import ValidationFailed
from scrm.customers.models import (
    Customer,
    CustomerIdentity,
    IdentityKind,
    MergeSuggestion,
    SuggestionStatus,
    TimelineEntry,
)
from scrm.customers.phones import InvalidPhone, mask_phone, normalize_phone, phone_vault


@dataclass(frozen=True)
class Rule:
    name: str
    exclusive: bool
    strength: int  # lower is stronger


RULES: dict[str, Rule] = {
    IdentityKind.WECHAT_UNIONID: Rule("same_unionid", True, 0),
    IdentityKind.WECOM_EXTERNAL_USERID: Rule("same_external_userid", True, 1),
    IdentityKind.WECHAT_OPENID: Rule("same_openid", True, 2),
    IdentityKind.MEMBER_ID: Rule("same_member_id", True, 3),
    IdentityKind.PLATFORM_BUYER: Rule("same_platform_buyer", True, 4),
    IdentityKind.PHONE: Rule("same_phone", False, 5),
}


@dataclass(frozen=True)
class IdentityKey:
    kind: str
    namespace: str
    value: str
    # What people may read (a masked phone); never part of equality.
    display: str | None = field(default=None, compare=False)

    def describe(self) -> dict[str, str]:
        return {"kind": self.kind, "namespace": self.namespace, "value": self.display or self.value}


@dataclass(frozen=True)
class Match:
    rule: str
    identity: IdentityKey
    customer_id: int


@dataclass(frozen=True)
class IdentityConflict:
    """Both sides hold `kind`/`namespace` identifiers and share none of them."""

    kind: str
    namespace: str
    customer_id: int | None  # None: the claim itself
    values: tuple[str, ...]
    other_values: tuple[str, ...]

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "namespace": self.namespace, "customer_id": self.customer_id}


class Outcome(StrEnum):
    NEW = "new"  # nobody holds any claimed identifier
    MATCHED = "matched"  # one profile
    MERGED = "merged"  # several profiles are this person: merged into the oldest


@dataclass(frozen=True)
class Refusal:
    customer_id: int
    rule: str
    conflicts: tuple[IdentityConflict, ...]


@dataclass(frozen=True)
class Resolution:
    outcome: Outcome
    customer_id: int | None
    merge: tuple[int, ...]
    attach: tuple[IdentityKey, ...]
    matches: tuple[Match, ...]
    refused: tuple[Refusal, ...]

    def explanation(self) -> list[dict[str, Any]]:
        refused = {refusal.customer_id: refusal for refusal in self.refused}
        lines: list[dict[str, Any]] = []
        for match in self.matches:
            refusal = refused.get(match.customer_id)
            lines.append(
                {
                    "rule": match.rule,
                    "identity": match.identity.describe(),
                    "customer_id": match.customer_id,
                    "decision": "refused" if refusal else "accepted",
                    "conflicts": [conflict.describe() for conflict in refusal.conflicts] if refusal else [],
                }
            )
        return lines


def _exclusive_values(identities: Iterable[IdentityKey]) -> dict[tuple[str, str], set[str]]:
    values: dict[tuple[str, str], set[str]] = {}
    for identity in identities:
        rule = RULES.get(identity.kind)
        if rule is not None and rule.exclusive:
            values.setdefault((identity.kind, identity.namespace), set()).add(identity.value)
    return values


def conflicts_between(
    ours: Iterable[IdentityKey], theirs: Iterable[IdentityKey], *, their_id: int | None = None
) -> list[IdentityConflict]:
    """Exclusive identifiers on which two sets disagree (both have some, none shared)."""
    mine, other = _exclusive_values(ours), _exclusive_values(theirs)
    return [
        IdentityConflict(
            kind, namespace, their_id, tuple(sorted(mine[(kind, namespace)])), tuple(sorted(values))
        )
        for (kind, namespace), values in sorted(other.items())
        if (kind, namespace) in mine and not mine[(kind, namespace)] & values
    ]


def resolve(
    claims: Sequence[IdentityKey],
    holders: Mapping[IdentityKey, int],
    profiles: Mapping[int, Iterable[IdentityKey]],
) -> Resolution:
    """Pure: which profile `claims` belong to. `holders` maps each held identifier to its profile;
    `profiles` gives every matched profile's identifiers."""
    claims = list(dict.fromkeys(claims))
    matches = sorted(
        (Match(RULES[claim.kind].name, claim, holders[claim]) for claim in claims if claim in holders),
        key=lambda match: (RULES[match.identity.kind].strength, match.customer_id),
    )
    if not matches:
        return Resolution(Outcome.NEW, None, (), tuple(claims), (), ())
    order: list[int] = []
    rule_of: dict[int, str] = {}
    for match in matches:  # strongest match first decides a profile's place and its rule
        if match.customer_id not in rule_of:
            order.append(match.customer_id)
            rule_of[match.customer_id] = match.rule
    person: list[IdentityKey] = list(claims)
    accepted: list[int] = []
    refused: list[Refusal] = []
    for customer_id in order:
        theirs = list(profiles.get(customer_id, ()))
        found = conflicts_between(person, theirs, their_id=customer_id)
        if found:
            refused.append(Refusal(customer_id, rule_of[customer_id], tuple(found)))
        else:
            accepted.append(customer_id)
            person.extend(theirs)
    held_elsewhere = {claim for claim in claims if claim in holders}
    attach = tuple(claim for claim in claims if claim not in held_elsewhere)
    if not accepted:
        return Resolution(Outcome.NEW, None, (), attach, tuple(matches), tuple(refused))
    survivor = min(accepted)
    others = tuple(sorted(customer_id for customer_id in accepted if customer_id != survivor))
    outcome = Outcome.MERGED if others else Outcome.MATCHED
    return Resolution(outcome, survivor, others, attach, tuple(matches), tuple(refused))


# --- the database service ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """An identifier as callers give it (phones in clear; they are hashed and sealed here)."""

    kind: str
    value: str
    namespace: str = ""


@dataclass
class PreparedClaim:
    key: IdentityKey
    sealed: str | None = None


_NAMESPACED: dict[str, str] = {
    IdentityKind.WECOM_EXTERNAL_USERID: "the corp id",
    IdentityKind.WECHAT_OPENID: "the app id",
    IdentityKind.PLATFORM_BUYER: '"<platform>:<shop>"',
}


def prepare_claims(tenant_id: int, claims: Sequence[Claim]) -> list[PreparedClaim]:
    """Validate and normalise claims; raises ValidationFailed naming each bad one."""
    errors: list[dict[str, str]] = []
    prepared: list[PreparedClaim] = []
    vault = phone_vault()
    for index, claim in enumerate(claims):
        where = f"identities[{index}]"
        kind = claim.kind
        value = (claim.value or "").strip()
        namespace = (claim.namespace or "").strip()
        if kind not in RULES:
            errors.append({"field": f"{where}.kind", "message": f"unknown identity kind {kind!r}"})
            continue
        if not value or len(value) > 200:
            errors.append({"field": f"{where}.value", "message": "1 to 200 characters"})
            continue
        if kind in _NAMESPACED and not namespace:
            errors.append({"field": f"{where}.namespace", "message": f"{kind} needs {_NAMESPACED[kind]}"})
            continue
        if kind == IdentityKind.PLATFORM_BUYER and ":" not in namespace:
            errors.append({"field": f"{where}.namespace", "message": 'expected "<platform>:<shop>"'})
            continue
        if kind == IdentityKind.PHONE:
            try:
                number = normalize_phone(value)
            except InvalidPhone as error:
                errors.append({"field": f"{where}.value", "message": str(error)})
                continue
            prepared.append(
                PreparedClaim(
                    IdentityKey(kind, "", vault.hash(tenant_id, number), display=mask_phone(number)),
                    sealed=vault.seal(tenant_id, number),
                )
            )
            continue
        prepared.append(PreparedClaim(IdentityKey(kind, namespace, value)))
    if errors:
        raise ValidationFailed("some identities are not valid", field_errors=errors)
    return prepared


def load_holders(
    session: Session, tenant_id: int, keys: Sequence[IdentityKey]
) -> tuple[dict[IdentityKey, int], dict[int, list[IdentityKey]]]:
    """Who holds each key (live profiles; a merged-away holder is followed to its survivor), and
    every identifier of those profiles. Two queries (plus one per pointer hop of a merged holder)."""
    if not keys:
        return {}, {}
    row = CustomerIdentity
    columns = (row.kind, row.namespace, row.value, row.customer_id)
    # Keys grouped by (kind, namespace): each group is one range of the unique index probed with an
    # IN list of values, so a planner without statistics (SQLite) still walks the index, where an OR
    # of whole keys could make it scan the tenant. Few groups: a platform account per shop, phone,
    # unionid.
    groups: dict[tuple[str, str], list[str]] = {}
    for key in dict.fromkeys(keys):
        groups.setdefault((key.kind, key.namespace), []).append(key.value)
    lookups = [
        select(*columns, Customer.merged_into_id)
        .join(Customer, Customer.id == row.customer_id)
        .where(
            row.tenant_id == tenant_id,
            row.kind == kind,
            row.namespace == namespace,
            row.value.in_(values),
        )
        for (kind, namespace), values in groups.items()
    ]
    rows = session.execute(lookups[0] if len(lookups) == 1 else union_all(*lookups)).all()
    holders = {
        IdentityKey(kind, namespace, value): (
            customer_id if pointer is None else live_customer_id(session, tenant_id, customer_id)
        )
        for kind, namespace, value, customer_id, pointer in rows
    }
    profiles: dict[int, list[IdentityKey]] = {held: [] for held in sorted(set(holders.values()))}
    if profiles:
        for kind, namespace, value, customer_id in session.execute(
            select(*columns).where(row.tenant_id == tenant_id, row.customer_id.in_(list(profiles)))
        ):
            profiles[customer_id].append(IdentityKey(kind, namespace, value))
    return holders, profiles


@dataclass
class KnownHolders:
    """Who held which identifiers when loaded: lets a batch skip `resolve_customer` for claims that
    resolving would leave as they are (the returning buyer). Stale entries can only send a claim
    back to `resolve_customer`, except after a merge: call `forget` when one happens."""

    tenant_id: int
    holders: dict[IdentityKey, int]
    profiles: dict[int, list[IdentityKey]]

    def settled_customer(self, claims: Sequence[Claim]) -> int | None:
        """The profile `claims` belong to when every one is already held by it and none conflicts
        (resolving them would change nothing); None when `resolve_customer` has work to do."""
        keys = [claim.key for claim in prepare_claims(self.tenant_id, claims)]
        resolution = resolve(keys, self.holders, self.profiles)
        if resolution.outcome != Outcome.MATCHED or resolution.attach or resolution.refused:
            return None
        return resolution.customer_id

    def forget(self) -> None:
        self.holders.clear()
        self.profiles.clear()


def load_known_holders(session: Session, tenant_id: int, claims: Iterable[Claim]) -> KnownHolders:
    """The holders of `claims` (invalid claims are left out: `resolve_customer` reports them)."""
    keys: list[IdentityKey] = []
    for claim in claims:
        try:
            keys.extend(prepared.key for prepared in prepare_claims(tenant_id, [claim]))
        except ValidationFailed:
            continue
    holders, profiles = load_holders(session, tenant_id, keys)
    return KnownHolders(tenant_id, holders, profiles)


def live_customer_id(session: Session, tenant_id: int, customer_id: int) -> int:
    """Follow `merged_into_id` pointers to the live profile."""
    seen = {customer_id}
    current = customer_id
    while True:
        pointer = session.scalar(
            select(Customer.merged_into_id).where(Customer.tenant_id == tenant_id, Customer.id == current)
        )
        if pointer is None or pointer in seen:
            return current
        seen.add(pointer)
        current = pointer


def queue_review(
    session: Session,
    *,
    tenant_id: int,
    customer_id: int,
    other_customer_id: int | None,
    rule: str,
    explanation: list[dict[str, Any]],
    identities: list[dict[str, Any]],
) -> MergeSuggestion:
    """Queue a refused merge for review; an open suggestion for the same pair is refreshed instead."""
    existing = session.scalars(
        select(MergeSuggestion).where(
            MergeSuggestion.tenant_id == tenant_id,
            MergeSuggestion.status == SuggestionStatus.OPEN,
            MergeSuggestion.customer_id == customer_id,
            MergeSuggestion.other_customer_id == other_customer_id,
        )
    ).first()
    if existing is not None:
        existing.explanation = explanation
        existing.identities = identities
        existing.rule = rule
        return existing
    suggestion = MergeSuggestion(
        tenant_id=tenant_id,
        customer_id=customer_id,
        other_customer_id=other_customer_id,
        rule=rule,
        explanation=explanation,
        identities=identities,
    )
    session.add(suggestion)
    session.flush()
    return suggestion


@dataclass
class Resolved:
    """What `resolve_customer` did."""

    resolution: Resolution
    customer_id: int | None
    created: bool
    merged: list[int]
    attached: list[IdentityKey]
    suggestions: list[int]


def _attach(
    session: Session, tenant_id: int, customer_id: int, claims: Sequence[PreparedClaim], source: str
) -> list[IdentityKey]:
    attached = []
    for claim in claims:
        session.add(
            CustomerIdentity(
                tenant_id=tenant_id,
                customer_id=customer_id,
                kind=claim.key.kind,
                namespace=claim.key.namespace,
                value=claim.key.value,
                value_encrypted=claim.sealed,
                source=source,
            )
        )
        attached.append(claim.key)
    if attached:
        session.add(
            TimelineEntry(
                tenant_id=tenant_id,
                customer_id=customer_id,
                kind="identity.added",
                summary="新增身份标识：" + "、".join(key.kind for key in attached),
                detail={"identities": [key.describe() for key in attached], "source": source},
            )
        )
    session.flush()
    return attached


def resolve_customer(
    session: Session,
    *,
    actor: Actor,
    claims: Sequence[Claim],
    source: str,
    create: bool = True,
    dry_run: bool = False,
    name: str | None = None,
) -> Resolved:
    """Find (or create) the profile these identifiers belong to, merging profiles the rules say are
    one person and queueing refused merges for review. With `dry_run`, only says what it would do."""
    from scrm.customers.merging import merge_customers

    tenant_id = actor.tenant_id
    prepared = prepare_claims(tenant_id, claims)
    by_key = {claim.key: claim for claim in prepared}
    holders, profiles = load_holders(session, tenant_id, list(by_key))
    resolution = resolve(list(by_key), holders, profiles)
    if dry_run:
        return Resolved(resolution, resolution.customer_id, False, list(resolution.merge), [], [])
    customer_id = resolution.customer_id
    created = False
    if customer_id is None and not resolution.attach and resolution.refused:
        # Every claim is held by profiles that disagree with each other: nobody new to create,
        # only a question for a person (are these one customer?).
        first, *others = resolution.refused
        explanation = resolution.explanation()
        suggestions = [
            queue_review(
                session,
                tenant_id=tenant_id,
                customer_id=first.customer_id,
                other_customer_id=other.customer_id,
                rule=other.rule,
                explanation=explanation,
                identities=[m.identity.describe() for m in resolution.matches],
            ).id
            for other in others
        ]
        return Resolved(resolution, None, False, [], [], suggestions)
    if customer_id is None:
        if not create:
            return Resolved(resolution, None, False, [], [], [])
        customer = Customer(tenant_id=tenant_id, name=name or "")
        session.add(customer)
        session.flush()
        customer_id, created = customer.id, True
    explanation = resolution.explanation()
    for other in resolution.merge:
        rule = next(m.rule for m in resolution.matches if m.customer_id == other)
        merge_customers(
            session,
            actor=actor,
            survivor_id=customer_id,
            merged_id=other,
            rule=rule,
            reason=f"identity resolution ({source})",
            explanation=explanation,
        )
    attached = _attach(session, tenant_id, customer_id, [by_key[key] for key in resolution.attach], source)
    suggestions = [
        queue_review(
            session,
            tenant_id=tenant_id,
            customer_id=customer_id,
            other_customer_id=refusal.customer_id,
            rule=refusal.rule,
            explanation=explanation,
            identities=[
                m.identity.describe() for m in resolution.matches if m.customer_id == refusal.customer_id
            ],
        ).id
        for refusal in resolution.refused
    ]
    return Resolved(resolution, customer_id, created, list(resolution.merge), attached, suggestions)


def reconcile_wecom(
    session: Session, *, tenant_id: int, corp_id: str, pairs: Iterable[tuple[str, str]]
) -> dict[str, int]:
    """(external_userid, unionid) pairs whose identifiers two different profiles hold: merge them
    when the rules allow (else queue a review). Returns external_userid → the profile it resolves to."""
    result: dict[str, int] = {}
    actor = Actor.system(tenant_id)
    for external_userid, unionid in pairs:
        resolved = resolve_customer(
            session,
            actor=actor,
            claims=[
                Claim(IdentityKind.WECOM_EXTERNAL_USERID, external_userid, corp_id),
                Claim(IdentityKind.WECHAT_UNIONID, unionid),
            ],
            source="wecom",
        )
        holder = session.scalar(
            select(CustomerIdentity.customer_id).where(
                CustomerIdentity.tenant_id == tenant_id,
                CustomerIdentity.kind == IdentityKind.WECOM_EXTERNAL_USERID,
                CustomerIdentity.namespace == corp_id,
                CustomerIdentity.value == external_userid,
            )
        )
        result[external_userid] = live_customer_id(session, tenant_id, holder or resolved.customer_id or 0)
    return result


def decide_suggestion(session: Session, suggestion: MergeSuggestion, *, status: str, actor: Actor) -> None:
    suggestion.status = status
    suggestion.decided_at = utcnow()
    suggestion.decided_by = actor.label
