"""The permission registry. Each domain declares its permissions; roles grant their codes.

Codes are dotted strings (``identity.users.manage``); the registry keeps their labels in Chinese and
English for the role editor. ``*`` grants everything (the owner role).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PermissionInfo:
    code: str
    label_zh: str
    label_en: str


_REGISTRY: dict[str, PermissionInfo] = {}


def register_permissions(*infos: PermissionInfo) -> None:
    for info in infos:
        existing = _REGISTRY.get(info.code)
        if existing is not None and existing != info:
            raise ValueError(f"permission {info.code} registered twice with different labels")
        _REGISTRY[info.code] = info


def all_permissions() -> list[PermissionInfo]:
    return sorted(_REGISTRY.values(), key=lambda info: info.code)


def is_known_permission(code: str) -> bool:
    return code == "*" or code in _REGISTRY
