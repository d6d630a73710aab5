"""The simulated shop world, in platform-neutral terms: shops, buyers, orders and their lifecycles.

Each platform's simulator front-end (`scrm.platforms.shops.<platform>.simulator`) renders these
orders in its platform's JSON, answers its pull APIs from `orders_modified`, and turns the world's
changes (`subscribe`) into its pushes or message-channel entries. A person (`SimPerson`) may buy on
several platforms with one account per platform, so the same human shows up everywhere, as in life.

Every change bumps the order's `version` (milliseconds, strictly increasing per world) and
`updated_at`. Amounts are in fen. Times are UTC.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

PROVINCES: tuple[tuple[str, str], ...] = (
    ("上海市", "上海市"),
    ("北京市", "北京市"),
    ("广东省", "广州市"),
    ("广东省", "深圳市"),
    ("浙江省", "杭州市"),
    ("江苏省", "南京市"),
    ("四川省", "成都市"),
    ("湖北省", "武汉市"),
)
PRODUCTS: tuple[tuple[str, str, int], ...] = (
    ("SKU-LIP-01", "丝绒口红 #01 正红", 16900),
    ("SKU-LIP-02", "丝绒口红 #02 豆沙", 16900),
    ("SKU-CUSHION", "轻透气垫粉底", 32900),
    ("SKU-SERUM", "修护精华 30ml", 45900),
    ("SKU-MASK", "补水面膜 5片装", 9900),
    ("SKU-SUN", "清透防晒乳", 19900),
    ("SKU-GIFT-BAG", "品牌礼袋", 0),
)


class Step:
    PAY = "pay"
    SHIP = "ship"
    RECEIVE = "receive"
    REFUND_PARTIAL = "refund_partial"
    REFUND_FULL = "refund_full"
    CLOSE = "close"  # unpaid order closed (timeout / buyer cancel)


class SimStatus:
    CREATED = "created"
    PAID = "paid"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CLOSED = "closed"


@dataclass
class SimPerson:
    """A human. `accounts[platform]` is their buyer account there (created on first purchase)."""

    key: str
    name: str
    phone: str
    unionid: str | None
    accounts: dict[str, str] = field(default_factory=dict)


@dataclass
class SimLine:
    line_id: str
    sku_id: str
    item_id: str
    title: str
    quantity: int
    price_fen: int
    payment_fen: int
    discount_fen: int = 0
    is_gift: bool = False
    is_presale: bool = False


@dataclass
class SimRefund:
    refund_id: str
    line_ids: list[str]
    amount_fen: int
    status: str  # requested | agreed | succeeded | closed
    created_at: datetime
    updated_at: datetime
    version: int
    reason: str = "不想要了"
    refund_type: str = "refund_only"


@dataclass
class SimOrder:
    platform: str
    shop_id: str
    order_id: str
    person: SimPerson
    buyer_account: str
    lines: list[SimLine]
    post_fee_fen: int
    discount_fen: int
    province: str
    city: str
    status: str
    created_at: datetime
    updated_at: datetime
    version: int
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    received_at: datetime | None = None
    closed_at: datetime | None = None
    express_company: str | None = None
    tracking_no: str | None = None
    presale_ship_at: datetime | None = None
    refunds: list[SimRefund] = field(default_factory=list)
    # The brand may decrypt this order's receiver data (OAID decrypt, the platforms' decrypt APIs):
    # front-ends then show the receiver's phone in clear instead of masked or encrypted.
    reveal_phone: bool = False

    @property
    def goods_fen(self) -> int:
        return sum(line.price_fen * line.quantity for line in self.lines)

    @property
    def payment_fen(self) -> int:
        return sum(line.payment_fen for line in self.lines) + self.post_fee_fen

    @property
    def refunded_fen(self) -> int:
        return sum(refund.amount_fen for refund in self.refunds if refund.status == "succeeded")

    @property
    def is_presale(self) -> bool:
        return any(line.is_presale for line in self.lines)


@dataclass(frozen=True)
class Change:
    """What just happened to an order (`kind`: created, paid, shipped, received, closed,
    refund_requested, refund_succeeded)."""

    kind: str
    order: SimOrder
    refund: SimRefund | None = None


Listener = Callable[[Change], None]


class ShopWorld:
    """All simulated shops' orders. Thread-safe; deterministic for a given seed and call sequence."""

    def __init__(self, *, seed: int = 7, clock: Callable[[], datetime] | None = None) -> None:
        self.rng = random.Random(seed)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._orders: dict[tuple[str, str], SimOrder] = {}
        self._people: dict[str, SimPerson] = {}
        self._listeners: list[Listener] = []
        self._serial = itertools.count(1)
        self._last_version = 0

    # --- people ----------------------------------------------------------------------------------

    def person(
        self, key: str, *, name: str | None = None, phone: str | None = None, unionid: str | None = None
    ) -> SimPerson:
        """The person `key`, created on first use (random name and phone unless given)."""
        with self._lock:
            existing = self._people.get(key)
            if existing is not None:
                return existing
            person = SimPerson(
                key=key,
                name=name
                or self.rng.choice("张王李赵刘陈杨黄周吴")
                + self.rng.choice(["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳"]),
                phone=phone or f"13{self.rng.randint(0, 9)}{self.rng.randint(10_000_000, 99_999_999)}",
                unionid=unionid,
            )
            self._people[key] = person
            return person

    def people(self) -> list[SimPerson]:
        with self._lock:
            return list(self._people.values())

    def account_of(self, person: SimPerson, platform: str) -> str:
        with self._lock:
            account = person.accounts.get(platform)
            if account is None:
                account = f"{platform}-buyer-{self.rng.getrandbits(48):012x}"
                person.accounts[platform] = account
            return account

    # --- orders --------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def _next_version(self, now: datetime) -> int:
        version = max(int(now.timestamp() * 1000), self._last_version + 1)
        self._last_version = version
        return version

    def _touch(self, order: SimOrder) -> datetime:
        now = self._clock()
        order.updated_at = now
        order.version = self._next_version(now)
        return now

    def _emit(self, change: Change) -> None:
        for listener in list(self._listeners):
            listener(change)

    def create_order(
        self,
        platform: str,
        shop_id: str,
        person: SimPerson,
        *,
        skus: list[tuple[str, int]] | None = None,
        post_fee_fen: int = 0,
        presale_days: int | None = None,
        order_id: str | None = None,
        reveal_phone: bool = False,
    ) -> SimOrder:
        """A new unpaid order. `skus` are (sku_id, quantity) from `PRODUCTS`; random when omitted.
        With `presale_days`, every line is presale and ships that many days from now."""
        with self._lock:
            catalogue = {sku: (title, price) for sku, title, price in PRODUCTS}
            if skus is None:
                skus = [
                    (sku, self.rng.randint(1, 2))
                    for sku, _, price in self.rng.sample(PRODUCTS[:-1], self.rng.randint(1, 3))
                ]
            serial = next(self._serial)
            now = self._clock()
            lines = []
            for index, (sku, quantity) in enumerate(skus, start=1):
                title, price = catalogue[sku]
                lines.append(
                    SimLine(
                        line_id=f"{serial}{index:02d}",
                        sku_id=sku,
                        item_id=f"ITEM-{sku}",
                        title=title,
                        quantity=quantity,
                        price_fen=price,
                        payment_fen=price * quantity,
                        is_gift=price == 0,
                        is_presale=presale_days is not None,
                    )
                )
            province, city = self.rng.choice(PROVINCES)
            order = SimOrder(
                platform=platform,
                shop_id=shop_id,
                order_id=order_id or f"{now:%y%m%d}{serial:08d}",
                person=person,
                buyer_account=self.account_of(person, platform),
                lines=lines,
                post_fee_fen=post_fee_fen,
                discount_fen=0,
                province=province,
                city=city,
                status=SimStatus.CREATED,
                created_at=now,
                updated_at=now,
                version=self._next_version(now),
                presale_ship_at=now + timedelta(days=presale_days) if presale_days is not None else None,
                reveal_phone=reveal_phone,
            )
            self._orders[(platform, order.order_id)] = order
        self._emit(Change("created", order))
        return order

    def get(self, platform: str, order_id: str) -> SimOrder | None:
        with self._lock:
            return self._orders.get((platform, order_id))

    def orders(self, platform: str | None = None, shop_id: str | None = None) -> list[SimOrder]:
        with self._lock:
            return [
                order
                for order in self._orders.values()
                if (platform is None or order.platform == platform)
                and (shop_id is None or order.shop_id == shop_id)
            ]

    def orders_modified(
        self, platform: str, shop_id: str, start: datetime, end: datetime, *, status: str | None = None
    ) -> list[SimOrder]:
        """Orders whose `updated_at` is in [start, end), newest first (how platforms sort)."""
        with self._lock:
            found = [
                order
                for order in self._orders.values()
                if order.platform == platform
                and order.shop_id == shop_id
                and start <= order.updated_at < end
                and (status is None or order.status == status)
            ]
        return sorted(found, key=lambda order: (order.updated_at, order.order_id), reverse=True)

    def advance(self, order: SimOrder, step: str, *, amount_fen: int | None = None) -> Change:
        """Move `order` one step; raises ValueError when the step does not apply to its status."""
        with self._lock:
            change = self._apply(order, step, amount_fen)
        self._emit(change)
        return change

    def _apply(self, order: SimOrder, step: str, amount_fen: int | None) -> Change:
        allowed = {
            Step.PAY: {SimStatus.CREATED},
            Step.SHIP: {SimStatus.PAID},
            Step.RECEIVE: {SimStatus.SHIPPED},
            Step.CLOSE: {SimStatus.CREATED},
            Step.REFUND_PARTIAL: {SimStatus.PAID, SimStatus.SHIPPED, SimStatus.RECEIVED},
            Step.REFUND_FULL: {SimStatus.PAID, SimStatus.SHIPPED, SimStatus.RECEIVED},
        }
        if step not in allowed:
            raise ValueError(f"unknown step {step!r}")
        if order.status not in allowed[step]:
            raise ValueError(f"cannot {step} an order that is {order.status}")
        if step == Step.PAY:
            order.paid_at = self._touch(order)
            order.status = SimStatus.PAID
            return Change("paid", order)
        if step == Step.SHIP:
            order.shipped_at = self._touch(order)
            order.status = SimStatus.SHIPPED
            order.express_company = self.rng.choice(["SF", "ZTO", "YTO", "JD"])
            order.tracking_no = f"{order.express_company}{self.rng.randint(10**11, 10**12 - 1)}"
            return Change("shipped", order)
        if step == Step.RECEIVE:
            order.received_at = self._touch(order)
            order.status = SimStatus.RECEIVED
            return Change("received", order)
        if step == Step.CLOSE:
            order.closed_at = self._touch(order)
            order.status = SimStatus.CLOSED
            return Change("closed", order)
        # refunds: partial refunds one line (or `amount_fen`), full refunds everything and closes
        now = self._touch(order)
        if step == Step.REFUND_PARTIAL:
            line = order.lines[0]
            amount = amount_fen if amount_fen is not None else line.payment_fen
            lines = [line.line_id]
        else:
            amount = order.payment_fen - order.refunded_fen
            lines = [line.line_id for line in order.lines]
        refund = SimRefund(
            refund_id=f"R{order.order_id}{len(order.refunds) + 1}",
            line_ids=lines,
            amount_fen=amount,
            status="succeeded",
            created_at=now,
            updated_at=now,
            version=order.version,
        )
        order.refunds.append(refund)
        if step == Step.REFUND_FULL:
            order.status = SimStatus.CLOSED
            order.closed_at = now
        return Change("refund_succeeded", order, refund)

    def random_lifecycle(self, order: SimOrder) -> list[str]:
        """The steps a realistic order takes from created: most are paid, shipped and received; some
        are left unpaid and closed; a few are partly or fully refunded."""
        roll = self.rng.random()
        if roll < 0.1:
            return [Step.CLOSE]
        steps = [Step.PAY, Step.SHIP, Step.RECEIVE]
        if roll < 0.18:
            steps.append(Step.REFUND_PARTIAL)
        elif roll < 0.22:
            steps = [Step.PAY, Step.REFUND_FULL]
        return steps

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            by_platform: dict[str, int] = {}
            for order in self._orders.values():
                by_platform[order.platform] = by_platform.get(order.platform, 0) + 1
            return {"orders": len(self._orders), "people": len(self._people), "by_platform": by_platform}
