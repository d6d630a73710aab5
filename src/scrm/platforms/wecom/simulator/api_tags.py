"""Simulated corp tags (platform-protocols.md §3.4). The rules live in plain functions so the
admin-console edits of the control API (`/_sim/tags/...`) obey them too."""

from __future__ import annotations

from typing import Any

from scrm.platforms.wecom.errors import ErrCode
from scrm.platforms.wecom.simulator.api_contacts import require_follow
from scrm.platforms.wecom.simulator.apis import ApiSpec, Call, string_list
from scrm.platforms.wecom.simulator.corp import Corp, SimError, Tag, TagGroup

MAX_CORP_TAGS = 3000


def _tag_view(tag: Tag, *, with_deleted: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": tag.id,
        "name": tag.name,
        "create_time": tag.create_time,
        "order": tag.order,
    }
    if with_deleted:
        view["deleted"] = tag.deleted
    return view


def group_view(group: TagGroup, tags: list[Tag], *, with_deleted: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "group_id": group.group_id,
        "group_name": group.group_name,
        "create_time": group.create_time,
        "order": group.order,
        "tag": [_tag_view(tag, with_deleted=with_deleted) for tag in tags],
    }
    if with_deleted:
        view["deleted"] = group.deleted
    return view


def _name(value: Any) -> str:
    name = str(value or "").strip()
    if not name or len(name) > 30:
        raise SimError(ErrCode.INVALID_PARAMETER, "tag name must be 1-30 characters")
    return name


def create_tags(
    corp: Corp, *, group_id: str | None, group_name: str | None, tags: list[dict[str, Any]], order: int | None
) -> tuple[TagGroup, list[Tag], bool]:
    """(group, new tags, whether the group is new). An existing `group_name` receives the tags,
    as WeCom does; 40068 unknown group_id, 40071 duplicate name, 40126 past 3000 tags."""
    if not tags:
        raise SimError(ErrCode.EMPTY_PARAMETER, "tag missing")
    now = corp.now_int()
    group: TagGroup | None
    if group_id:
        group = corp.tag_groups.get(group_id)
        if group is None or group.deleted:
            raise SimError(ErrCode.INVALID_TAG_ID, "invalid group_id")
    elif group_name:
        group = next(
            (
                item
                for item in corp.tag_groups.values()
                if not item.deleted and item.group_name == _name(group_name)
            ),
            None,
        )
    else:
        raise SimError(ErrCode.EMPTY_PARAMETER, "group_id or group_name missing")
    names = [_name(item.get("name")) for item in tags]
    existing = {tag.name for tag in group.tags.values() if not tag.deleted} if group else set()
    if len(set(names)) != len(names) or existing.intersection(names):
        raise SimError(ErrCode.TAG_NAME_EXISTS)
    if corp.live_tag_count() + len(names) > MAX_CORP_TAGS:
        raise SimError(ErrCode.CORP_TAG_LIMIT)
    created = group is None
    if group is None:
        group = TagGroup(corp.new_id("et", 32), _name(group_name), now, int(order or 0))
        corp.tag_groups[group.group_id] = group
    new_tags = []
    for item, name in zip(tags, names, strict=True):
        tag = Tag(corp.new_id("et", 32), name, now, int(item.get("order") or 0), group.group_id)
        group.tags[tag.id] = tag
        new_tags.append(tag)
    return group, new_tags, created


def edit_tag(corp: Corp, tag_or_group_id: Any, name: Any, order: Any) -> str:
    """Rename/reorder a tag or a group; returns "tag" or "tag_group"."""
    target_id = str(tag_or_group_id or "")
    if not target_id:
        raise SimError(ErrCode.EMPTY_PARAMETER, "id missing")
    group = corp.tag_groups.get(target_id)
    if group is not None and not group.deleted:
        if name is not None:
            new_name = _name(name)
            if any(
                item.group_name == new_name and item is not group and not item.deleted
                for item in corp.tag_groups.values()
            ):
                raise SimError(ErrCode.TAG_NAME_EXISTS)
            group.group_name = new_name
        if order is not None:
            group.order = int(order)
        return "tag_group"
    tag = corp.tag(target_id)
    if tag is None:
        raise SimError(ErrCode.INVALID_TAG_ID)
    if name is not None:
        new_name = _name(name)
        siblings = corp.tag_groups[tag.group_id].tags.values()
        if any(item.name == new_name and item is not tag and not item.deleted for item in siblings):
            raise SimError(ErrCode.TAG_NAME_EXISTS)
        tag.name = new_name
    if order is not None:
        tag.order = int(order)
    return "tag"


