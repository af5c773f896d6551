"""Reading the EHR's FHIR server: only allowed origins, in parallel, within one deadline.

The allow-list of origins is the first SSRF defence (hospital FHIR servers often have private addresses,
so a private-IP ban alone would be wrong); redirects are never followed, `next` links to another origin
are refused, proxy variables are ignored.

Slow and wrong servers (issue 11):

- Per-socket timeouts do not bound a server that trickles bytes, so every exchange (connect, headers,
  body) runs under the call's deadline and is cut off there (`http_deadline`).
- Each origin has its own bounded set of fetch threads (`max_per_origin`): a server that hangs can
  tie up its own threads until the deadline, never those of another origin.
- A kept-alive connection the server has just closed fails before any answer; that read is sent once
  more on a fresh connection (all reads here are GETs, so repeating one is safe).
- Search values are percent-encoded (`http://loinc.org|2160-0` -> `http%3A%2F%2Floinc.org%7C2160-0`):
  a proxy that collapses `//` in URLs turned the LOINC system into `http:/loinc.org` and every lab
  search matched nothing. Commas stay literal: they separate the values of one parameter.
- A searchset must show, in its `self` link, that the server applied every parameter as sent (FHIR R4
  search: "the server SHALL return the parameters that were actually used"). A parameter missing or
  altered there makes the query unavailable: an empty result from a search the server did not run as
  asked is not "no results". A searchset without a `self` link cannot be checked and is refused unless
  the site turns `require_self_link` off for a server known to omit it.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urljoin, urlsplit

import orjson
import requests

from cds_service.bundles import malformed_bundle
from cds_service.errors import ConfigurationError, FhirAccessRefused
from cds_service.http_deadline import deadline_session, exchange_until, is_stale_connection_failure
from cds_service.json_limits import TooDeep, loads_bounded

log = logging.getLogger(__name__)
# urllib3 logs each request line at DEBUG, and the path and query carry the patient id: keep it at INFO
# whatever BONEMET_LOG_LEVEL says (logs must never contain identifiers).
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)
DEFAULT_PORTS = {"http": 80, "https": 443}
# A refusal is not an outage: the 412 (or the DATA-UNAVAILABLE card) says which, so an EHR integrator
# looks at the token the EHR sent rather than at the FHIR server.
REFUSALS = {
    401: "HTTP 401: the FHIR server refused the access token (fhirAuthorization missing, invalid, "
    "expired or revoked)",
    403: "HTTP 403: the FHIR server refused access with this token (outside its scopes or patient)",
}


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


_EXECUTORS: dict[tuple[str, int], ThreadPoolExecutor] = {}
_EXECUTORS_LOCK = threading.Lock()
# A forked worker inherits executors whose threads did not survive the fork: start afresh in the child.
os.register_at_fork(after_in_child=_EXECUTORS.clear)


def _executor_for(origin: str, max_per_origin: int) -> ThreadPoolExecutor:
    """The fetch threads of one origin, shared by every client of the process. The allow-list is fixed
    at start-up, so there are at most as many executors as allowed origins."""
    key = (origin, max_per_origin)
    with _EXECUTORS_LOCK:
        executor = _EXECUTORS.get(key)
        if executor is None:
            executor = _EXECUTORS[key] = ThreadPoolExecutor(
                max_workers=max_per_origin, thread_name_prefix="fhir"
            )
        return executor


@dataclass(frozen=True)
class Query:
    """One prefetch query as sent: its URL, and for a search the parameters the server must echo."""

    url: str
    params: tuple[tuple[str, str], ...] | None


@dataclass(frozen=True)
class Caller:
    """Who a read is for: the EHR's access token (never logged) and the hook call's request id."""

    token: str | None = field(repr=False)
    request_id: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/fhir+json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.request_id:
            headers["X-Request-ID"] = self.request_id
        return headers


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
        max_per_origin: int = 10,
        require_self_link: bool = True,
    ):
        self.allowed_origins = allowed_origins
        self.deadline_seconds = deadline_seconds
        self.max_pages = max_pages
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.max_resources = max_resources
        self.max_per_origin = max_per_origin
        self.require_self_link = require_self_link
        self.session = deadline_session(pool_maxsize=max_per_origin)

    def check_allowed(self, base_url: str) -> str:
        try:
            origin = origin_of(base_url)
        except ValueError:
            raise FhirAccessRefused("fhirServer must be an http(s) URL without credentials") from None
        if origin not in self.allowed_origins:
            raise FhirAccessRefused("fhirServer is not on BONEMET_FHIR_ALLOWED_HOSTS; it was not contacted")
        return origin

    def search_all(
        self, base_url: str, queries: dict[str, str], token: str | None, request_id: str | None = None
    ) -> dict[str, FetchResult]:
        """Every query at once, under one deadline. `request_id` goes out as `X-Request-ID`, so the EHR's
        FHIR server logs the same id as the EHR and this service (`cds_service.call_log`)."""
        caller = Caller(token, request_id)
        origin = self.check_allowed(base_url)
        deadline = time.monotonic() + self.deadline_seconds
        base = base_url.rstrip("/") + "/"
        executor = _executor_for(origin, self.max_per_origin)
        futures = {
            key: executor.submit(self._query, origin, encode_query(base, q), caller, deadline)
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

    def _query(self, origin: str, query: Query, caller: Caller, deadline: float) -> FetchResult:
        """Read one query, following `next` links on the same origin up to `max_pages` pages.

        A result cut short by the page cap is a failure, not a partial success: rules deciding on the
        first pages only could miss the newest result (searches are not sorted) and stay silent.
        """
        url = query.url
        expected_type = _searched_type(url)
        resources: list[dict[str, Any]] = []
        for page in range(self.max_pages):
            body = self._get(url, caller, deadline)
            if body.get("resourceType") != "Bundle":
                return _single(body, url)
            if (problem := malformed_bundle(body)) is not None:
                raise FetchFailed(problem)
            if page == 0 and query.params is not None:
                check_applied(body, query.params, expected_type, require_self_link=self.require_self_link)
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

    def _get(self, url: str, caller: Caller, deadline: float, retried: bool = False) -> dict[str, Any]:
        raw = self._exchange(url, caller.headers(), caller, deadline, retried)
        if isinstance(raw, dict):
            return raw
        try:
            parsed = loads_bounded(raw, self.max_depth)
        except orjson.JSONDecodeError:
            raise FetchFailed("response is not valid JSON") from None
        except TooDeep:
            raise FetchFailed(f"response nested deeper than {self.max_depth} levels") from None
        if not isinstance(parsed, dict):
            raise FetchFailed("response is not a FHIR resource")
        return parsed

    def _exchange(
        self, url: str, headers: dict[str, str], caller: Caller, deadline: float, retried: bool
    ) -> bytes | dict[str, Any]:
        """One GET under the deadline; sent once more on a fresh connection if a kept-alive one turns
        out to have been closed by the server before it answered."""
        for fresh in (False, True):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchFailed("deadline exceeded")
            with exchange_until(deadline, fresh_connection=fresh) as exchange:
                try:
                    response = self.session.get(
                        url,
                        headers=headers,
                        timeout=(min(remaining, 2.0), remaining),
                        stream=True,
                        allow_redirects=False,
                    )
                except requests.RequestException as exc:
                    if exchange.aborted:
                        raise FetchFailed("deadline exceeded before the server answered") from None
                    if not fresh and is_stale_connection_failure(exc, exchange):
                        log.info("FHIR server closed a kept-alive connection; reading again on a new one")
                        continue
                    raise
                try:
                    with response:
                        return self._answer(response, url, caller, deadline, retried)
                except FetchFailed:
                    raise
                except Exception:
                    if exchange.aborted:
                        raise FetchFailed("deadline exceeded while reading") from None
                    raise
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _answer(
        self, response: requests.Response, url: str, caller: Caller, deadline: float, retried: bool
    ) -> bytes | dict[str, Any]:
        if response.status_code == 429 and not retried:
            return self._retry_after(response, url, caller, deadline)
        if response.is_redirect:
            raise FetchFailed(f"HTTP {response.status_code} redirect; redirects are not followed")
        if response.status_code in REFUSALS:
            raise FetchFailed(REFUSALS[response.status_code])
        if response.status_code != 200:
            raise FetchFailed(f"HTTP {response.status_code}")
        return self._read(response, deadline)

    def _retry_after(
        self, response: requests.Response, url: str, caller: Caller, deadline: float
    ) -> dict[str, Any]:
        try:
            wait_s = float(response.headers.get("Retry-After", "1"))
        except ValueError:
            wait_s = 1.0
        if time.monotonic() + wait_s >= deadline:
            raise FetchFailed("HTTP 429 and Retry-After exceeds the deadline")
        time.sleep(max(0.0, wait_s))
        return self._get(url, caller, deadline, retried=True)

    def _read(self, response: requests.Response, deadline: float) -> bytes:
        """The body, checking the size cap and the deadline after every chunk. `read1` returns what has
        arrived instead of waiting for a full chunk; the watchdog ends a read that would block past the
        deadline (the socket is shut down, so the read ends early: a short body is then not trusted)."""
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
        if time.monotonic() > deadline:
            raise FetchFailed("deadline exceeded while reading")
        return b"".join(chunks)


def encode_query(base: str, relative: str) -> Query:
    """The URL to send for a rendered prefetch query, with every search value percent-encoded (commas
    kept: they separate a parameter's values), and the parameters the server's `self` link must show.
    Escapes already in the template (a quoted patient id) are kept as they are."""
    path, mark, query = relative.partition("?")
    if not mark:
        return Query(urljoin(base, relative), None)
    sent, parts = [], []
    for pair in filter(None, query.split("&")):
        name, _eq, value = pair.partition("=")
        encoded = quote(value, safe=",%")
        parts.append(f"{quote(name, safe=':%')}={encoded}")
        sent.append((unquote(name), unquote(encoded)))
    return Query(urljoin(base, f"{path}?{'&'.join(parts)}"), tuple(sent))


# Parameters that shape the answer (paging, order, extra resources, format) without choosing which
# resources match: servers need not echo them, and leaving one out does not make "no match" wrong.
_RESULT_PARAMETERS = frozenset(
    {"_count", "_sort", "_include", "_revinclude", "_elements", "_summary", "_total", "_format", "_pretty"}
)
_REFERENCE = re.compile(r"^[A-Z][A-Za-z]+/([A-Za-z0-9\-.]{1,64})$")


def _value_set(value: str) -> frozenset[str]:
    """A parameter's values, order-free, with `Patient/x` and `x` taken as the same reference."""
    parts = (part.strip() for part in value.split(","))
    return frozenset((m.group(1) if (m := _REFERENCE.match(part)) else part) for part in parts)


def check_applied(
    bundle: dict[str, Any], sent: tuple[tuple[str, str], ...], expected_type: str, *, require_self_link: bool
) -> None:
    """Refuse a searchset whose `self` link does not show every parameter applied as sent."""
    self_url = _link(bundle, "self")
    if self_url is None:
        if require_self_link:
            raise FetchFailed(
                "searchset has no self link, so the search parameters the server applied cannot be "
                "checked (BONEMET_FHIR_REQUIRE_SELF_LINK)"
            )
        return
    parts = urlsplit(self_url)
    if _searched_type(parts.path) not in (expected_type, "_search"):
        raise FetchFailed(f"self link names another search than {expected_type[:40]}")
    applied: dict[str, list[frozenset[str]]] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        applied.setdefault(name, []).append(_value_set(value))
    for name, value in sent:
        if name.split(":", 1)[0] in _RESULT_PARAMETERS:
            continue
        if _value_set(value) not in applied.get(name, []):
            shown = "not applied" if name not in applied else "applied with another value"
            raise FetchFailed(f"the server reports search parameter {name[:40]} {shown}; result not used")


def _searched_type(url: str) -> str:
    """`.../Observation?patient=x` -> `Observation` (the last path segment of a type-level search)."""
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def _matches(bundle: dict[str, Any], expected_type: str) -> list[dict[str, Any]]:
    """A searchset's resources. A match of another type means the server answered some other query;
    nothing from that answer can be trusted, so the whole query fails. Entries the search included on
    purpose (`search.mode` `include`: the Medications of `_include=MedicationRequest:medication`) are kept
    whatever their type; OperationOutcome entries are warnings here (`malformed_bundle` already failed the
    query on an error or fatal one)."""
    resources, wrong = [], set()
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            continue
        kind = resource.get("resourceType")
        if kind == "OperationOutcome":
            continue
        included = isinstance(entry.get("search"), dict) and entry["search"].get("mode") == "include"
        if kind != expected_type and not included:
            wrong.add(str(kind)[:40])
        resources.append(resource)
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


def _next_link(bundle: dict[str, Any]) -> str | None:
    return _link(bundle, "next")


def _link(bundle: dict[str, Any], relation: str) -> str | None:
    links = bundle.get("link")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("relation") == relation and isinstance(link.get("url"), str):
            return str(link["url"])
    return None


def _same_origin(url: str, origin: str) -> bool:
    try:
        return origin_of(url) == origin
    except ValueError:
        return False
