"""Identity resolution in bulk (批量身份识别): a backfill of many buyer observations at once.

`backfill_identities(session, tenant_id=..., records=..., source=...)`

- `records[i]` is one observation: a sequence of `Claim`s (typically a `platform_buyer` account in
  its `<platform>:<shop>` namespace, a phone in clear, a unionid). Claims are validated and
  normalised by `prepare_claims`; any invalid one raises ValidationFailed naming
  `records[i].identities[j]`, before anything is written.
- The rules are `identity_resolution`'s (`RULES`, conflicts as `conflicts_between` defines them):
  1. Exclusive identifiers, record by record in input order, decided as `resolve` decides one
     record: the clusters already holding one of its identifiers are taken strongest match first
     (then oldest), each unless it conflicts with the record plus what was taken; the record's
     unheld identifiers join the result (or form a new cluster); refused clusters are queued.
  2. Then phones, in order of first appearance. The clusters holding a phone (the records carrying
     it, the profile holding it in the database) are linked when no two of them conflict. Otherwise
     the phone is ambiguous (a family sharing one number): it links nothing, stays with its first
     holder (the profile holding it, else the first record's cluster), and every other holder is
     queued for review against that one (`same_phone`). A record with only phones joins the
     phone's holder.
  Every union checks its two sides for conflicts and is refused when they disagree.
- Profiles in the database holding any identifier of the batch are loaded (in chunks, with all
  their identifiers) as clusters older than any new one. A cluster holding one of them becomes that
  profile; several are merged into the oldest by `merge_customers`, as `resolve_customer` would.
  Identifiers already held in the database stay where they are.
- Writes in bulk (executemany on SQLite, COPY on PostgreSQL): a `customers` row per new cluster,
  the new identifiers with `source` (phones as the keyed hash, the number sealed, as `_attach`
  stores them), one `identity.added` timeline entry per profile that received identifiers (as
  `_attach` writes it), and an open `customer_merge_suggestions` row per refused pair (between
  two pre-existing profiles through `queue_review`, which refreshes an open one). Never commits.
  After a large backfill, refresh the planner statistics (ANALYZE) before live traffic.
- Returns `BatchResult`: the counts and `customer_ids[i]`, the profile of record i (None when it
  has no identifier, or when every one is held by profiles that disagree with each other).

`cluster_records` is the pure part (identity keys in, clusters out), unit-tested on its own.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations, islice
from operator import itemgetter
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.errors import Conflict, ValidationFailed
from scrm.customers.identity_resolution import (
    RULES,
    Claim,
    IdentityKey,
    _exclusive_values,
    conflicts_between,
    live_customer_id,
    prepare_claims,
    queue_review,
)
from scrm.customers.models import Customer, CustomerIdentity, MergeSuggestion, SuggestionStatus, TimelineEntry

Values = dict[tuple[str, str], set[str]]  # (kind, namespace) → values, as `_exclusive_values`
Why = tuple[str, IdentityKey]  # a rule, and the identifier through which it matched
CHUNK = 500  # values per IN (...) when loading existing profiles
PREPARE_CHUNK = 20_000  # claims per prepare_claims call
_NEW_AGE = 1 << 62  # new clusters are younger than every existing profile


def disagree(ours: Values, theirs: Values) -> bool:
    """`conflicts_between` as a yes/no, on precomputed exclusive values."""
    if len(theirs) < len(ours):
        ours, theirs = theirs, ours
    return any(key in theirs and not values & theirs[key] for key, values in ours.items())


def compatible(clusters: Sequence[Values]) -> bool:
    """No two of `clusters` disagree (checked per kind and namespace over distinct value sets)."""
    by_namespace: dict[tuple[str, str], set[frozenset[str]]] = {}
    for values in clusters:
        for key, held in values.items():
            by_namespace.setdefault(key, set()).add(frozenset(held))
    return all(all(a & b for a, b in combinations(sets, 2)) for sets in by_namespace.values())


@dataclass(slots=True)
class Group:
    values: Values
    keys: list[IdentityKey]
    existing: list[int]  # profiles from the database in this cluster
    age: int


@dataclass(frozen=True)
class Refusal:
    """Cluster `group` was not merged with `other` (`rule`, through `identities`): review it."""

    group: int
    other: int
    rule: str
    identities: tuple[IdentityKey, ...]


@dataclass
class Clustering:
    home: list[int]  # per record: its cluster (a key of `clusters`), -1 for none
    clusters: dict[int, Group]
    refusals: list[Refusal]
    merged: dict[int, Why]  # existing profile → why it merges with the others of its cluster


@dataclass
class _State:
    groups: list[Group] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)
    key_group: dict[IdentityKey, int] = field(default_factory=dict)  # exclusive identifiers
    phone_holder: dict[IdentityKey, int] = field(default_factory=dict)  # phones held in the database
    refusals: list[Refusal] = field(default_factory=list)
    merged: dict[int, Why] = field(default_factory=dict)

    def find(self, group: int) -> int:
        parent = self.parent
        root = group
        while parent[root] != root:
            root = parent[root]
        while parent[group] != root:
            parent[group], group = root, parent[group]
        return root

    def new_group(self, keys: Sequence[IdentityKey], existing: int | None = None) -> int:
        index = len(self.groups)
        age = existing if existing is not None else _NEW_AGE + index
        self.groups.append(Group({}, [], [existing] if existing is not None else [], age))
        self.parent.append(index)
        self.attach(index, keys)
        if existing is not None:
            self.phone_holder.update((key, index) for key in keys if not RULES[key.kind].exclusive)
        return index

    def attach(self, root: int, keys: Sequence[IdentityKey]) -> None:
        group = self.groups[root]
        group.keys.extend(keys)
        for key in keys:
            if RULES[key.kind].exclusive:
                group.values.setdefault((key.kind, key.namespace), set()).add(key.value)
                self.key_group[key] = root

    def union(self, a: int, b: int, rule: str, key: IdentityKey, a_by: Why | None = None) -> int:
        """Merge two clusters (roots), `b` matched through `key` (and `a` through `a_by`); -1 and
        nothing done when they disagree."""
        big, small = self.groups[a], self.groups[b]
        if disagree(big.values, small.values):
            return -1
        if big.existing and small.existing:  # profiles to merge, and why (as `resolve` explains)
            self.merged.update((cid, (rule, key)) for cid in small.existing if cid not in self.merged)
            self.merged.update((cid, a_by or (rule, key)) for cid in big.existing if cid not in self.merged)
        if len(small.keys) > len(big.keys):
            a, b, big, small = b, a, small, big
        for namespace, values in small.values.items():
            big.values.setdefault(namespace, set()).update(values)
        big.keys.extend(small.keys)
        big.existing.extend(small.existing)
        big.age = min(big.age, small.age)
        self.parent[b] = a
        self.groups[b] = Group({}, [], [], 0)  # free the merged side
        return a

    def place(self, keys: Sequence[IdentityKey]) -> int:
        """Phase 1 for one record's exclusive identifiers, as `resolve` decides: its cluster or -1."""
        held: dict[int, list[IdentityKey]] = {}
        unheld = []
        for key in keys:
            group = self.key_group.get(key)
            if group is None:
                unheld.append(key)
            else:
                held.setdefault(self.find(group), []).append(key)
        if not held:
            return self.new_group(unheld)
        if len(held) == 1 and not unheld:
            return next(iter(held))
        by = {root: min(found, key=lambda k: RULES[k.kind].strength) for root, found in held.items()}
        order = sorted(held, key=lambda root: (RULES[by[root].kind].strength, self.groups[root].age))
        person = _exclusive_values(keys)
        target, first, refused = -1, None, []
        for root in order:
            theirs, rule = self.groups[root].values, RULES[by[root].kind].name
            joined = -1 if disagree(person, theirs) else root
            if joined >= 0 and target >= 0:
                joined = self.union(target, root, rule, by[root], first)
            if joined < 0:
                refused.append(root)
                continue
            target, first = joined, first or (rule, by[root])
            for namespace, values in theirs.items():
                person.setdefault(namespace, set()).update(values)
        if target >= 0:
            self.attach(target, unheld)
        elif unheld:
            target = self.new_group(unheld)
        anchor = target if target >= 0 else refused[0]
        for root in refused:
            if root != anchor:
                self.refusals.append(Refusal(anchor, root, RULES[by[root].kind].name, tuple(held[root])))
        return target

    def link_phone(self, phone: IdentityKey, homes: Sequence[int]) -> int:
        """Phase 2 for one phone and the clusters of the records carrying it: its holder."""
        roots: list[int] = []
        holder = self.phone_holder.get(phone)
        for group in ([holder] if holder is not None else []) + [home for home in homes if home >= 0]:
            root = self.find(group)
            if root not in roots:
                roots.append(root)
        if not roots:
            return self.new_group([phone])
        owner, rule = roots[0], RULES[phone.kind].name
        linked = len(roots) > 1 and compatible([self.groups[root].values for root in roots])
        for root in roots[1:]:
            joined = self.union(owner, root, rule, phone) if linked else -1
            if joined < 0:
                self.refusals.append(Refusal(root, owner, rule, (phone,)))
            else:
                owner = joined
        if holder is None:
            self.attach(owner, [phone])
        return owner


