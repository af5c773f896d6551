"""URIs the project defines once. They identify, they do not resolve: see docs/terminology.md."""

RULE_SYSTEM = "https://bonemet-cds.org/fhir/CodeSystem/rule"
"""`card.source.topic.system`: the code is the catalog rule ID (BMA-INITIATION, ...)."""

ASSESSMENT_SYSTEM = "https://bonemet-cds.org/fhir/CodeSystem/assessment"
"""Observation codes the catalog says have no standard code: `escc-grade`, `mirels-score`,
`life-expectancy-under-3-months`."""

ORDER_SYSTEM = "https://bonemet-cds.org/fhir/CodeSystem/order"
"""ServiceRequest codes for referrals that have no confirmed SNOMED CT code (MDT review, ...)."""

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
