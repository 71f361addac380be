"""The options of the estimation API as Literal aliases, checked once at the boundary."""

from __future__ import annotations

from typing import Literal, get_args

Method = Literal["did", "staggered_did", "synthetic_control", "its"]
MethodChoice = Literal["auto", "did", "staggered_did", "synthetic_control", "its"]
ControlGroup = Literal["never_treated", "not_yet_treated"]
Status = Literal["ok", "insufficient_data", "error"]

METHODS: tuple[str, ...] = get_args(Method)
METHOD_CHOICES: tuple[str, ...] = get_args(MethodChoice)
CONTROL_GROUPS: tuple[str, ...] = get_args(ControlGroup)


def check_choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    """`value` if it is one of `allowed`, else a ValueError that lists the allowed values."""
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not allowed; choose one of: {', '.join(allowed)}")
    return str(value)