def cluster_records(
    records: Sequence[Sequence[IdentityKey]], existing: Mapping[int, Sequence[IdentityKey]] | None = None
) -> Clustering:
    """Pure: the clusters of `records` (identity keys) given existing profiles (id → identifiers)."""
    state = _State()
    for customer_id, keys in sorted((existing or {}).items()):
        state.new_group(keys, existing=customer_id)
    home = [-1] * len(records)
    carriers: dict[IdentityKey, list[int]] = {}  # phone → records carrying it, first appearance first
    phone_only: list[int] = []
    for index, keys in enumerate(records):
        exclusive: list[IdentityKey] = []
        phones: list[IdentityKey] = []
        for key in dict.fromkeys(keys):
            (exclusive if RULES[key.kind].exclusive else phones).append(key)
        for phone in phones:
            carriers.setdefault(phone, []).append(index)
        if exclusive:
            home[index] = state.place(exclusive)
        if home[index] < 0 and phones:
            phone_only.append(index)
    owner = {phone: state.link_phone(phone, [home[i] for i in found]) for phone, found in carriers.items()}
    for index in phone_only:
        home[index] = next(owner[key] for key in records[index] if key in owner)
    home = [state.find(group) if group >= 0 else -1 for group in home]
    clusters = {index: group for index, group in enumerate(state.groups) if state.parent[index] == index}
    refusals, seen = [], set()
    for refusal in state.refusals:
        pair = (state.find(refusal.group), state.find(refusal.other))
        if pair[0] != pair[1] and frozenset(pair) not in seen:
            seen.add(frozenset(pair))
            refusals.append(Refusal(*pair, refusal.rule, refusal.identities))
    return Clustering(home, clusters, refusals, state.merged)


