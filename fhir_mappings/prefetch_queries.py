"""The prefetch templates every service declares, built from the code sets (site codes included).

They stay within the CDS Hooks recommended query subset (a read of the patient and searches by `patient`
with token parameters) with one addition: the medication orders `_include` the Medications they reference,
because an order that names its drug only through `medicationReference` is otherwise unreadable and a
zoledronic acid order would be invisible (RULES.md 7.1.3). An EHR that does not support `_include` still
answers with the orders; Medications it sends in the same key are read the same way.
"""

from __future__ import annotations

from fhir_mappings.codesets import Codesets

PATIENT = "{{context.patientId}}"


def prefetch_templates(codesets: Codesets) -> dict[str, str]:
    codes = ",".join(f"{system}|{code}" for system, code in codesets.observation_codings())
    return {
        "patient": f"Patient/{PATIENT}",
        "conditions": f"Condition?patient={PATIENT}",
        "observations": f"Observation?patient={PATIENT}&code={codes}",
        "imaging": f"ImagingStudy?patient={PATIENT}",
        "imagingReports": f"DiagnosticReport?patient={PATIENT}&category=http://terminology.hl7.org/CodeSystem/v2-0074|RAD",
        "medications": f"MedicationRequest?patient={PATIENT}&_include=MedicationRequest:medication",
        "procedures": f"Procedure?patient={PATIENT}",
        "serviceRequests": f"ServiceRequest?patient={PATIENT}",
        "encounters": f"Encounter?patient={PATIENT}",
        "episodesOfCare": f"EpisodeOfCare?patient={PATIENT}",
    }
