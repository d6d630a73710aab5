"""JOS signing reproduces the official example (platform-protocols.md §8.2)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scrm.platforms.shops.jd import signing

OFFICIAL_PARAMS = {
    "360buy_param_json": '{"end_date":null,"optional_fields":null,"order_state":"WAIT_SELLER_STOCK_OUT",'
    '"page":"1","page_size":"200","start_date":null}',
    "access_token": "yourtoken",
    "app_key": "yourappkey",
    "method": "jingdong.pop.order.search",
    "timestamp": "2021-05-07 09:20:39.683+0800",
    "v": "2.0",
}


def test_official_vector() -> None:
    assert signing.sign(OFFICIAL_PARAMS, "yourappSecret") == "D70825340F4084360B9362B60DFD7930"


def test_format_sign_method_and_sign_are_not_signed() -> None:
    extended = {**OFFICIAL_PARAMS, "format": "json", "sign_method": "md5", "sign": "whatever"}
    assert signing.sign(extended, "yourappSecret") == "D70825340F4084360B9362B60DFD7930"


def test_every_signed_parameter_counts() -> None:
    for name in OFFICIAL_PARAMS:
        changed = {**OFFICIAL_PARAMS, name: OFFICIAL_PARAMS[name] + "x"}
        assert signing.sign(changed, "yourappSecret") != "D70825340F4084360B9362B60DFD7930", name


def test_param_json_is_compact_sorted_and_keeps_chinese() -> None:
    assert (
        signing.param_json({"page": "1", "order_state": "等待出库"})
        == '{"order_state":"等待出库","page":"1"}'
    )


def test_timestamp_format_round_trips() -> None:
    moment = datetime(2021, 5, 7, 1, 20, 39, 683000, tzinfo=UTC)
    text = signing.timestamp(moment)
    assert text == "2021-05-07 09:20:39.683+0800"
    assert signing.parse_timestamp(text) == moment
    with pytest.raises(ValueError):
        signing.parse_timestamp("yesterday")
