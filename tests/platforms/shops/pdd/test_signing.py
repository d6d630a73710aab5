"""Pinduoduo API and PMC signatures reproduce the published vectors (platform-protocols.md §8.3)."""

from __future__ import annotations

from scrm.platforms.shops.pdd import signing

OFFICIAL_PARAMS = {
    "access_token": "asd78172s8ds9a921j9qqwda12312w1w21211",
    "client_id": "1",
    "data_type": "XML",
    "order_status": "1",
    "page": "1",
    "page_size": "10",
    "timestamp": "1480411125",
    "type": "pdd.order.number.list.get",
}


def test_official_api_vector() -> None:
    assert signing.sign(OFFICIAL_PARAMS, "testSecret") == "E4DE3ED21002510DED352819E7AE6775"


def test_sign_is_not_signed_and_numbers_sign_like_their_text() -> None:
    as_numbers = {**OFFICIAL_PARAMS, "order_status": 1, "page": 1, "page_size": 10, "timestamp": 1480411125}
    assert signing.sign({**as_numbers, "sign": "x"}, "testSecret") == "E4DE3ED21002510DED352819E7AE6775"


def test_every_parameter_counts() -> None:
    for name in OFFICIAL_PARAMS:
        changed = {**OFFICIAL_PARAMS, name: OFFICIAL_PARAMS[name] + "0"}
        assert signing.sign(changed, "testSecret") != "E4DE3ED21002510DED352819E7AE6775", name


def test_objects_and_booleans_are_sent_as_json() -> None:
    assert signing.param_value(True) == "true"
    assert signing.param_value({"b": 1, "a": [1, "是"]}) == '{"b":1,"a":[1,"是"]}'
    assert signing.wire_params({"x": None, "y": 2}) == {"y": "2"}


def test_pmc_url_sign_vector() -> None:
    assert (
        signing.pmc_sign("app", 1700000000000, "secret") == "OTgxODMwNDI2NWZiN2NiNzA2NzIxOTI0ZjJlMDMxMjE%3D"
    )
    assert signing.pmc_url("app", 1700000000000, "secret") == (
        "wss://message-api.pinduoduo.com/message/app/1700000000000/OTgxODMwNDI2NWZiN2NiNzA2NzIxOTI0ZjJlMDMxMjE%3D"
    )
