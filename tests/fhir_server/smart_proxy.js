'use strict';
/*
 * The token-protected FHIR endpoint of the test EHR: every request needs a valid, unexpired access
 * token this server issued (else 401), for a resource type its scopes grant (else 403); a token with
 * only patient/ scopes reads only its patient's compartment (else 403). Allowed requests are passed to
 * the test FHIR server, and the answer's URLs (Bundle links, fullUrl, Location) are rewritten to point
 * back here, so a client following `next` links stays behind the token check.
 *
 * The compartment check is deliberately simple (this is a test server): a patient-scoped search must
 * name the patient (`patient`, `subject` or, for Patient, `_id`), a read of Patient/<id> must be the
 * context patient, and a read of another resource must not point at another patient.
 */

const { accessFor } = require('./smart_scopes');

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept, Prefer',
  'Access-Control-Expose-Headers': 'Location, ETag, Content-Location, WWW-Authenticate',
  'Access-Control-Max-Age': '600',
};
const PATIENT_PARAMS = ['patient', 'subject', 'patient:Patient', 'subject:Patient'];

function outcome(code, diagnostics) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

function send(res, status, body, extraHeaders = {}) {
  res.writeHead(status, { ...CORS_HEADERS, 'Content-Type': FHIR_JSON, ...extraHeaders });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

function refuse(res, status, reason) {
  const headers = status === 401
    ? { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${reason}"` }
    : {};
  send(res, status, outcome(status === 401 ? 'login' : 'forbidden', reason), headers);
}

/** The access token of a request, or null; a valid one carries its grant's SMART context. */
async function tokenOf(app, req) {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization || '');
  if (!match) {
    return null;
  }
  const token = await app.provider.AccessToken.find(match[1]);
  if (!token || token.aud !== app.fhirBase) {
    return null;
  }
  return { scope: token.scope || '', context: app.state.contexts.get(token.grantId) || {} };
}

function patientIdOf(reference) {
  const text = String(reference || '');
  const match = /(?:^|\/)Patient\/([^/?#]+)$/.exec(text);
  if (match) {
    return match[1];
  }
  return text.includes('/') ? null : text;
}

/** Why a patient-scoped search is out of its compartment, or null when it is not. */
function searchRefusal(type, params, patient) {
  const names = type === 'Patient' ? ['_id'] : PATIENT_PARAMS;
  const values = names.flatMap((name) => params.getAll(name)).flatMap((v) => v.split(','));
  if (values.length === 0) {
    return `a patient-scoped token searches ${type} only with the patient named (patient or subject)`;
  }
  if (values.some((value) => patientIdOf(value) !== patient)) {
    return `${type} of another patient is outside this token's patient compartment`;
  }
  return null;
}

/** Why a request with a patient-scoped token is outside the compartment before it is run, or null. */
function compartmentRefusal(request, patient) {
  if (!patient) {
    return 'a patient-scoped token without a patient in context';
  }
  if (request.interaction === 'search') {
    return searchRefusal(request.type, request.params, patient);
  }
  if (request.type === 'Patient' && request.id !== patient) {
    return 'Patient outside this token\'s patient compartment';
  }
  return null;
}

/** Why a resource read with a patient-scoped token is outside the compartment, or null. */
function readRefusal(resource, patient) {
  if (resource?.resourceType === 'Patient') {
    return resource.id === patient ? null : 'Patient outside this token\'s patient compartment';
  }
  const references = [resource?.subject?.reference, resource?.patient?.reference].filter(Boolean);
  if (references.some((reference) => patientIdOf(reference) !== patient)) {
    return `${resource.resourceType} of another patient is outside this token's patient compartment`;
  }
  return null;
}

function parseRequest(url, pathname, body) {
  const parts = pathname.split('/').filter(Boolean);
  const isSearchPost = parts.length === 2 && parts[1] === '_search';
  const params = new URLSearchParams(url.search);
  if (isSearchPost) {
    for (const [key, value] of new URLSearchParams(body)) {
      params.append(key, value);
    }
  }
  const interaction = parts.length === 1 || isSearchPost ? 'search' : 'read';
  return { type: parts[0], id: interaction === 'read' ? parts[1] : null, interaction, params };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Check the token and the compartment, pass the request on, and rewrite the answer's base URLs. */
async function proxyFhir(app, req, res, url) {
  if (req.method === 'OPTIONS') {
    res.writeHead(204, CORS_HEADERS);
    res.end();
    return;
  }
  const token = await tokenOf(app, req);
  if (!token) {
    refuse(res, 401, 'a valid access token issued by this server is required');
    return;
  }
  const body = req.method === 'POST' ? await readBody(req) : '';
  const pathname = url.pathname.slice(new URL(app.fhirBase).pathname.length);
  const request = parseRequest(url, pathname, body);
  const searchPost = req.method === 'POST' && request.interaction === 'search';
  if ((req.method !== 'GET' && !searchPost) || !request.type) {
    refuse(res, 403, 'this EHR grants read and search only');
    return;
  }
  const access = accessFor(token.scope, request.type, request.interaction);
  if (!access) {
    refuse(res, 403, `the token's scopes do not grant ${request.interaction} of ${request.type}`);
    return;
  }
  const patient = access === 'compartment' ? token.context.patient : null;
  if (access === 'compartment') {
    const reason = compartmentRefusal(request, patient);
    if (reason) {
      refuse(res, 403, reason);
      return;
    }
  }
  await forward(app, req, res, { pathname, search: url.search, body, patient, access });
}

async function forward(app, req, res, { pathname, search, body, patient, access }) {
  const headers = { Accept: 'application/fhir+json' };
  if (req.headers['content-type']) {
    headers['Content-Type'] = req.headers['content-type'];
  }
  const upstream = await fetch(`${app.upstream}${pathname}${search}`, {
    method: req.method, headers, body: req.method === 'POST' ? body : undefined, redirect: 'manual',
  });
  const text = (await upstream.text()).split(app.upstream).join(app.fhirBase);
  if (access === 'compartment' && upstream.status === 200) {
    const parsed = JSON.parse(text);
    const reason = parsed.resourceType === 'Bundle' ? null : readRefusal(parsed, patient);
    if (reason) {
      refuse(res, 403, reason);
      return;
    }
  }
  res.writeHead(upstream.status, {
    ...CORS_HEADERS, 'Content-Type': upstream.headers.get('content-type') || FHIR_JSON,
  });
  res.end(text);
}

module.exports = { outcome, proxyFhir, send };
