"""bonemet-patient-view: reviews the chart of a patient with lung cancer (RULES.md section 4)."""

from __future__ import annotations

from hooks.service_registry import CdsServiceDefinition, register

STANDARD_PREFETCH_KEYS = (
    "patient",
    "conditions",
    "observations",
    "imaging",
    "imagingReports",
    "medications",
    "procedures",
    "serviceRequests",
    "encounters",
    "episodesOfCare",
)

SERVICE = register(
    CdsServiceDefinition(
        id="bonemet-patient-view",
        hook="patient-view",
        title="Bone metastasis in lung cancer: chart review",
        description=(
            "Reviews a lung-cancer chart against the 2022 Chinese expert consensus on bone metastasis: "
            "bone-modifying agents (start, safety, duration), calcium, kidneys, dental care, imaging, "
            "spinal cord compression, fracture risk, radiotherapy and MDT referral."
        ),
        prefetch_keys=STANDARD_PREFETCH_KEYS,
        rule_ids=(
            "BMA-INITIATION",
            "BMA-PRETREATMENT-WORKUP",
            "HYPOCALCEMIA-CORRECTION",
            "CALCIUM-VITAMIN-D",
            "ORAL-EXAM",
            "ZA-RENAL-DOSING",
            "DENOSUMAB-RENAL-RISK",
            "BMA-SAFETY-MONITORING",
            "BMA-DURATION-REVIEW",
            "HYPERCALCEMIA",
            "BONE-IMAGING-WORKUP",
            "BASELINE-BONE-SCAN",
            "BONE-SCAN-FOLLOWUP",
            "SPINAL-CORD-COMPRESSION",
            "FRACTURE-RISK",
            "RADIOTHERAPY-REFERRAL",
            "MDT-REFERRAL",
            "ICI-BONE-METASTASIS",
            "METASTASIS-CONFIRMATION",
        ),
    )
)
