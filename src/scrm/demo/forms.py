"""The demo's forms: a public after-sales form (售后登记) whose submissions open tickets, the way
seed 003 collects service requests, and the fields of the after-sales ticket type. Once per demo
database (a database from before forms gets them on its next start)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.forms import service as forms
from scrm.forms.schemas import CreateTicketAction, FormIn, FormKind


def _field(key: str, kind: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": kind, "label": {"zh-CN": zh, "en": en}, **extra}


def _options(*pairs: tuple[str, str, str]) -> list[dict[str, Any]]:
    return [{"value": value, "label": {"zh-CN": zh, "en": en}} for value, zh, en in pairs]


PROBLEMS = _options(
    ("lost", "未收到 / 丢件", "Not received / lost"),
    ("damaged", "包装破损", "Damaged packaging"),
    ("wrong", "色号 / 尺码不符", "Wrong shade or size"),
    ("quality", "质量问题", "Quality problem"),
    ("other", "其他", "Other"),
)


def seed_demo_forms(session: Session, *, tenant_id: int) -> None:
    actor = Actor.system(tenant_id)
    if forms.list_forms(session, actor=actor):
        return
    forms.create_form(
        session,
        actor=actor,
        data=FormIn(
            name="售后登记",
            description="扫码填写售后问题，客服会尽快联系您",
            kind=FormKind.PUBLIC,
            fields=[
                _field("name", "text", "您的称呼", "Your name", required=True, max_length=30),
                _field("phone", "phone", "手机号", "Mobile number", required=True),
                _field("order_no", "text", "订单号", "Order number", max_length=40),
                _field("problem", "choice", "遇到的问题", "Problem", required=True, options=PROBLEMS),
                _field(
                    "detail",
                    "textarea",
                    "问题描述",
                    "What happened",
                    max_length=1000,
                    required_if={"field": "problem", "op": "equals", "value": "other"},
                ),
                _field("region", "region", "所在地区", "Region"),
                _field("consent", "consent", "同意客服联系我", "I agree to be contacted", required=True),
            ],
            on_submit=[
                CreateTicketAction(
                    type="create_ticket", ticket_type="after_sales", title="表单售后：{name} {order_no}"
                )
            ],
        ),
    )
    forms.create_form(
        session,
        actor=actor,
        data=FormIn(
            name="售后工单字段",
            kind=FormKind.TICKET,
            ticket_type="after_sales",
            fields=[
                _field("refund_id", "number", "退款单号", "Refund id"),
                _field("amount_fen", "number", "退款金额（分）", "Refund amount (fen)", min=0),
                _field("problem", "choice", "问题类型", "Problem", options=PROBLEMS),
            ],
        ),
    )
