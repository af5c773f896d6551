"""The silent population run (issue 14): a FHIR Bulk Data export through the hooks' own pipeline.

`patient_result` is the contract between the engines: each engine groups the export by patient and calls
`evaluate_patient` once per patient; `aggregate` turns the `PatientResult`s into the summary tables;
`report` writes them. See docs/population.md.
"""
