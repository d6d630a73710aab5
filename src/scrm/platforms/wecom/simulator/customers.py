"""The simulated corp's customers (external contacts) and follow relations, compact enough for
100 000 pre-created customers.

Pre-created (`--customers N`) customers are never stored: customer i's external_userid and unionid
encode a bijection of i (multiplication by an odd constant modulo 2^40, plus a keyed hash so random
ids never decode), and every other field derives from i and the seed. Only the owner of each
customer is stored (two bytes each). The first change to a pre-created customer copies it into the
ordinary dictionaries ("materialises" it); from then on it lives there like a scanned customer.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import string
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_BITS = 40
_MASK = (1 << _BITS) - 1
_MULTIPLIER = (0x9E3779B97F4A7C15 & _MASK) | 1
_INVERSE = pow(_MULTIPLIER, -1, 1 << _BITS)
_ALPHANUMERIC = string.ascii_letters + string.digits
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红"


def random_id(prefix: str, length: int) -> str:
    """WeCom-looking ids: `wm…` customers, `et…` tags, `wr…` group chats."""
    return prefix + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length - len(prefix)))


def random_name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.randint(1, 2)))


@dataclass(slots=True)
class Contact:
    external_userid: str
    name: str
    unionid: str
    type: int = 1  # 1 WeChat user, 2 WeCom user
    gender: int = 0
    avatar: str = ""
    corp_name: str = ""
    position: str = ""

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "external_userid": self.external_userid,
            "name": self.name,
            "type": self.type,
            "gender": self.gender,
            "avatar": self.avatar,
            "unionid": self.unionid,
        }
        if self.type == 2:
            data.update(corp_name=self.corp_name, corp_full_name=self.corp_name, position=self.position)
        return data


@dataclass(slots=True)
class Follow:
    """One member's relation to one customer (follow_user / follow_info)."""

    userid: str
    createtime: int
    state: str = ""
    add_way: int = 1
    oper_userid: str = ""
    remark: str = ""
    description: str = ""
    remark_corp_name: str = ""
    remark_mobiles: list[str] = field(default_factory=list)
    tag_ids: list[str] = field(default_factory=list)


class SeededCustomers:
    """Customers 0..count-1, derived from (seed, index); nothing per customer but its owner."""

    def __init__(self, count: int, seed: int, owners: list[str], base_time: int) -> None:
        self.count = count if owners else 0
        self._owners = owners
        self._key = hashlib.sha256(f"scrm-wecom-simulator:{seed}".encode()).digest()
        self._offset = int.from_bytes(self._key[:5], "big") & _MASK
        rng = random.Random(seed)
        self._owner_of = array("H", (rng.randrange(len(owners)) for _ in range(self.count)))
        self._base_time = base_time
        self._by_owner: dict[str, array[int]] | None = None

    def _code(self, index: int) -> int:
        return (index * _MULTIPLIER + self._offset) & _MASK

    def _mac(self, tag: bytes, code: int, length: int) -> str:
        digest = hashlib.blake2b(tag + code.to_bytes(5, "big"), key=self._key, digest_size=16).hexdigest()
        return digest[:length]

    def _decode(self, value: str, prefix: str, tag: bytes, length: int) -> int | None:
        if len(value) != length or not value.startswith(prefix):
            return None
        try:
            code = int(value[2:12], 16)
        except ValueError:
            return None
        if self._mac(tag, code, length - 12) != value[12:]:
            return None
        index = ((code - self._offset) * _INVERSE) & _MASK
        return index if index < self.count else None

    def external_userid(self, index: int) -> str:
        code = self._code(index)
        return f"wm{code:010x}{self._mac(b'e', code, 20)}"

    def index_of(self, external_userid: str) -> int | None:
        return self._decode(external_userid, "wm", b"e", 32)

    def unionid(self, index: int) -> str:
        code = self._code(index)
        return f"ow{code:010x}{self._mac(b'u', code, 16)}"

    def index_of_unionid(self, unionid: str) -> int | None:
        return self._decode(unionid, "ow", b"u", 28)

    def owner(self, index: int) -> str:
        return self._owners[self._owner_of[index]]

    def contact(self, index: int) -> Contact:
        external_userid = self.external_userid(index)
        return Contact(
            external_userid=external_userid,
            name=f"客户{index + 1:06d}",
            unionid=self.unionid(index),
            gender=1 + self._code(index) % 2,
            avatar=f"https://wework.qpic.cn/sim/{external_userid}/0",
        )

    def follow(self, index: int) -> Follow:
        return Follow(
            userid=self.owner(index),
            createtime=self._base_time - (self.count - index) * 37,
            add_way=1,
            oper_userid=self.external_userid(index),
        )

    def indices_of(self, userid: str) -> array[int]:
        if self._by_owner is None:
            by_owner: dict[str, array[int]] = {owner: array("I") for owner in self._owners}
            for index, owner in enumerate(self._owner_of):
                by_owner[self._owners[owner]].append(index)
            self._by_owner = by_owner
        return self._by_owner.get(userid, array("I"))


