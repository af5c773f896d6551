"""bonemet-order-select: checks bone-modifying-agent orders (RULES.md section 5) at order-select."""

from __future__ import annotations

from hooks.order_rules import ORDER_RULE_IDS
from hooks.patient_view import STANDARD_PREFETCH_KEYS
from hooks.service_registry import CdsServiceDefinition, register

SERVICE = register(
    CdsServiceDefinition(
        id="bonemet-order-select",
        hook="order-select",
        title="Bone-modifying agent order check",
        description=(
            "Checks a bone-modifying-agent order while it is being composed: indication, dose, kidneys, "
            "calcium, dental care, duplicates."
        ),
        prefetch_keys=STANDARD_PREFETCH_KEYS,
        rule_ids=ORDER_RULE_IDS,
    )
)
