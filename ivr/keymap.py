"""The key maps: which key leads where in the open and the closed menu, the departments'
order by key, and the key for "other departments" (the menus' second level).

A prompt offers at most `MAX_KEYS` keys (ivr/layout.py lays the menus out within it). A key
never means two things: a department's key leads to that department in every menu, 0 is the
switchboard and 9 English, and the "other departments" key is none of those nor a key of the
closed menu. Pure pydantic models; the checks that need the departments are in
`menu_problems`, which the config's own validation calls (ivr/config.py).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator

from ivr.fields import Strict

# The most keys one prompt offers, English's "press 9" included: callers remember about five.
MAX_KEYS = 5
SWITCHBOARD_KEY = "0"
ENGLISH_KEY = "9"

MenuTarget = Annotated[
    str, Field(pattern=r"^(department:[a-z][a-z0-9_]*|switchboard|english|sms|callback)$")
]


class Menus(Strict):
    """`open` applies while the switchboard is open, `closed` when it is not; every key in
    them works at the top level, spoken or not. `order` lists department ids, busiest first:
    the first ones are offered by key at the top level, the rest on the second level under
    `more_key` (departments not listed follow in key order)."""

    open: dict[str, MenuTarget]
    closed: dict[str, MenuTarget]
    order: list[str] = Field(default_factory=list)
    # "*" (spoken "stjerne", "star"): the digits are taken by the departments, the
    # switchboard, English, SMS and callback. Never "#", which ends Twilio's input.
    more_key: Annotated[str, Field(pattern=r"^[0-9*]$")] = "*"

    def key_for(self, target: str) -> str | None:
        """The key that means `target` in the closed menu, else in the open one (a key means
        the same everywhere, so other menus offer the same thing under the same key)."""
        for menu in (self.closed, self.open):
            for key, meaning in menu.items():
                if meaning == target:
                    return key
        return None

    @field_validator("open", "closed")
    @classmethod
    def _keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not re.fullmatch(r"[0-9*#]", key):
                raise ValueError(f"key {key!r} must be one of 0-9, * or #")
        return value


def menu_problems(menus: Menus, department_keys: dict[str, str]) -> list[str]:
    """What is wrong with the key maps, given each department's key (key -> department id)."""
    errors: list[str] = []
    key_of = {dep_id: key for key, dep_id in department_keys.items()}
    for menu_name in ("open", "closed"):
        menu: dict[str, str] = getattr(menus, menu_name)
        for key, target in menu.items():
            where = f"menus.{menu_name}.{key}"
            if target.startswith("department:"):
                dep_id = target.split(":", 1)[1]
                if dep_id not in key_of:
                    errors.append(f"{where}: unknown department {dep_id!r}")
                elif key_of[dep_id] != key:
                    errors.append(
                        f"{where}: department {dep_id!r} has key "
                        f"{key_of[dep_id]!r}, and a department keeps its key"
                    )
            elif key in department_keys:
                errors.append(
                    f"{where}: key {key!r} already means department {department_keys[key]!r}"
                )
    if "switchboard" not in menus.open.values():
        errors.append("menus.open: no key leads to the switchboard")
    for menu_name in ("open", "closed"):
        menu = getattr(menus, menu_name)
        for key, target in ((SWITCHBOARD_KEY, "switchboard"), (ENGLISH_KEY, "english")):
            if key in menu and menu[key] != target:
                errors.append(f"menus.{menu_name}.{key}: {key} is always {target}")
    more = menus.more_key
    taken = {*department_keys, SWITCHBOARD_KEY, ENGLISH_KEY, *menus.open, *menus.closed}
    if more in taken:
        errors.append(
            f"menus.more_key: {more!r} already means something (a department, 0, 9 or a key "
            "of the menus)"
        )
    # Each menu's top level keeps a place for "other departments" beside its fixed keys, and
    # the second level holds MAX_KEYS: the closed menu may have every department open at once.
    fixed_open = len({"switchboard", "english"} & set(menus.open.values()))
    fixed_closed = len({"english", "sms", "callback"} & set(menus.closed.values()))
    capacity = MAX_KEYS - max(fixed_open, fixed_closed) - 1 + MAX_KEYS
    if len(department_keys) > capacity:
        errors.append(f"departments: at most {capacity} fit in the menus' two levels")
    for i, dep_id in enumerate(menus.order):
        if dep_id not in key_of:
            errors.append(f"menus.order[{i}]: unknown department {dep_id!r}")
        elif dep_id in menus.order[:i]:
            errors.append(f"menus.order[{i}]: {dep_id!r} is listed twice")
    return errors