class CustomerBook:
    """Pre-created and live customers behind one interface."""

    def __init__(self, seeded: SeededCustomers | None = None) -> None:
        self.seeded = seeded
        self._materialised: set[int] = set()
        self._contacts: dict[str, Contact] = {}
        self._follows: dict[str, dict[str, Follow]] = {}
        self._by_owner: dict[str, dict[str, None]] = {}
        self._by_unionid: dict[str, str] = {}
        self._relations = 0
        # Positional paging over a member's live customers without copying them on every page.
        self._owner_lists: dict[str, list[str]] = {}

    def _seeded_index(self, external_userid: str) -> int | None:
        if self.seeded is None:
            return None
        index = self.seeded.index_of(external_userid)
        return None if index is None or index in self._materialised else index

    # --- reads ------------------------------------------------------------------------------------

    def contact(self, external_userid: str) -> Contact | None:
        if (found := self._contacts.get(external_userid)) is not None:
            return found
        index = self._seeded_index(external_userid)
        return None if index is None or self.seeded is None else self.seeded.contact(index)

    def follows(self, external_userid: str) -> list[Follow]:
        if external_userid in self._follows:
            return list(self._follows[external_userid].values())
        index = self._seeded_index(external_userid)
        return [] if index is None or self.seeded is None else [self.seeded.follow(index)]

    def follow(self, external_userid: str, userid: str) -> Follow | None:
        return next((item for item in self.follows(external_userid) if item.userid == userid), None)

    def find_by_unionid(self, unionid: str) -> str | None:
        if (found := self._by_unionid.get(unionid)) is not None:
            return found
        if self.seeded is None:
            return None
        index = self.seeded.index_of_unionid(unionid)
        if index is None or index in self._materialised:
            return None
        return self.seeded.external_userid(index)

    def page_of(self, userid: str, position: int, limit: int) -> tuple[list[str], int | None]:
        """Up to `limit` external_userids of `userid` from `position`, and the next position."""
        found: list[str] = []
        seeded = self.seeded.indices_of(userid) if self.seeded is not None else array("I")
        while position < len(seeded) and len(found) < limit:
            index = seeded[position]
            position += 1
            if index not in self._materialised and self.seeded is not None:
                found.append(self.seeded.external_userid(index))
        live = self._owner_lists.get(userid)
        if live is None:
            live = self._owner_lists[userid] = list(self._by_owner.get(userid, {}))
        offset = position - len(seeded)
        while offset < len(live) and len(found) < limit:
            found.append(live[offset])
            offset += 1
        position = len(seeded) + offset
        return found, (position if position < len(seeded) + len(live) else None)

    def external_userids_of(self, userid: str) -> list[str]:
        return self.page_of(userid, 0, 1 << 62)[0]

    def iter_relations(self) -> Iterator[tuple[str, Follow]]:
        if self.seeded is not None:
            for index in range(self.seeded.count):
                if index not in self._materialised:
                    yield self.seeded.external_userid(index), self.seeded.follow(index)
        for external_userid, follows in self._follows.items():
            for follow in follows.values():
                yield external_userid, follow

    @property
    def contact_count(self) -> int:
        seeded = self.seeded.count if self.seeded is not None else 0
        return seeded + len(self._contacts) - len(self._materialised)

    @property
    def relation_count(self) -> int:
        seeded = self.seeded.count if self.seeded is not None else 0
        return seeded - len(self._materialised) + self._relations

    # --- writes -----------------------------------------------------------------------------------

    def editable(self, external_userid: str) -> Contact | None:
        """The stored contact, copying a pre-created one into the dictionaries first."""
        index = self._seeded_index(external_userid)
        if index is not None and self.seeded is not None:
            self._materialised.add(index)
            self.add_contact(self.seeded.contact(index))
            self.add_follow(external_userid, self.seeded.follow(index))
        return self._contacts.get(external_userid)

    def add_contact(self, contact: Contact) -> None:
        self._contacts[contact.external_userid] = contact
        self._follows.setdefault(contact.external_userid, {})
        self._by_unionid[contact.unionid] = contact.external_userid

    def add_follow(self, external_userid: str, follow: Follow) -> None:
        """Add or replace `follow.userid`'s relation (the contact must be stored: `editable`)."""
        follows = self._follows[external_userid]
        if follow.userid not in follows:
            self._relations += 1
        follows[follow.userid] = follow
        self._by_owner.setdefault(follow.userid, {})[external_userid] = None
        self._owner_lists.pop(follow.userid, None)

    def remove_follow(self, external_userid: str, userid: str) -> Follow | None:
        if self.editable(external_userid) is None:
            return None
        removed = self._follows[external_userid].pop(userid, None)
        if removed is not None:
            self._relations -= 1
            self._by_owner.get(userid, {}).pop(external_userid, None)
            self._owner_lists.pop(userid, None)
        return removed
