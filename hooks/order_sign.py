"""bonemet-order-sign: checks bone-modifying-agent orders (RULES.md section 5) at order-sign."""

from __future__ import annotations

from hooks.order_rules import ORDER_RULE_IDS
from hooks.patient_view import STANDARD_PREFETCH_KEYS
from hooks.service_registry import CdsServiceDefinition, register

SERVICE = register(
    CdsServiceDefinition(
        id="bonemet-order-sign",
        hook="order-sign",
        title="Bone-modifying agent order check before signing",
        description=(
            "Checks bone-modifying-agent orders before signature, the last chance to stop an unsafe order: "
            "indication, dose, kidneys, calcium, dental care, duplicates."
        ),
        prefetch_keys=STANDARD_PREFETCH_KEYS,
        rule_ids=ORDER_RULE_IDS,
    )
)