def delete_tags(corp: Corp, tag_ids: list[str], group_ids: list[str]) -> list[tuple[str, str]]:
    """Delete tags and groups; a group left without tags goes too. [(id, "tag"|"tag_group")]."""
    if not tag_ids and not group_ids:
        raise SimError(ErrCode.EMPTY_PARAMETER, "tag_id and group_id are both empty")
    tags = [corp.tag(tag_id) for tag_id in tag_ids]
    groups = [corp.tag_groups.get(group_id) for group_id in group_ids]
    if any(tag is None for tag in tags) or any(group is None or group.deleted for group in groups):
        raise SimError(ErrCode.INVALID_TAG_ID)
    deleted: list[tuple[str, str]] = []
    for tag in tags:
        assert tag is not None
        tag.deleted = True
        deleted.append((tag.id, "tag"))
        parent = corp.tag_groups[tag.group_id]
        if all(item.deleted for item in parent.tags.values()) and parent not in groups:
            groups.append(parent)
    for group in groups:
        assert group is not None
        group.deleted = True
        for tag in group.tags.values():
            tag.deleted = True
        deleted.append((group.group_id, "tag_group"))
    return deleted


def get_corp_tag_list(corp: Corp, call: Call) -> dict[str, Any]:
    """All live groups, larger `order` first; by group_id (wins over tag_id) or by tag_id, with
    `deleted` flags."""
    group_ids, tag_ids = string_list(call, "group_id"), set(string_list(call, "tag_id"))
    groups = sorted(corp.tag_groups.values(), key=lambda item: -item.order)
    answer = []
    for group in groups:
        tags = sorted(group.tags.values(), key=lambda item: -item.order)
        if group_ids:
            if group.group_id in group_ids:
                answer.append(group_view(group, tags, with_deleted=True))
        elif tag_ids:
            chosen = [tag for tag in tags if tag.id in tag_ids]
            if chosen:
                answer.append(group_view(group, chosen, with_deleted=True))
        elif not group.deleted:
            answer.append(group_view(group, [tag for tag in tags if not tag.deleted]))
    return {"tag_group": answer}


def add_corp_tag(corp: Corp, call: Call) -> dict[str, Any]:
    tags = call.field("tag") or []
    if not isinstance(tags, list) or not all(isinstance(item, dict) for item in tags):
        raise SimError(ErrCode.INVALID_PARAMETER, "tag must be a list of objects")
    group, new_tags, _ = create_tags(
        corp,
        group_id=call.field("group_id"),
        group_name=call.field("group_name"),
        tags=tags,
        order=call.field("order"),
    )
    return {"tag_group": group_view(group, new_tags)}


def edit_corp_tag(corp: Corp, call: Call) -> dict[str, Any]:
    edit_tag(corp, call.field("id"), call.field("name"), call.field("order"))
    return {}


def del_corp_tag(corp: Corp, call: Call) -> dict[str, Any]:
    delete_tags(corp, string_list(call, "tag_id"), string_list(call, "group_id"))
    return {}


def mark_tag(corp: Corp, call: Call) -> dict[str, Any]:
    follow = require_follow(corp, call.field("external_userid"), call.field("userid"))
    add, remove = string_list(call, "add_tag"), string_list(call, "remove_tag")
    if not add and not remove:
        raise SimError(ErrCode.EMPTY_PARAMETER, "add_tag and remove_tag are both empty")
    if any(corp.tag(tag_id) is None for tag_id in add + remove):
        raise SimError(ErrCode.INVALID_TAG_ID)
    follow.tag_ids = [tag_id for tag_id in follow.tag_ids if tag_id not in remove]
    follow.tag_ids.extend(tag_id for tag_id in dict.fromkeys(add) if tag_id not in follow.tag_ids)
    return {}


APIS: dict[str, ApiSpec] = {
    "externalcontact/get_corp_tag_list": ApiSpec("POST", get_corp_tag_list),
    "externalcontact/add_corp_tag": ApiSpec("POST", add_corp_tag),
    "externalcontact/edit_corp_tag": ApiSpec("POST", edit_corp_tag),
    "externalcontact/del_corp_tag": ApiSpec("POST", del_corp_tag),
    "externalcontact/mark_tag": ApiSpec("POST", mark_tag),
}
