'use strict';
/*
 * Test-only administration of the SMART test EHR (never part of a real server): what an EHR does
 * outside OAuth (register apps, start a launch, pick the standalone patient) and what the tests need to
 * drive the hook calls (mint a token for a patient, revoke or expire it). Answers only to loopback
 * peers; the server listens on 127.0.0.1 anyway.
 *
 *   POST /_ehr/clients   {client_id, redirect_uris, client_secret?, token_endpoint_auth_method?}
 *                        -> 201 {client_id}   (no secret: a public client, PKCE only)
 *   POST /_ehr/launch    {patient, appContext?, encounter?, need_patient_banner?, intent?} -> 201 {launch}
 *   POST /_ehr/standalone-patient {patient}  -> 204 (the patient of a standalone launch/patient)
 *   POST /_ehr/token     {patient, scope, client_id?, expires_in?, appContext?}
 *                        -> 201 {access_token, token_type, expires_in, scope, patient}
 *   POST /_ehr/revoke    {token} -> 204       POST /_ehr/expire {token} -> 204
 */

const crypto = require('node:crypto');
const { send, outcome } = require('./smart_proxy');
const { resourceScopes } = require('./smart_scopes');

const TOKEN_CLIENT_ID = 'bonemet-test-ehr';
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

function clientMetadata(body) {
  if (typeof body.client_id !== 'string' || !Array.isArray(body.redirect_uris)) {
    throw new Error('client_id (string) and redirect_uris (array) are required');
  }
  const secret = body.client_secret;
  return {
    client_id: body.client_id,
    redirect_uris: body.redirect_uris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: body.token_endpoint_auth_method || (secret ? 'client_secret_basic' : 'none'),
    ...(secret ? { client_secret: secret } : {}),
  };
}

function registerClient(app, metadata) {
  app.store('Client').set(metadata.client_id, metadata);
}

/**
 * A token as if an app had been authorized for this patient: the hook tests' fhirAuthorization. Like an
 * authorization, it carries only the scopes the server knows (the answer's `scope` says which).
 */
async function mintToken(app, body) {
  if (typeof body.patient !== 'string' || typeof body.scope !== 'string') {
    throw new Error('patient and scope (strings) are required');
  }
  const clientId = body.client_id || TOKEN_CLIENT_ID;
  if (clientId === TOKEN_CLIENT_ID) {
    registerClient(app, clientMetadata({
      client_id: TOKEN_CLIENT_ID, redirect_uris: ['http://127.0.0.1/unused'], client_secret: 'unused',
    }));
  }
  const client = await app.provider.Client.find(clientId);
  if (!client) {
    throw new Error(`no client ${clientId}`);
  }
  const known = new Set(resourceScopes());
  const scope = body.scope.split(' ').filter((item) => known.has(item)).join(' ');
  const grant = new app.provider.Grant({ clientId, accountId: app.practitionerId });
  grant.addResourceScope(app.fhirBase, scope);
  const grantId = await grant.save();
  app.state.contexts.set(grantId, { patient: body.patient, appContext: body.appContext });
  const token = new app.provider.AccessToken({
    accountId: app.practitionerId, client, grantId, gty: 'authorization_code', scope,
    resourceServer: app.resourceServer(), expiresIn: Number(body.expires_in || 3600),
  });
  const value = await token.save();
  return {
    access_token: value, token_type: 'Bearer', expires_in: token.expiration, scope,
    patient: body.patient,
  };
}

/** Make a token expired where it is stored, as if its lifetime had passed. */
function expireToken(app, value) {
  const stored = app.store('AccessToken').get(value);
  if (!stored) {
    throw new Error('no such access token');
  }
  stored.exp = Math.floor(Date.now() / 1000) - 3600; // well past any clock tolerance
  stored.iat = Math.min(stored.iat, stored.exp - 1);
}

async function route(app, req, res, pathname, body) {
  switch (pathname) {
    case '/_ehr/clients':
      registerClient(app, clientMetadata(body));
      return send(res, 201, { client_id: body.client_id });
    case '/_ehr/launch': {
      if (typeof body.patient !== 'string') {
        throw new Error('patient (string) is required');
      }
      const launch = crypto.randomBytes(12).toString('hex');
      app.state.launches.set(launch, { need_patient_banner: false, ...body });
      return send(res, 201, { launch });
    }
    case '/_ehr/standalone-patient':
      app.state.defaultPatient = body.patient || null;
      return send(res, 204);
    case '/_ehr/token':
      return send(res, 201, await mintToken(app, body));
    case '/_ehr/revoke':
      await app.provider.AccessToken.adapter.destroy(body.token);
      return send(res, 204);
    case '/_ehr/expire':
      expireToken(app, body.token);
      return send(res, 204);
    default:
      return send(res, 404, outcome('not-found', `no admin endpoint ${pathname}`));
  }
}

async function handleAdmin(app, req, res, url) {
  if (!LOOPBACK.has(req.socket.remoteAddress)) {
    send(res, 403, outcome('forbidden', 'the test EHR administration answers loopback peers only'));
    return;
  }
  if (req.method !== 'POST') {
    send(res, 405, outcome('not-supported', 'POST only'));
    return;
  }
  try {
    await route(app, req, res, url.pathname, await readJson(req));
  } catch (err) {
    send(res, 400, outcome('invalid', String(err.message || err)));
  }
}

module.exports = { handleAdmin };
