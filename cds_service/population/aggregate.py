"""The population summary from per-patient results: pure, order-independent and mergeable.

Both engines use these functions: the local engine feeds every `PatientResult` to one `Summary`; the Spark
engine may build a `Summary` per partition and `merge` them, or collect the results and call `summarize`.
Either way the tables are the same, because addition is all there is. Memory is bounded by the number of
distinct rules, codes and reasons, never by the number of patients.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cds_service.population.patient_result import DATA_KINDS, PatientResult

INDICATORS = ("critical", "warning", "info")


@dataclass
class Summary:
    patients: int = 0
    errors: int = 0
    error_kinds: Counter[str] = field(default_factory=Counter)
    resources: int = 0
    orders_signed: int = 0
    patients_with_orders: int = 0
    rule_patients: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(service, rule_id) -> patients with at least one such card."""
    rule_cards: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    """(service, rule_id, indicator) -> cards."""
    service_patients: Counter[str] = field(default_factory=Counter)
    service_cards: Counter[str] = field(default_factory=Counter)
    unmapped_resources: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    """(system, code, display, concept) -> resources."""
    unmapped_patients: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    data_resources: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    """(kind, analyte, reason) -> resources."""
    data_patients: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    kind_patients: Counter[str] = field(default_factory=Counter)

    def add(self, result: PatientResult) -> None:
        self.patients += 1
        if result.error is not None:
            self.errors += 1
            self.error_kinds[result.error.split(":", 1)[0]] += 1
        self.resources += result.resources
        self.orders_signed += result.orders_signed
        self.patients_with_orders += result.orders_signed > 0
        for card in result.cards:
            self.rule_cards[(card.service, card.rule_id, card.indicator)] += 1
            self.service_cards[card.service] += 1
        self.rule_patients.update({(c.service, c.rule_id) for c in result.cards})
        self.service_patients.update({c.service for c in result.cards})
        for code in result.unmapped:
            key = (code.system, code.code, code.display, code.concept)
            self.unmapped_resources[key] += code.resources
        self.unmapped_patients.update({(u.system, u.code, u.display, u.concept) for u in result.unmapped})
        for finding in result.data_findings:
            self.data_resources[(finding.kind, finding.analyte, finding.reason)] += finding.resources
        self.data_patients.update({(d.kind, d.analyte, d.reason) for d in result.data_findings})
        self.kind_patients.update({d.kind for d in result.data_findings})

    def merge(self, other: Summary) -> Summary:
        """In place, and returned: a Spark `reduce` (or a tree of them) over per-partition summaries."""
        for name, value in vars(other).items():
            mine = getattr(self, name)
            if isinstance(mine, Counter):
                mine.update(value)
            else:
                setattr(self, name, mine + value)
        return self


def summarize(results: Iterable[PatientResult]) -> Summary:
    summary = Summary()
    for result in results:
        summary.add(result)
    return summary


def per_100(count: int, patients: int) -> float:
    return round(100.0 * count / patients, 2) if patients else 0.0


def rule_table(summary: Summary) -> list[dict[str, Any]]:
    """Per service and rule: patients with a card, cards per 100 patients, cards by indicator; the data
    notices (DATA-QUALITY, UNMAPPED-CODES...) are rows too, because clinicians see those cards as well."""
    rows: list[dict[str, Any]] = []
    for service, rule_id in sorted(summary.rule_patients):
        by_indicator = {i: summary.rule_cards[(service, rule_id, i)] for i in INDICATORS}
        cards = sum(by_indicator.values())
        rows.append(
            {
                "service": service,
                "rule_id": rule_id,
                "patients": summary.rule_patients[(service, rule_id)],
                "patients_pct": per_100(summary.rule_patients[(service, rule_id)], summary.patients),
                "cards": cards,
                "cards_per_100_patients": per_100(cards, summary.patients),
                **by_indicator,
            }
        )
    rows.sort(key=lambda r: (r["service"], -r["patients"], r["rule_id"]))
    return rows


def service_table(summary: Summary) -> list[dict[str, Any]]:
    services = sorted(set(summary.service_patients) | set(summary.service_cards))
    return [
        {
            "service": service,
            "patients_with_a_card": summary.service_patients[service],
            "cards": summary.service_cards[service],
            "cards_per_100_patients": per_100(summary.service_cards[service], summary.patients),
        }
        for service in services
    ]


def unmapped_table(summary: Summary) -> list[dict[str, Any]]:
    """Sorted by how many patients a mapping would change, then by resources: the first rows are the ones
    to paste into the site code sets first."""
    rows: list[dict[str, Any]] = [
        {
            "system": system,
            "code": code,
            "display": display,
            "concept": concept,
            "resources": summary.unmapped_resources[key],
            "patients": summary.unmapped_patients[key],
        }
        for key in summary.unmapped_resources
        for system, code, display, concept in [key]
    ]
    rows.sort(key=lambda r: (-r["patients"], -r["resources"], r["system"], r["code"], r["display"]))
    return rows


def data_quality_table(summary: Summary) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {
            "kind": kind,
            "analyte": analyte,
            "reason": reason,
            "resources": summary.data_resources[key],
            "patients": summary.data_patients[key],
        }
        for key in summary.data_resources
        for kind, analyte, reason in [key]
    ]
    rows.sort(key=lambda r: (DATA_KINDS.index(r["kind"]), -r["patients"], r["analyte"], r["reason"]))
    return rows


def data_kind_table(summary: Summary) -> list[dict[str, Any]]:
    return [
        {
            "kind": kind,
            "patients": summary.kind_patients[kind],
            "resources": sum(n for (k, _, _), n in summary.data_resources.items() if k == kind),
        }
        for kind in DATA_KINDS
    ]


def tables(summary: Summary) -> dict[str, Any]:
    """Everything the report writes, JSON-able."""
    return {
        "totals": {
            "patients": summary.patients,
            "patients_with_an_error": summary.errors,
            "errors_by_type": dict(sorted(summary.error_kinds.items())),
            "resources": summary.resources,
            "active_bma_orders_signed": summary.orders_signed,
            "patients_with_active_bma_orders": summary.patients_with_orders,
        },
        "services": service_table(summary),
        "rules": rule_table(summary),
        "unmapped_codes": unmapped_table(summary),
        "data_quality_by_kind": data_kind_table(summary),
        "data_quality": data_quality_table(summary),
    }
