"""A SMART on FHIR test "EHR": the test FHIR server behind a real OAuth 2.0 authorization server.

`tests/fhir_server/smart_auth_server.js` (oidc-provider with the SMART launch context) proxies the test
FHIR server (`server.js`) and refuses FHIR requests without a valid access token it issued. This module
starts both and wraps the authorization server's test-only admin API (tests/fhir_server/README.md).
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from cds_service.demo_catalog import DemoIndex, date_shift, load_bundle, load_index
from cds_service.local_fhir_server import SERVER_DIR, LocalFhirServer, LocalFhirServerError

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
DEFAULT_SCOPES = "launch/patient patient/*.rs"
PRACTITIONER_ID = "test-practitioner"


class SmartAuthServer(LocalFhirServer):
    """The authorization server process; started like the FHIR server (one JSON line, then /metadata)."""

    def __init__(self, upstream: str, *, startup_timeout: float = 30.0, server_dir: Path = SERVER_DIR):
        super().__init__(startup_timeout=startup_timeout, server_dir=server_dir)
        self.upstream = upstream

    def _command(self) -> list[str]:
        node = shutil.which("node")
        if node is None:
            raise LocalFhirServerError("node is not installed; the SMART test EHR needs Node.js 20+")
        if not (self.server_dir / "node_modules" / "oidc-provider").is_dir():
            raise LocalFhirServerError(
                f"oidc-provider is missing in {self.server_dir}/node_modules: run `make install`"
            )
        return [node, str(self.server_dir / "smart_auth_server.js")]

    def _environment(self) -> dict[str, str]:
        env = super()._environment()
        env["FHIR_UPSTREAM"] = self.upstream
        return env


class SmartEhr:
    """The running test EHR. `iss` is the token-protected FHIR base an app is launched with;
    `open_fhir_base` the FHIR server itself, for loading data."""

    def __init__(self) -> None:
        self.fhir = LocalFhirServer()
        self.auth: SmartAuthServer | None = None
        self.demo_index: DemoIndex = load_index()

    def start(self) -> SmartEhr:
        self.fhir.start()
        try:
            self.auth = SmartAuthServer(self.fhir.base_url)
            self.auth.start()
            self.load(_practitioner_bundle())
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.auth is not None:
            self.auth.stop()
        self.fhir.stop()

    @property
    def iss(self) -> str:
        assert self.auth is not None
        return self.auth.base_url

    @property
    def issuer(self) -> str:
        """The OAuth issuer (the authorization server's origin)."""
        return self.iss.rsplit("/fhir/", 1)[0]

    @property
    def open_fhir_base(self) -> str:
        return self.fhir.base_url

    def load(self, bundle: dict[str, Any]) -> dict[str, Any]:
        """Post a transaction Bundle straight to the FHIR server (no token needed)."""
        return self.fhir.load(bundle)

    def load_demo(self, patient_id: str) -> dict[str, Any]:
        """Load one demo patient (cds_service/demo_patients), dates moved to today as `make run` does;
        returns the loaded (date-shifted) bundle."""
        patient = self.demo_index.patient(patient_id)
        bundle = load_bundle(patient.path, date_shift(self.demo_index.reference_date))
        self.load(bundle)
        return bundle

    def register_client(
        self, client_id: str, redirect_uri: str | list[str], secret: str | None = None
    ) -> dict[str, Any]:
        """Register an app: public (PKCE only) without `secret`, confidential (client_secret_basic) with."""
        uris = [redirect_uri] if isinstance(redirect_uri, str) else list(redirect_uri)
        body: dict[str, Any] = {"client_id": client_id, "redirect_uris": uris}
        if secret is not None:
            body["client_secret"] = secret
        return self.admin("clients", body)

    def launch(
        self,
        patient_id: str,
        app_context: str | None = None,
        *,
        encounter: str | None = None,
        need_patient_banner: bool = False,
    ) -> str:
        """Start an EHR launch for a patient; the returned `launch` goes to the app's launch URL."""
        body: dict[str, Any] = {"patient": patient_id, "need_patient_banner": need_patient_banner}
        if app_context is not None:
            body["appContext"] = app_context
        if encounter is not None:
            body["encounter"] = encounter
        return str(self.admin("launch", body)["launch"])

    def select_standalone_patient(self, patient_id: str | None) -> None:
        """The patient a standalone launch (`launch/patient` scope) gets."""
        self.admin("standalone-patient", {"patient": patient_id})

    def token_for(self, patient_id: str, scopes: str = DEFAULT_SCOPES, *, expires_in: int = 3600) -> str:
        """An access token for this patient, as an EHR would put in `fhirAuthorization`."""
        body = {"patient": patient_id, "scope": scopes, "expires_in": expires_in}
        return str(self.admin("token", body)["access_token"])

    def revoke(self, token: str) -> None:
        self.admin("revoke", {"token": token})

    def expire(self, token: str) -> None:
        """Make a token expired now, as if its lifetime had passed."""
        self.admin("expire", {"token": token})

    def admin(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.issuer}/_ehr/{endpoint}"
        request = urllib.request.Request(  # noqa: S310 - our own loopback server
            url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with _NO_PROXY.open(request, timeout=30) as response:
                text = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            raise LocalFhirServerError(f"test EHR {endpoint} answered {exc.code}: {detail}") from None
        parsed: dict[str, Any] = json.loads(text) if text else {}
        return parsed


def _practitioner_bundle() -> dict[str, Any]:
    """The test Practitioner every login is (the id token's fhirUser points at it)."""
    practitioner = {
        "resourceType": "Practitioner",
        "id": PRACTITIONER_ID,
        "name": [{"family": "Tester", "given": ["Test"]}],
    }
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": practitioner, "request": {"method": "PUT", "url": f"Practitioner/{PRACTITIONER_ID}"}}
        ],
    }
