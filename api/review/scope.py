"""Who is looking: a logged-in user or an API key, with the offices they may see."""

from __future__ import annotations

from dataclasses import dataclass

from notecheck.users import sees_all_offices


@dataclass(frozen=True)
class Viewer:
    """A reviewer or admin. `kind` is "user" (web session) or "api_key"; it becomes the audit actor_type."""

    name: str
    role: str
    offices: tuple[str, ...]
    kind: str = "user"
    user_id: int | None = None

    @property
    def all_offices(self) -> bool:
        return sees_all_offices(self.role, self.offices)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_see(self, office: str | None) -> bool:
        return self.all_offices or (office is not None and office in self.offices)

    @classmethod
    def from_principal(cls, principal: object) -> Viewer:
        """Adapt an `api.auth.Principal(name, role, offices, kind)`."""
        return cls(
            name=str(principal.name),  # type: ignore[attr-defined]
            role=str(principal.role),  # type: ignore[attr-defined]
            offices=tuple(getattr(principal, "offices", ()) or ()),
            kind=str(getattr(principal, "kind", "api_key")),
        )
