"""Everything a request needs that is built once per process: data files, verifier, store, FHIR client.

`build_runtime(settings)` reads and checks every data file (code sets, thresholds, card templates, order
catalog) at start-up, so a malformed site file stops the service before the first patient, not during one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cds_service.auth import build_verifier
from cds_service.errors import ConfigurationError
from cds_service.fhir_client import FhirClient, parse_allowed_origins
from cds_service.persistence import Store
from cds_service.settings import Settings
from fhir_mappings.codesets import Codesets, load_codesets
from fhir_mappings.errors import SiteDataError
from fhir_mappings.model_check import load_models
from fhir_mappings.prefetch_queries import prefetch_templates
from fhir_mappings.thresholds import Thresholds
from hooks.cards import CardTemplate, load_card_templates, override_reasons
from hooks.orders import OrderCatalog, load_order_catalog
from hooks.rule_registry import all_rules
from hooks.service_registry import CdsServiceDefinition, services

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    services: dict[str, CdsServiceDefinition]
    prefetch_templates: dict[str, str]
    codesets: Codesets
    thresholds: Thresholds
    card_templates: dict[str, CardTemplate]
    orders: OrderCatalog
    store: Store
    fhir_client: FhirClient
    verifier: Any


def build_runtime(settings: Settings) -> Runtime:
    load_models()
    codesets, thresholds = _load_site_data(settings)
    registered = services()
    templates = load_card_templates()
    _check_rules_have_templates(registered, templates)
    orders = load_order_catalog(settings.site_dir)
    _check_dose_thresholds_match_orders(thresholds, orders)
    store = Store(
        settings.database_url,
        hash_key=settings.patient_hash_key,
        store_comments=settings.store_feedback_comments,
        card_log_delay_s=settings.card_log_delay_ms / 1000,
        reason_displays={(r["system"], r["code"]): r["display"] for r in override_reasons()},
    )
    client = FhirClient(
        allowed_origins=parse_allowed_origins(settings.fhir_allowed_hosts),
        deadline_seconds=settings.fhir_deadline_seconds,
        max_pages=settings.fhir_max_pages,
        max_depth=settings.max_json_depth,
        max_resources=settings.max_resources_per_call,
        max_per_origin=settings.fhir_max_per_origin,
        require_self_link=settings.fhir_require_self_link,
    )
    verifier = (
        build_verifier(
            settings.trusted_issuers,
            store.replay_cache(),
            settings.jwt_leeway_seconds,
            settings.jwt_max_lifetime_seconds,
            jwks_deadline_seconds=settings.jwks_deadline_seconds,
        )
        if settings.auth_enabled
        else None
    )
    return Runtime(
        settings,
        registered,
        prefetch_templates(codesets),
        codesets,
        thresholds,
        templates,
        load_order_catalog(settings.site_dir),
        store,
        client,
        verifier,
    )


def _load_site_data(settings: Settings) -> tuple[Codesets, Thresholds]:
    """Code sets and thresholds, shipped plus site overrides; a malformed file stops start-up."""
    try:
        return load_codesets(settings.site_dir), Thresholds.load(settings.site_dir)
    except SiteDataError as exc:
        raise ConfigurationError(str(exc)) from None


def _check_rules_have_templates(
    registered: dict[str, CdsServiceDefinition], templates: dict[str, Any]
) -> None:
    """Every rule a service runs must be registered and worded; a gap stops start-up."""
    rules = all_rules()
    for service in registered.values():
        for rule_id in service.rule_ids:
            if rule_id not in rules:
                raise ConfigurationError(f"service {service.id} runs {rule_id}, which has no registered rule")
            if rule_id not in templates:
                raise ConfigurationError(f"rule {rule_id} has no card template in hooks/card_templates/")


# The dose a ZA-RENAL-DOSING card states comes from thresholds.yaml; the order it suggests from orders.yaml.
DOSE_THRESHOLD_ORDERS = {
    "za_dose_crcl_above_60_mg": "zoledronic_acid_4mg",
    "za_dose_crcl_50_60_mg": "zoledronic_acid_3_5mg",
    "za_dose_crcl_40_49_mg": "zoledronic_acid_3_3mg",
    "za_dose_crcl_30_39_mg": "zoledronic_acid_3mg",
    "denosumab_oncology_dose_mg": "denosumab_120mg_q4w",
}


def _check_dose_thresholds_match_orders(thresholds: Thresholds, orders: OrderCatalog) -> None:
    """A site that changes a dose in one file but not the other would get a card that says one dose and
    suggests another: refuse to start instead."""
    for threshold, order_key in DOSE_THRESHOLD_ORDERS.items():
        entry = orders.entry(order_key)
        dose = getattr(entry, "dose_value", None)
        if dose is None or abs(dose - thresholds[threshold]) > 1e-9:
            raise ConfigurationError(
                f"threshold {threshold} ({thresholds[threshold]} mg) and order {order_key} ({dose} mg) "
                "disagree"
            )
