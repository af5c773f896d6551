"""CDS services, keyed by service id (never by hook: two patient-view services must not collide).

A duplicate id, an unknown hook or a rule ID with no registered rule fails at import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HOOK_ORDER = ("patient-view", "order-select", "order-sign")
KNOWN_HOOKS = frozenset(HOOK_ORDER)


@dataclass(frozen=True)
class CdsServiceDefinition:
    id: str
    hook: str
    title: str
    description: str
    prefetch_keys: tuple[str, ...]
    rule_ids: tuple[str, ...]
    usage_requirements: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def prefetch(self, templates: dict[str, str]) -> dict[str, str]:
        """This service's prefetch templates, chosen from the shared set built from the code sets."""
        return {key: templates[key] for key in self.prefetch_keys}

    def discovery_entry(self, templates: dict[str, str]) -> dict[str, object]:
        entry: dict[str, object] = {
            "id": self.id,
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "prefetch": self.prefetch(templates),
        }
        if self.usage_requirements:
            entry["usageRequirements"] = self.usage_requirements
        return entry


_SERVICES: dict[str, CdsServiceDefinition] = {}


def register(service: CdsServiceDefinition) -> CdsServiceDefinition:
    if service.id in _SERVICES:
        raise RuntimeError(f"CDS service id '{service.id}' is declared twice")
    if service.hook not in KNOWN_HOOKS:
        raise RuntimeError(f"CDS service '{service.id}' names unknown hook '{service.hook}'")
    _SERVICES[service.id] = service
    return service


def services() -> dict[str, CdsServiceDefinition]:
    import hooks.order_select  # noqa: F401  (each module registers its service on import)
    import hooks.order_sign  # noqa: F401
    import hooks.patient_view  # noqa: F401

    # In the order of the workflow, not of import: which module a test imported first must not reorder
    # discovery or the generated catalog (an intermittent doc-check failure under xdist).
    ordered = sorted(_SERVICES.values(), key=lambda s: (HOOK_ORDER.index(s.hook), s.id))
    return {service.id: service for service in ordered}
