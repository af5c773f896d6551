"""Reading the EHR's FHIR server: only allowed origins, in parallel, within one deadline.

The allow-list of origins is the first SSRF defence (hospital FHIR servers often have private addresses,
so a private-IP ban alone would be wrong); redirects are never followed, `next` links to another origin
are refused, proxy variables are ignored. Per-socket timeouts do not bound a server that trickles bytes,
so the deadline of the whole batch is enforced here, while reading (shared/LIBRARIES.md).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import orjson
import requests

from cds_service.errors import ConfigurationError, FhirAccessRefused
from cds_service.json_limits import TooDeep, loads_bounded

log = logging.getLogger(__name__)
# urllib3 logs each request line at DEBUG, and the path and query carry the patient id: keep it at INFO
# whatever BONEMET_LOG_LEVEL says (logs must never contain identifiers).
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)
_POOL = ThreadPoolExecutor(max_workers=12, thread_name_prefix="fhir")
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass
class FetchResult:
    ok: bool
    resources: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""


class FetchFailed(Exception):
    """One query could not be answered; the message is safe to log (no token, no patient data)."""


def safe_reason(exc: BaseException) -> str:
    """A reason fit for logs and 412 messages. requests' own messages quote the URL, whose path and
    query carry the patient id, so they are replaced by the kind of failure."""
    if isinstance(exc, FetchFailed):
        return str(exc)
    if isinstance(exc, requests.Timeout):
        return "the FHIR server timed out"
    if isinstance(exc, requests.ConnectionError):
        return "could not connect to the FHIR server"
    return f"FHIR read failed ({type(exc).__name__})"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        raise ValueError("not an http(s) URL without credentials")
    port = parts.port or DEFAULT_PORTS[scheme]
    return f"{scheme}://{parts.hostname.lower()}:{port}"


def parse_allowed_origins(value: str) -> frozenset[str]:
    """`https://fhir.example.org,http://localhost:8090` -> normalised origins; a bad entry stops start-up."""
    origins = set()
    for entry in filter(None, (part.strip() for part in value.split(","))):
        try:
            origins.add(origin_of(entry))
        except ValueError:
            raise ConfigurationError(
                f"BONEMET_FHIR_ALLOWED_HOSTS: '{entry[:80]}' is not an http(s) origin"
            ) from None
    return frozenset(origins)


class FhirClient:
    def __init__(
        self,
        *,
        allowed_origins: frozenset[str],
        deadline_seconds: float = 3.0,
        max_pages: int = 5,
        max_bytes: int = 20_000_000,
        max_depth: int = 64,
        max_resources: int = 10_000,
    ):
        self.allowed_origins = allowed_origins
        self.deadline_seconds = deadline_seconds
        self.max_pages = max_pages
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.max_resources = max_resources
        self.session = requests.Session()
        self.session.trust_env = False

    def check_allowed(self, base_url: str) -> str:
        try:
            origin = origin_of(base_url)
        except ValueError:
            raise FhirAccessRefused("fhirServer must be an http(s) URL without credentials") from None
        if origin not in self.allowed_origins:
            raise FhirAccessRefused("fhirServer is not on BONEMET_FHIR_ALLOWED_HOSTS; it was not contacted")
        return origin

    def search_all(self, base_url: str, queries: dict[str, str], token: str | None) -> dict[str, FetchResult]:
        origin = self.check_allowed(base_url)
        deadline = time.monotonic() + self.deadline_seconds
        base = base_url.rstrip("/") + "/"
        futures = {
            key: _POOL.submit(self._query, origin, urljoin(base, q), token, deadline)
            for key, q in queries.items()
        }
        wait(futures.values(), timeout=max(0.0, deadline - time.monotonic()) + 0.05)
        results = {}
        for key, future in futures.items():
            if not future.done():
                future.cancel()
                results[key] = FetchResult(False, reason="deadline exceeded")
            elif (error := future.exception()) is not None:
                results[key] = FetchResult(False, reason=safe_reason(error))
            else:
                results[key] = future.result()
            if not results[key].ok:
                log.warning("FHIR read failed for prefetch key %s: %s", key, results[key].reason)
        return results

    def _query(self, origin: str, url: str, token: str | None, deadline: float) -> FetchResult:
        """Read one query, following `next` links on the same origin up to `max_pages` pages.

        A result cut short by the page cap is a failure, not a partial success: rules deciding on the
        first pages only could miss the newest result (searches are not sorted) and stay silent.
        """
        expected_type = _searched_type(url)
        resources: list[dict[str, Any]] = []
        for _page in range(self.max_pages):
            body = self._get(url, token, deadline)
            if body.get("resourceType") != "Bundle":
                return _single(body, url)
            resources += _matches(body, expected_type)
            if len(resources) > self.max_resources:
                raise FetchFailed(
                    f"more than {self.max_resources} resources (BONEMET_MAX_RESOURCES_PER_CALL); "
                    "result incomplete"
                )
            next_url = _next_link(body)
            if next_url is None:
                return FetchResult(True, resources)
            next_url = urljoin(url, next_url)
            if not _same_origin(next_url, origin):
                raise FetchFailed("next link points to another server; not followed")
            url = next_url
        raise FetchFailed(f"more than {self.max_pages} pages (BONEMET_FHIR_MAX_PAGES); result incomplete")

    def _get(self, url: str, token: str | None, deadline: float, retried: bool = False) -> dict[str, Any]:
        headers = {"Accept": "application/fhir+json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchFailed("deadline exceeded")
        with self.session.get(
            url, headers=headers, timeout=(min(remaining, 2.0), remaining), stream=True, allow_redirects=False
        ) as response:
            if response.status_code == 429 and not retried:
                return self._retry_after(response, url, token, deadline)
            if response.is_redirect:
                raise FetchFailed(f"HTTP {response.status_code} redirect; redirects are not followed")
            if response.status_code != 200:
                raise FetchFailed(f"HTTP {response.status_code}")
            raw = self._read(response, deadline)
        try:
            parsed = loads_bounded(raw, self.max_depth)
        except orjson.JSONDecodeError:
            raise FetchFailed("response is not valid JSON") from None
        except TooDeep:
            raise FetchFailed(f"response nested deeper than {self.max_depth} levels") from None
        if not isinstance(parsed, dict):
            raise FetchFailed("response is not a FHIR resource")
        return parsed

    def _retry_after(
        self, response: requests.Response, url: str, token: str | None, deadline: float
    ) -> dict[str, Any]:
        try:
            wait_s = float(response.headers.get("Retry-After", "1"))
        except ValueError:
            wait_s = 1.0
        if time.monotonic() + wait_s >= deadline:
            raise FetchFailed("HTTP 429 and Retry-After exceeds the deadline")
        time.sleep(max(0.0, wait_s))
        return self._get(url, token, deadline, retried=True)

    def _read(self, response: requests.Response, deadline: float) -> bytes:
        """The body, checking the size cap and the deadline after every chunk. `read1` returns what has
        arrived instead of waiting for a full chunk, so a trickling server cannot hold this thread long."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchFailed("response larger than the size limit")
        chunks, size = [], 0
        while chunk := response.raw.read1(65536, decode_content=True):
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchFailed("response larger than the size limit")
            if time.monotonic() > deadline:
                raise FetchFailed("deadline exceeded while reading")
            chunks.append(chunk)
        return b"".join(chunks)


