"""The few domain exceptions. Each carries a message key so the CLI and the dashboard can speak the user's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in user input: where it is (a path or a line and column) and what is wrong.

    `key` names a message in `pilot_roi.i18n`; `params` fill its placeholders.
    """

    key: str
    where: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, lang: str) -> str:
        """The message in `lang` (ru, kk or en), prefixed with where it is."""
        from pilot_roi.i18n import t

        text = t(self.key, lang, **self.params)
        return f"{self.where}: {text}" if self.where else text


class PilotRoiError(Exception):
    """Base class: a refusal the user can act on (exit code 1), never a bug."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.render("en") for p in problems))
        self.problems = problems

    def render(self, lang: str) -> list[str]:
        """Every problem as a line of text in `lang`."""
        return [p.render(lang) for p in self.problems]


class InvalidInput(PilotRoiError):
    """A registry file, a metric file or an argument that cannot be accepted; nothing was changed."""


class UsageProblem(PilotRoiError):
    """A command line that parses but asks for something incomplete or contradictory (`report freeze --out X`):
    exit 2 like argparse's own usage errors, and all in the user's language. Nothing was done."""


class WarehouseBusy(PilotRoiError):
    """Another process is writing to the warehouse file."""

    def __init__(self, path: str):
        super().__init__([Problem("warehouse.busy", params={"path": path})])


class WarehouseNotInitialised(PilotRoiError):
    """The warehouse file does not exist or has no schema yet."""

    def __init__(self, path: str):
        super().__init__([Problem("warehouse.missing", params={"path": path})])


class PermissionDenied(PilotRoiError):
    """The user's role or subsidiary does not allow the action."""
