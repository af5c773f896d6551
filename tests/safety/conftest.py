"""Fault injection for the never-silent tests reuses the FHIR-fault fixtures (a `responses` mock of the
EHR's FHIR server and an app allowed to read it)."""

from tests.fhir_faults.conftest import fault_app, mock

__all__ = ["fault_app", "mock"]
