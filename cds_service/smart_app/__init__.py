"""The SMART on FHIR app "bone health review" (issue 12 Part 2): one patient's calcium, creatinine and
ALP over time around each BMA dose, the BMA course, every rule's verdict and the calculators, read from
the EHR's FHIR server with a SMART App Launch 2.0 token. Attached to the service by `register`."""

from __future__ import annotations

from flask import Flask

from cds_service.settings import Settings


def register(app: Flask, settings: Settings) -> None:
    from cds_service.smart_app.config import build_smart_runtime
    from cds_service.smart_app.views import smart_bp

    app.extensions["bonemet_smart"] = build_smart_runtime(settings)
    app.register_blueprint(smart_bp)
