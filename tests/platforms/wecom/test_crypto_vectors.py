"""The three published WeCom callback vector sets (platform-protocols.md §2.7), bit for bit."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scrm.platforms.wecom.crypto import WeComCrypto, WeComCryptoError, generate_encoding_aes_key, signature

# A. The official documentation's example (加解密方案说明).
A = WeComCrypto("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")
A_ECHOSTR = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
A_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvu"
    "JTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+Ltw"
    "Gc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9"
    "EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe"
    "0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)
A_PLAINTEXT = (
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[mycreate]]></FromUserName>\n"
    "<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n"
    "<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>"
)

# B. Tencent's Python sample (callback/Sample.py).
B = WeComCrypto(
    "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", "ww1436e0e65a779aee"
)
B_ENCRYPT = (
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+k"
    "kYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4"
    "ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocug"
    "ux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+"
)

# C. wechatpy's tests (with an encryption vector using fixed random bytes).
C = WeComCrypto("123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a")
C_REPLY = (
    "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
    "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n"
    "<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>"
)
C_ENCRYPTED = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObve"
    "sEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrr"
    "NrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazP"
    "oQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
)
C_DECRYPT_INPUT = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh"
    "6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQ"
    "qGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7"
    "FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
)


def test_a_url_verification() -> None:
    assert A.sign("1409659589", "263014780", A_ECHOSTR) == "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
    assert A.verify_url("5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780", A_ECHOSTR) == (
        "1616140317555161061"
    )


def test_a_message_decrypts() -> None:
    plaintext = A.decrypt_message(
        "477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149", A_ENCRYPT
    )
    assert plaintext == A_PLAINTEXT
    assert len(base64.b64decode(A_ENCRYPT)) == 352  # the padded length given with the vector (pad 30)


def test_a_echostr_random_prefix_reproduces_the_ciphertext() -> None:
    # The doc gives the echostr's random prefix as ASCII "c41b64491c2468d0" (16 bytes).
    assert A.encrypt("1616140317555161061", random_prefix=b"c41b64491c2468d0") == A_ECHOSTR


def test_a_message_random_prefix_reproduces_the_ciphertext_bit_for_bit() -> None:
    # The published random prefix "0960688932c47ef1" is 16 ASCII characters, not hex.
    assert A.encrypt(A_PLAINTEXT, random_prefix=b"0960688932c47ef1") == A_ENCRYPT


def test_b_url_verification_and_message() -> None:
    echostr = "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="
    assert B.verify_url("012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "1476416373", "47744683", echostr) == (
        "1288432023552776189"
    )
    assert B.decrypt_message(
        "0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "1476422779", "1597212914", B_ENCRYPT
    ) == (
        "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName>"
        "<CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content>"
        "<MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>"
    )


def test_c_signature_check() -> None:
    echostr = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
    assert C.verify_url("dd6b9c95b495b3f7e2901bfbc76c664930ffdb96", "1411443780", "437374425", echostr) == (
        "5927782489442352469"
    )
    with pytest.raises(WeComCryptoError) as error:
        C.verify_url("dd6b9c95b495b3f7e2901bfbc76c664930ffdb96", "1411443780", "437374424", echostr)
    assert error.value.code == WeComCryptoError.SIGNATURE_MISMATCH


def test_c_encrypt_with_fixed_random_reproduces_the_reply_bit_for_bit() -> None:
    assert C.encrypt(C_REPLY, random_prefix=b"1234567890123456") == C_ENCRYPTED
    reply = C.encrypt_reply(
        C_REPLY, timestamp="1411525903", nonce="461056294", random_prefix=b"1234567890123456"
    )
    assert reply == (
        f"<xml>\n<Encrypt><![CDATA[{C_ENCRYPTED}]]></Encrypt>\n"
        "<MsgSignature><![CDATA[407518b7649e86ef23978113f92d27afa9296533]]></MsgSignature>\n"
        "<TimeStamp>1411525903</TimeStamp>\n<Nonce><![CDATA[461056294]]></Nonce>\n</xml>"
    )


def test_c_decrypt() -> None:
    message = C.decrypt_message(
        "74d92dfeb87ba7c714f89d98870ae5eb62dff26d", "1411525903", "461056294", C_DECRYPT_INPUT
    )
    assert "<Content><![CDATA[test]]></Content>" in message
    assert "<FromUserName><![CDATA[messense]]></FromUserName>" in message


def test_signature_is_sha1_of_the_sorted_strings() -> None:
    assert signature("b", "c", "a", "d") == signature("d", "a", "b", "c")


@pytest.mark.parametrize(
    ("encrypted", "code"),
    [
        ("not base64!!", WeComCryptoError.BASE64_DECODE_FAILED),
        (base64.b64encode(b"short").decode(), WeComCryptoError.DECRYPT_FAILED),
        (base64.b64encode(b"\x00" * 32).decode(), WeComCryptoError.ILLEGAL_BUFFER),
    ],
)
def test_broken_ciphertexts_raise_typed_errors(encrypted: str, code: int) -> None:
    with pytest.raises(WeComCryptoError) as error:
        C.decrypt(encrypted)
    assert error.value.code == code


def test_a_message_for_another_corp_is_rejected() -> None:
    other = WeComCrypto(C.token, "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "ww-another-corp")
    with pytest.raises(WeComCryptoError) as error:
        other.decrypt(C_ENCRYPTED)
    assert error.value.code == WeComCryptoError.RECEIVEID_MISMATCH


def test_bad_keys_are_refused() -> None:
    with pytest.raises(WeComCryptoError):
        WeComCrypto("t", "too-short", "corp")


@given(st.text(max_size=3000), st.binary(min_size=16, max_size=16))
def test_round_trip(message: str, prefix: bytes) -> None:
    crypto = WeComCrypto("token", generate_encoding_aes_key(), "ww-corp")
    assert crypto.decrypt(crypto.encrypt(message, random_prefix=prefix)) == message
