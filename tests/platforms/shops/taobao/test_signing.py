"""TOP signing against platform-protocols.md §7.1: the official md5 vector, bit for bit, and the
hmac / hmac-sha256 values computed for the same parameters."""

from __future__ import annotations

import pytest

from scrm.platforms.shops.taobao.signing import sign, string_to_sign, verify

SECRET = "helloworld"
PARAMS = {
    "method": "taobao.item.seller.get",
    "app_key": "12345678",
    "session": "test",
    "timestamp": "2016-01-01 12:00:00",
    "format": "json",
    "v": "2.0",
    "sign_method": "md5",
    "fields": "num_iid,title,nick,price,num",
    "num_iid": "11223344",
}
OFFICIAL_STRING = (
    "app_key12345678fieldsnum_iid,title,nick,price,numformatjsonmethodtaobao.item.seller.get"
    "num_iid11223344sessiontestsign_methodmd5timestamp2016-01-01 12:00:00v2.0"
)


def test_string_to_sign_is_the_official_one() -> None:
    assert string_to_sign(PARAMS) == OFFICIAL_STRING


def test_md5_official_vector() -> None:
    assert sign(PARAMS, SECRET, "md5") == "66987CB115214E59E6EC978214934FB8"


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("hmac", "D56D7858309C31B6251083A874D48273"),
        ("hmac-sha256", "04DB15AD0774D5CFCE2C837DE43E3FCEA9011ED74F3038FB6AB5F3C4CEA119E8"),
    ],
)
def test_hmac_vectors_over_the_same_params(method: str, expected: str) -> None:
    # the same params with their sign_method set to the method (it is part of the signed string)
    params = {**PARAMS, "sign_method": method}
    assert string_to_sign(params) == OFFICIAL_STRING.replace("sign_methodmd5", f"sign_method{method}")
    assert sign(params, SECRET, method) == expected


def test_sign_and_empty_values_are_not_signed() -> None:
    noisy = {**PARAMS, "sign": "ANYTHING", "partner_id": "", "target_app_key": None}
    assert string_to_sign(noisy) == OFFICIAL_STRING


def test_booleans_are_signed_as_top_writes_them() -> None:
    assert string_to_sign({"use_has_next": False, "a": True}) == "atrueuse_has_nextfalse"


def test_verify_uses_the_requests_own_sign_method() -> None:
    request = {**PARAMS, "sign_method": "hmac-sha256"}
    request["sign"] = sign(request, SECRET, "hmac-sha256")
    assert verify(request, SECRET)
    assert not verify(request, "wrong-secret")
    assert not verify({**request, "num_iid": "11223345"}, SECRET)
    assert not verify({**request, "sign_method": "sha1"}, SECRET)
    assert not verify({key: value for key, value in request.items() if key != "sign"}, SECRET)


def test_unknown_sign_method_is_refused() -> None:
    with pytest.raises(ValueError):
        sign(PARAMS, SECRET, "sha1")