# --- the database part ------------------------------------------------------------------------------


@dataclass
class BatchResult:
    customers_created: int
    identities_attached: int
    suggestions: int
    merged: list[tuple[int, int]]  # (survivor, merged) among profiles that existed before
    customer_ids: list[int | None]  # per record


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _prepare(
    tenant_id: int, records: Sequence[Sequence[Claim]]
) -> tuple[list[list[IdentityKey]], dict[str, str]]:
    """Each record's identity keys (each distinct claim prepared once), and sealed phones by hash."""
    index: dict[Claim, int] = {}
    refs = [[index.setdefault(claim, len(index)) for claim in record] for record in records]
    distinct = list(index)
    keys: list[IdentityKey] = []
    sealed: dict[str, str] = {}
    for start in range(0, len(distinct), PREPARE_CHUNK):
        try:
            prepared = prepare_claims(tenant_id, distinct[start : start + PREPARE_CHUNK])
        except ValidationFailed as error:
            for item in error.field_errors:  # "identities[k]..." of the chunk → where first seen
                k, _, rest = item["field"].removeprefix("identities[").partition("]")
                at = start + int(k)
                i, j = next((i, ref.index(at)) for i, ref in enumerate(refs) if at in ref)
                item["field"] = f"records[{i}].identities[{j}]{rest}"
            raise
        keys.extend(item.key for item in prepared)
        sealed.update((item.key.value, item.sealed) for item in prepared if item.sealed)
    return [[keys[k] for k in ref] for ref in refs], sealed


