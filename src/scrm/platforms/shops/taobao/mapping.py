"""Taobao trade JSON → canonical snapshots. Pure: no I/O, no clock.

Field names follow `taobao.trade.fullinfo.get` / `taobao.trades.sold.increment.get` with
`simplify=false` (lists wrapped: `orders.order[]`, `promotion_details.promotion_detail[]`). Amounts
are yuan strings ("200.07") and become integer fen through Decimal; times are `yyyy-MM-dd HH:mm:ss`
in Asia/Shanghai and become aware UTC datetimes. `version` is `modified` in epoch milliseconds:
TOP gives it to the second, so two changes within one second share a version.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from scrm.platforms.shops.canonical import (
    BuyerIdentity,
    LogisticsSnapshot,
    OrderLineSnapshot,
    OrderSnapshot,
    OrderStatus,
    RefundSnapshot,
    RefundState,
    RefundStatus,
)

PLATFORM = "taobao"
#: China has kept UTC+8 without daylight saving since 1991: a fixed offset is exact for every
#: date TOP can return (3 months back) and needs no tz database.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

TRADE_STATUS: dict[str, OrderStatus] = {
    "TRADE_NO_CREATE_PAY": OrderStatus.CREATED,
    "WAIT_BUYER_PAY": OrderStatus.CREATED,
    "PAY_PENDING": OrderStatus.CREATED,
    "WAIT_PRE_AUTH_CONFIRM": OrderStatus.CREATED,
    "WAIT_SELLER_SEND_GOODS": OrderStatus.PAID,
    "PAID_FORBID_CONSIGN": OrderStatus.PAID,
    # partly shipped: the rest is still owed, so the order as a whole stays paid
    "SELLER_CONSIGNED_PART": OrderStatus.PAID,
    "WAIT_BUYER_CONFIRM_GOODS": OrderStatus.SHIPPED,
    "TRADE_BUYER_SIGNED": OrderStatus.COMPLETED,
    "TRADE_FINISHED": OrderStatus.COMPLETED,
    "TRADE_CLOSED": OrderStatus.CLOSED,
    "TRADE_CLOSED_BY_TAOBAO": OrderStatus.CLOSED,
}

REFUND_STATUS: dict[str, RefundStatus] = {
    "WAIT_SELLER_AGREE": RefundStatus.REQUESTED,
    "WAIT_BUYER_RETURN_GOODS": RefundStatus.AGREED,
    "WAIT_SELLER_CONFIRM_GOODS": RefundStatus.RETURNING,
    "SELLER_REFUSE_BUYER": RefundStatus.REFUSED,
    "SUCCESS": RefundStatus.SUCCEEDED,
    "CLOSED": RefundStatus.CLOSED,
}
_REFUNDING = frozenset({"WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS"})

#: The fields the client asks for: everything `map_trade` reads.
TRADE_FIELDS = ",".join(
    (
        "tid,tid_str,status,type,created,pay_time,consign_time,end_time,modified",
        "payment,total_fee,post_fee,discount_fee,adjust_fee,commission_fee",
        "buyer_open_uid,buyer_nick,receiver_state,receiver_city,receiver_district",
        "receiver_name,receiver_mobile,oaid",
        "step_trade_status,step_paid_fee,send_time,est_con_time,promotion_details,orders",
    )
)


class MappingError(ValueError):
    """A trade or message lacks what its snapshot cannot do without (an id, a status, a time)."""


# --- values --------------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """`yyyy-MM-dd HH:mm:ss` (Asia/Shanghai; a fraction is tolerated) → aware UTC; None if empty."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    for pattern in (TIME_FORMAT, TIME_FORMAT + ".%f"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=SHANGHAI).astimezone(UTC)
        except ValueError:
            continue
    raise MappingError(f"not a TOP time: {value!r}")


