"""Who may change what: roles (viewer, reviewer, admin) mapped from e-mails or groups in config.

The store checks every write against this policy itself, so a page that forgets to hide a button, a script, or a
second app cannot let a viewer approve an action or relabel an item. With no roles configured the policy is
*local*: anyone who names themselves may review (the app says so in its sidebar); that is the default for one
person on a laptop, not for a team on a shared server.

Rules in config (``access.roles``) map a role to a list of who holds it: an e-mail (``lead@shop.com``), a domain
(``*@shop.com``) or a group from the login provider (``group:cx-leads``). The highest role any rule grants wins;
someone no rule names gets ``access.default_role`` (``None``: no access at all).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .errors import AccessError

ROLES = ("viewer", "reviewer", "admin")  # each may do what the one before it may, and more
LOCAL = "local"


@dataclass(frozen=True)
class Actor:
    """Someone making a change: ``name`` is what the logs keep (an e-mail once logged in); ``groups`` come from
    the login provider and only count when the app passes a verified identity."""

    name: str
    groups: tuple[str, ...] = ()


def name_of(who: str | Actor | None) -> str:
    """The name of whoever makes a change ("" when nobody is named): a plain name or an ``Actor``'s."""
    return (who.name if isinstance(who, Actor) else str(who or "")).strip()


@dataclass(frozen=True)
class Policy:
    roles: Mapping[str, Sequence[str]] = field(default_factory=dict)
    default_role: str | None = "viewer"

    @classmethod
    def from_config(cls, access) -> Policy:
        return cls({k: tuple(v) for k, v in (access.roles or {}).items()}, access.default_role)

    @property
    def local(self) -> bool:
        """No roles configured: nobody logs in, everyone who gives a name may review."""
        return not any(self.roles.values())

    def role_of(self, who: str | Actor) -> str | None:
        """The highest role any rule grants ``who`` (None: no access)."""
        actor = who if isinstance(who, Actor) else Actor(str(who or ""))
        name = actor.name.strip().lower()
        if self.local:
            return "admin" if name else None
        granted = [role for role in ROLES
                   if any(_matches(rule, name, actor.groups) for rule in self.roles.get(role, ()))]
        return granted[-1] if granted else self.default_role

    def require(self, who: str | Actor, needed: str, doing: str) -> tuple[str, str]:
        """``(name, role)`` of ``who`` when that role may do ``doing``; otherwise AccessError saying who may."""
        actor = who if isinstance(who, Actor) else Actor(str(who or ""))
        name = name_of(actor)
        if not name:
            raise AccessError(f"say who is {doing} (by=...)", code="E803")
        role = self.role_of(actor)
        if role is None:
            raise AccessError(f"{name} has no access to this store: an admin can add them to access.roles",
                              code="E802")
        if ROLES.index(role) < ROLES.index(needed):
            raise AccessError(f"{name} is a {role} and cannot be {doing}: that needs the {needed} role (ask an "
                              f"admin to add them to access.roles.{needed})", code="E801")
        return name, (LOCAL if self.local else role)

    def can(self, who: str | Actor, needed: str) -> bool:
        role = self.role_of(who)
        return role is not None and ROLES.index(role) >= ROLES.index(needed)


def _matches(rule: str, name: str, groups: Iterable[str]) -> bool:
    rule = rule.strip().lower()
    if rule.startswith("group:"):
        return rule[6:] in {g.lower() for g in groups}
    if rule.startswith("*@"):
        return name.endswith(rule[1:])
    return rule == name