def load_existing(session: Session, tenant_id: int, keys: Iterable[IdentityKey]) -> dict[int, list[Any]]:
    """Live profiles holding any of `keys`, with all their identifiers (chunked queries)."""
    row = CustomerIdentity
    if session.scalar(select(row.id).where(row.tenant_id == tenant_id).limit(1)) is None:
        return {}
    by_namespace: dict[tuple[str, str], dict[str, None]] = {}
    for key in keys:
        by_namespace.setdefault((key.kind, key.namespace), {})[key.value] = None
    holders: set[int] = set()
    for (kind, namespace), values in by_namespace.items():
        for chunk in _chunks(values, CHUNK):
            where = (row.tenant_id == tenant_id, row.kind == kind, row.namespace == namespace)
            holders.update(session.scalars(select(row.customer_id).where(*where, row.value.in_(chunk))))
    live: set[int] = set()
    for chunk in _chunks(sorted(holders), CHUNK):
        found = select(Customer.id, Customer.merged_into_id).where(
            Customer.tenant_id == tenant_id, Customer.id.in_(chunk)
        )
        for customer_id, pointer in session.execute(found):
            live.add(customer_id if pointer is None else live_customer_id(session, tenant_id, customer_id))
    profiles: dict[int, list[IdentityKey]] = {customer_id: [] for customer_id in live}
    for chunk in _chunks(sorted(live), CHUNK):
        columns = (row.customer_id, row.kind, row.namespace, row.value)
        for customer_id, kind, namespace, value in session.execute(
            select(*columns).where(row.tenant_id == tenant_id, row.customer_id.in_(chunk))
        ):
            profiles[customer_id].append(IdentityKey(kind, namespace, value))
    return profiles


def _binder(session: Session, model: Any, column: str) -> Callable[[Any], Any]:
    """The column type's conversion to the driver's value (JSON text, SQLite's datetime text...)."""
    dialect = session.get_bind().dialect
    processor = model.__table__.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    return processor or (lambda value: value)