def _searched_type(url: str) -> str:
    """`.../Observation?patient=x` -> `Observation` (the last path segment of a type-level search)."""
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def _matches(bundle: dict[str, Any], expected_type: str) -> list[dict[str, Any]]:
    """A searchset's resources. Another type among them means the server answered some other query;
    nothing from that answer can be trusted, so the whole query fails (OperationOutcome entries, which
    servers add as warnings, are skipped)."""
    resources = [r for r in bundle_resources(bundle) if r.get("resourceType") != "OperationOutcome"]
    wrong = {str(r.get("resourceType"))[:40] for r in resources if r.get("resourceType") != expected_type}
    if wrong:
        raise FetchFailed(f"{expected_type[:40]} search answered with {', '.join(sorted(wrong))} resources")
    return resources


def _single(body: dict[str, Any], url: str) -> FetchResult:
    """The answer to a read (`Patient/123`) must be that resource: another type, or another id (another
    patient's record), fails the read instead of being passed on as if it were the one asked for."""
    expected = urlsplit(url).path.rstrip("/").split("/")[-2:]
    if len(expected) != 2 or body.get("resourceType") != expected[0]:
        raise FetchFailed(f"unexpected resource type {str(body.get('resourceType'))[:40]}")
    if body.get("id") != unquote(expected[1]):
        raise FetchFailed(f"read of a {expected[0]} answered with another {expected[0]}")
    return FetchResult(True, [body])


def bundle_resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The resources of a Bundle's entries, skipping malformed entries instead of failing on them."""
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return []
    return [e["resource"] for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)]


def _next_link(bundle: dict[str, Any]) -> str | None:
    links = bundle.get("link")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return str(link["url"])
    return None


def _same_origin(url: str, origin: str) -> bool:
    try:
        return origin_of(url) == origin
    except ValueError:
        return False