def format_time(moment: datetime) -> str:
    """An aware datetime as TOP writes times (Asia/Shanghai, to the second, truncated)."""
    return moment.astimezone(SHANGHAI).strftime(TIME_FORMAT)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def fen(value: Any) -> int | None:
    """A yuan amount ("200.07", 200.07, 200) → fen (20007); None when absent."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise MappingError(f"not a yuan amount: {value!r}") from error
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def yuan(amount_fen: int) -> str:
    """fen → TOP's yuan string with two decimals (the inverse of `fen`)."""
    sign = "-" if amount_fen < 0 else ""
    whole, cents = divmod(abs(amount_fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _listed(container: Any, key: str) -> list[dict[str, Any]]:
    """`{"order": [...]}` (simplify=false) or a bare list (simplify=true) → the list."""
    if isinstance(container, Mapping):
        container = container.get(key)
    if isinstance(container, list):
        return [item for item in container if isinstance(item, dict)]
    return []


def trade_id(trade: Mapping[str, Any]) -> str:
    """The trade's id as text: `tid_str` when given (tid exceeds what some JSON readers keep exact)."""
    value = _text(trade.get("tid_str")) or _text(trade.get("tid"))
    if value is None:
        raise MappingError("trade without tid")
    return value


def order_lines(trade: Mapping[str, Any]) -> list[dict[str, Any]]:
    return _listed(trade.get("orders"), "order")


def _line_id(line: Mapping[str, Any]) -> str:
    value = _text(line.get("oid_str")) or _text(line.get("oid"))
    if value is None:
        raise MappingError("order line without oid")
    return value


# --- buyers and lines ----------------------------------------------------------------------------


def buyer_identity(source: Mapping[str, Any]) -> BuyerIdentity | None:
    """Buyer from a trade or a message: buyer_open_uid is the stable id; nick and receiver fields
    are masked by TOP (`张**`, `135********`) and stay so; a clear 11-digit mobile is a phone."""
    account = _text(source.get("buyer_open_uid"))
    nick = _text(source.get("buyer_nick"))
    name = _text(source.get("receiver_name"))
    mobile = _text(source.get("receiver_mobile"))
    oaid = _text(source.get("oaid"))
    if not any((account, nick, oaid)):
        return None
    phone = mobile if mobile and mobile.isdigit() and len(mobile) == 11 else None
    return BuyerIdentity(
        account_id=account,
        nick=nick,
        phone=phone,
        phone_masked=mobile if mobile and "*" in mobile else None,
        name_masked=name if name and "*" in name else None,
        oaid=oaid,
    )


def _line(line: Mapping[str, Any], *, presale: bool) -> OrderLineSnapshot:
    quantity = int(line.get("num") or 1)
    price = fen(line.get("price")) or 0
    payment = fen(line.get("divide_order_fee"))
    if payment is None:
        payment = fen(line.get("payment")) or 0
    explicit_gift = line.get("is_gift")
    return OrderLineSnapshot(
        external_id=_line_id(line),
        title=str(line.get("title") or ""),
        item_id=_text(line.get("num_iid")),
        sku_id=_text(line.get("sku_id")),
        outer_sku_id=_text(line.get("outer_sku_id")),
        sku_description=_text(line.get("sku_properties_name")),
        quantity=quantity,
        price_fen=price,
        total_fen=price * quantity,
        payment_fen=payment,
        discount_fen=fen(line.get("discount_fee")) or 0,
        # TOP has no gift flag on order lines; a gift (赠品) is a zero-price line
        is_gift=bool(explicit_gift) if explicit_gift is not None else price == 0,
        is_presale=presale,
    )


def _logistics(trade: Mapping[str, Any], lines: list[dict[str, Any]]) -> tuple[LogisticsSnapshot, ...]:
    """One parcel per (company, waybill) over the lines that name one."""
    parcels: dict[tuple[str | None, str | None], list[dict[str, Any]]] = {}
    for line in lines:
        company = _text(line.get("logistics_company"))
        waybill = _text(line.get("invoice_no"))
        if company or waybill:
            parcels.setdefault((company, waybill), []).append(line)
    return tuple(
        LogisticsSnapshot(
            company=company,
            tracking_no=waybill,
            shipped_at=parse_time(members[0].get("consign_time")) or parse_time(trade.get("consign_time")),
            line_external_ids=tuple(_line_id(line) for line in members),
        )
        for (company, waybill), members in parcels.items()
    )


def refund_state(lines: list[dict[str, Any]]) -> RefundState:
    """The order's refund summary from its lines' `refund_status` (NO_REFUND when absent)."""
    statuses = [str(line.get("refund_status") or "NO_REFUND") for line in lines]
    refunding = [status in _REFUNDING for status in statuses]
    refunded = [status == "SUCCESS" for status in statuses]
    if not any(refunding) and not any(refunded):
        return RefundState.NONE
    every_line = all(a or b for a, b in zip(refunding, refunded, strict=True))
    if any(refunding):
        return RefundState.FULL_REFUNDING if every_line else RefundState.PARTIAL_REFUNDING
    return RefundState.FULL_REFUNDED if every_line else RefundState.PARTIAL_REFUNDED


# --- trades --------------------------------------------------------------------------------------


def trade_version(trade: Mapping[str, Any]) -> int:
    """`modified` in epoch ms; without it, the latest time the trade shows."""
    modified = parse_time(trade.get("modified"))
    if modified is None:
        known = [
            parse_time(trade.get(name))
            for name in ("end_time", "consign_time", "pay_time", "created")
            if trade.get(name)
        ]
        moments = [moment for moment in known if moment is not None]
        if not moments:
            raise MappingError(f"trade {trade.get('tid')} has no modified time")
        modified = max(moments)
    return epoch_ms(modified)


def map_trade(trade: Mapping[str, Any], *, shop_external_id: str) -> OrderSnapshot:
    """A full trade (fullinfo or an increment page) → a complete `OrderSnapshot`."""
    raw_status = str(trade.get("status") or "")
    status = TRADE_STATUS.get(raw_status)
    if status is None:
        raise MappingError(f"unknown trade status {raw_status!r}")
    presale = trade.get("type") == "step" or bool(trade.get("step_trade_status"))
    lines = order_lines(trade)
    end_time = parse_time(trade.get("end_time"))
    return OrderSnapshot(
        platform=PLATFORM,
        shop_external_id=shop_external_id,
        external_id=trade_id(trade),
        version=trade_version(trade),
        complete=True,
        status=status,
        platform_status=raw_status,
        refund_state=refund_state(lines),
        created_at=parse_time(trade.get("created")),
        paid_at=parse_time(trade.get("pay_time")),
        shipped_at=parse_time(trade.get("consign_time")),
        received_at=end_time if status is OrderStatus.COMPLETED else None,
        closed_at=end_time if status is OrderStatus.CLOSED else None,
        updated_at=parse_time(trade.get("modified")),
        payment_fen=fen(trade.get("payment")),
        total_fen=fen(trade.get("total_fee")),
        discount_fen=fen(trade.get("discount_fee")),
        post_fee_fen=fen(trade.get("post_fee")),
        platform_fee_fen=fen(trade.get("commission_fee")),
        buyer=buyer_identity(trade),
        receiver_province=_text(trade.get("receiver_state")),
        # TOP puts province-administered county cities in receiver_district with no city
        receiver_city=_text(trade.get("receiver_city")) or _text(trade.get("receiver_district")),
        is_presale=presale,
        presale_ship_at=(
            parse_time(trade.get("send_time") or trade.get("est_con_time")) if presale else None
        ),
        promotions=tuple(_listed(trade.get("promotion_details"), "promotion_detail")),
        lines=tuple(_line(line, presale=presale) for line in lines),
        logistics=_logistics(trade, lines),
        raw=dict(trade),
    )


def map_trade_refunds(trade: Mapping[str, Any], *, shop_external_id: str) -> list[RefundSnapshot]:
    """The refunds the trade's lines show (`refund_id` + `refund_status`), one per refund id; the
    amount only when the lines carry `refund_fee` (trade APIs usually do not)."""
    tid = trade_id(trade)
    version = trade_version(trade)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for line in order_lines(trade):
        refund_id = _text(line.get("refund_id"))
        if refund_id and str(line.get("refund_status") or "NO_REFUND") in REFUND_STATUS:
            grouped.setdefault(refund_id, []).append(line)
    refunds = []
    for refund_id, members in grouped.items():
        raw_status = str(members[0]["refund_status"])
        amounts = [fen(line.get("refund_fee")) for line in members]
        refunds.append(
            RefundSnapshot(
                platform=PLATFORM,
                shop_external_id=shop_external_id,
                external_id=refund_id,
                order_external_id=tid,
                version=version,
                status=REFUND_STATUS[raw_status],
                platform_status=raw_status,
                amount_fen=(
                    sum(a for a in amounts if a is not None) if any(a is not None for a in amounts) else None
                ),
                line_external_ids=tuple(_line_id(line) for line in members),
                updated_at=parse_time(trade.get("modified")),
                raw={"tid": tid, "orders": members},
            )
        )
    return refunds