def _bulk_insert(session: Session, model: Any, columns: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """Rows of driver values through the session's connection: COPY on PostgreSQL, executemany on
    SQLite (no per-row work in SQLAlchemy, which would be most of the backfill's time)."""
    session.flush()
    connection = session.connection()
    cursor = connection.connection.cursor()
    into = f"{model.__tablename__} ({columns.replace(' ', ', ')})"
    try:
        if connection.dialect.name == "postgresql":
            with cursor.copy(f"COPY {into} FROM STDIN") as copy:
                for values in rows:
                    copy.write_row(values)
        else:
            marks = ", ".join("?" * len(columns.split()))
            cursor.executemany(f"INSERT INTO {into} VALUES ({marks})", rows)  # type: ignore[arg-type]
    finally:
        cursor.close()


def _reserve_customer_ids(session: Session, count: int) -> list[int]:
    if session.get_bind().dialect.name == "postgresql":
        sequence = "SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, :n)"
        return list(session.scalars(text(sequence), {"n": count}))
    # SQLite: the transaction took the write lock at BEGIN (IMMEDIATE), so the next ids are ours.
    start = session.scalar(select(func.max(Customer.id))) or 0
    return list(range(start + 1, start + count + 1))


def _review(
    session: Session, tenant_id: int, pair: tuple[int, int], rule: str, why: list[Any], keys: Any
) -> None:
    """Queue (or refresh) the review of a refused merge between two profiles, as `resolve_customer` does."""
    described = [key.describe() for key in keys]
    queue_review(
        session,
        tenant_id=tenant_id,
        customer_id=pair[0],
        other_customer_id=pair[1],
        rule=rule,
        explanation=why,
        identities=described,
    )


def _merge_existing(
    session: Session, tenant_id: int, found: Clustering, source: str
) -> list[tuple[int, int]]:
    """Clusters holding several existing profiles: merged into the oldest, as `resolve_customer` does."""
    from scrm.customers.merging import merge_customers

    merged = []
    for group in found.clusters.values():
        survivor = min(group.existing, default=0)
        for other in sorted(set(group.existing) - {survivor}):
            rule, key = found.merged[other]
            line = {"rule": rule, "identity": key.describe(), "customer_id": other}
            why = [{**line, "decision": "accepted", "conflicts": []}]
            try:
                merge_customers(
                    session,
                    actor=Actor.system(tenant_id),
                    survivor_id=survivor,
                    merged_id=other,
                    rule=rule,
                    reason=f"identity resolution ({source})",
                    explanation=why,
                )
                merged.append((survivor, other))
            except Conflict as error:  # only where a profile holds two values of one kind
                why = [{**line, "decision": "refused", "conflicts": error.field_errors}]
                _review(session, tenant_id, (survivor, other), rule, why, [key])
    return merged


def backfill_identities(
    session: Session, *, tenant_id: int, records: Sequence[Sequence[Claim]], source: str
) -> BatchResult:
    """Resolve and store many observations at once (see the module docstring). Never commits.
    Python's cyclic garbage collector is paused while it runs (for the whole process)."""
    collecting = gc.isenabled()
    gc.disable()  # millions of small objects: the cyclic collector would rescan them over and over
    try:
        return _backfill(session, tenant_id, records, source)
    finally:
        if collecting:
            gc.enable()


def _backfill(
    session: Session, tenant_id: int, records: Sequence[Sequence[Claim]], source: str
) -> BatchResult:
    keyed, sealed = _prepare(tenant_id, records)
    existing = load_existing(session, tenant_id, (key for keys in keyed for key in keys))
    held = {key for keys in existing.values() for key in keys}
    found = cluster_records(keyed, existing)
    del keyed
    merged = _merge_existing(session, tenant_id, found, source)

    customer_of = {root: min(group.existing) for root, group in found.clusters.items() if group.existing}
    new_roots = [root for root, group in found.clusters.items() if not group.existing]
    customer_of.update(zip(new_roots, _reserve_customer_ids(session, len(new_roots)), strict=True))
    now = _binder(session, Customer, "created_at")(utcnow())
    empty, as_json = _binder(session, Customer, "attributes")({}), _binder(session, TimelineEntry, "detail")
    columns = "id tenant_id name gender attributes first_seen_at created_at updated_at"
    rows = ((customer_of[root], tenant_id, "", 0, empty, now, now, now) for root in new_roots)
    _bulk_insert(session, Customer, columns, rows)

    identities: list[tuple[Any, ...]] = []
    timeline: list[tuple[Any, ...]] = []
    for root, group in found.clusters.items():
        if new := [key for key in group.keys if key not in held] if held else group.keys:
            head = (tenant_id, customer_of[root])
            identities.extend(
                (*head, k.kind, k.namespace, k.value, sealed.get(k.value), source, now) for k in new
            )
            summary = ("新增身份标识：" + "、".join(key.kind for key in new))[:300]
            detail = as_json({"identities": [key.describe() for key in new], "source": source})
            timeline.append((*head, now, "identity.added", summary, detail))
    identities.sort(key=itemgetter(2, 3, 4))  # in index order: fewer pages touched
    columns = "tenant_id customer_id kind namespace value value_encrypted source created_at"
    _bulk_insert(session, CustomerIdentity, columns, identities)
    _bulk_insert(session, TimelineEntry, "tenant_id customer_id occurred_at kind summary detail", timeline)

    suggestions: list[tuple[Any, ...]] = []
    for refusal in found.refusals:
        a, b = found.clusters[refusal.group], found.clusters[refusal.other]
        customer_id, other = customer_of[refusal.group], customer_of[refusal.other]
        conflicts = [conflict.describe() for conflict in conflicts_between(a.keys, b.keys, their_id=other)]
        line = {"rule": refusal.rule, "customer_id": other, "decision": "refused", "conflicts": conflicts}
        why = [{**line, "identity": key.describe()} for key in refusal.identities]
        if a.existing and b.existing:  # both existed: an open suggestion for the pair is refreshed
            _review(session, tenant_id, (customer_id, other), refusal.rule, why, refusal.identities)
        else:
            described = as_json([key.describe() for key in refusal.identities])
            opened = (tenant_id, customer_id, other, SuggestionStatus.OPEN.value, refusal.rule)
            suggestions.append((*opened, as_json(why), described, now))
    columns = "tenant_id customer_id other_customer_id status rule explanation identities created_at"
    _bulk_insert(session, MergeSuggestion, columns, suggestions)
    return BatchResult(
        customers_created=len(new_roots),
        identities_attached=len(identities),
        suggestions=len(found.refusals),
        merged=merged,
        customer_ids=[customer_of[root] if root >= 0 else None for root in found.home],
    )
