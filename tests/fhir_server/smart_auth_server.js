'use strict';
/*
 * A SMART on FHIR "EHR" for the tests: a real OAuth 2.0 authorization server (oidc-provider, the
 * certified Node OpenID provider) with the SMART launch context added, in front of the test FHIR server
 * (server.js), which it proxies only for requests carrying a valid access token it issued.
 *
 * Why these choices:
 * - oidc-provider does the protocol (authorization code, PKCE S256 required for every client, `state`,
 *   client authentication, token expiry, revocation, introspection); this file adds only what SMART adds
 *   (`launch`, `patient`, `appContext`, `need_patient_banner`, the SMART discovery document, the
 *   CapabilityStatement's security section) and the FHIR proxy.
 * - Login and consent complete by themselves (the user is always one test Practitioner, who grants every
 *   scope the app asks for and the server knows): an EHR launch happens inside a session the EHR already
 *   has, so a login form would test nothing of ours, and a browser test needs no clicks or selectors.
 *   Each authorization request gets a fresh grant, so each launch carries its own context.
 * - Access tokens are opaque and looked up in this process: revoking or expiring one (admin endpoints)
 *   takes effect on the next FHIR request.
 *
 * Listens on 127.0.0.1 only. Routes:
 *   <FHIR_BASE_PATH>/...                          FHIR, proxied to FHIR_UPSTREAM with a bearer token
 *   <FHIR_BASE_PATH>/metadata                     CapabilityStatement with rest[0].security (no token)
 *   <FHIR_BASE_PATH>/.well-known/smart-configuration   SMART App Launch 2.0 discovery (no token)
 *   /authorize /token /token/revocation /token/introspection /jwks /me   oidc-provider
 *   /_ehr/...                                     test-only administration (see smart_admin.js)
 * Discovery documents: smart_discovery.js; the token-checked proxy: smart_proxy.js; scopes: smart_scopes.js.
 *
 * Environment: FHIR_UPSTREAM (required, the test FHIR server's base URL), PORT (0: a free port),
 * FHIR_BASE_PATH (default /fhir/R4), SMART_PRACTITIONER_ID (default test-practitioner),
 * SMART_DEFAULT_PATIENT (the patient of a standalone launch, also settable by the admin API).
 * When listening it prints one JSON line: {"url": "<FHIR base>", "issuer": "...", "admin": "..."}.
 */

const crypto = require('node:crypto');
const http = require('node:http');
const { resourceScopes } = require('./smart_scopes');
const { capabilityStatement, smartConfiguration } = require('./smart_discovery');
const { handleAdmin } = require('./smart_admin');
const { proxyFhir, send, outcome } = require('./smart_proxy');

const HOST = '127.0.0.1';
const BASE_PATH = '/' + (process.env.FHIR_BASE_PATH || '/fhir/R4').replace(/^\/+|\/+$/g, '');
const UPSTREAM = (process.env.FHIR_UPSTREAM || '').replace(/\/+$/, '');
const PRACTITIONER_ID = process.env.SMART_PRACTITIONER_ID || 'test-practitioner';
const OIDC_SCOPES = ['openid', 'fhirUser', 'profile', 'offline_access'];

/** Everything the server keeps, in memory: oidc-provider's models, launches, and grant contexts. */
const state = {
  stores: new Map(),
  launches: new Map(),
  contexts: new Map(),
  defaultPatient: process.env.SMART_DEFAULT_PATIENT || null,
};

function store(name) {
  if (!state.stores.has(name)) {
    state.stores.set(name, new Map());
  }
  return state.stores.get(name);
}

/** oidc-provider's adapter interface over plain Maps (the registered clients live in 'Client'). */
class MemoryAdapter {
  constructor(name) {
    this.items = store(name);
  }

  async upsert(id, payload) {
    this.items.set(id, { ...payload });
  }

  async find(id) {
    return this.items.get(id);
  }

  async findByUid(uid) {
    return [...this.items.values()].find((payload) => payload.uid === uid);
  }

  async findByUserCode(userCode) {
    return [...this.items.values()].find((payload) => payload.userCode === userCode);
  }

  async consume(id) {
    const payload = this.items.get(id);
    if (payload) {
      payload.consumed = Math.floor(Date.now() / 1000);
    }
  }

  async destroy(id) {
    this.items.delete(id);
  }

  async revokeByGrantId(grantId) {
    for (const [id, payload] of this.items) {
      if (payload.grantId === grantId) {
        this.items.delete(id);
      }
    }
  }
}

/** The SMART context a new grant carries: from the EHR's `launch`, or the standalone default patient. */
function launchContext(ctx, scopes, errors) {
  if (scopes.has('launch')) {
    const context = state.launches.get(ctx.oidc.params.launch);
    if (!context) {
      throw new errors.InvalidRequest('the launch parameter names no launch of this EHR');
    }
    return context;
  }
  if (scopes.has('launch/patient')) {
    if (!state.defaultPatient) {
      throw new errors.InvalidRequest('no patient is selected for a standalone launch');
    }
    return { patient: state.defaultPatient, need_patient_banner: true };
  }
  return null;
}

/** Auto-consent: a fresh grant of every requested scope this server knows, with its launch context. */
function grantLoader(fhirBase, errors) {
  const known = new Set(resourceScopes());
  return async function loadExistingGrant(ctx) {
    const requested = ctx.oidc.requestParamScopes;
    const context = launchContext(ctx, requested, errors);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope([...requested].filter((scope) => OIDC_SCOPES.includes(scope)).join(' '));
    grant.addOIDCClaims(['fhirUser', 'name']);
    grant.addResourceScope(fhirBase, [...requested].filter((scope) => known.has(scope)).join(' '));
    const grantId = await grant.save();
    if (context) {
      state.contexts.set(grantId, context);
    }
    return grant;
  };
}

function resourceServer(fhirBase) {
  return {
    scope: resourceScopes().join(' '),
    audience: fhirBase,
    accessTokenFormat: 'opaque',
    accessTokenTTL: 3600,
  };
}

/** A fresh RS256 key per start for the id tokens (oidc-provider's built-in key is for quick starts). */
function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' };
}

function providerConfiguration(fhirBase, errors) {
  return {
    adapter: MemoryAdapter,
    clients: [],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    scopes: OIDC_SCOPES,
    claims: { openid: ['sub'], fhirUser: ['fhirUser'], profile: ['name'] },
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, fhirUser: `${fhirBase}/Practitioner/${id}`, name: 'Test Practitioner' }),
    }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    loadExistingGrant: grantLoader(fhirBase, errors),
    pkce: { required: () => true },
    clientBasedCORS: () => true,
    extraParams: ['launch', 'aud'],
    routes: { authorization: '/authorize' },
    ttl: { AccessToken: 3600, AuthorizationCode: 120, Grant: 3600, Interaction: 600, Session: 3600 },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => fhirBase,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== fhirBase) {
            throw new errors.InvalidTarget();
          }
          return resourceServer(fhirBase);
        },
      },
    },
  };
}

/** SMART adds its context to the token response (and CDS Hooks its `appContext`). */
function addLaunchContext(provider) {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route !== 'token' || !ctx.body?.access_token) {
      return;
    }
    const context = state.contexts.get(ctx.oidc.entities.AccessToken?.grantId);
    if (context) {
      Object.assign(ctx.body, tokenContext(context));
    }
  });
}

function tokenContext(context) {
  const fields = { patient: context.patient, need_patient_banner: Boolean(context.need_patient_banner) };
  if (context.encounter) {
    fields.encounter = context.encounter;
  }
  if (context.appContext !== undefined && context.appContext !== null) {
    fields.appContext = context.appContext;
  }
  if (context.intent) {
    fields.intent = context.intent;
  }
  return fields;
}

/** Login completes by itself: the user is the one test Practitioner (consent: see grantLoader). */
async function handleInteraction(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name !== 'login') {
    send(res, 400, outcome('not-supported', `unexpected interaction prompt ${details.prompt.name}`));
    return;
  }
  await provider.interactionFinished(
    req, res, { login: { accountId: PRACTITIONER_ID } }, { mergeWithLastSubmission: false }
  );
}

function routeOf(pathname) {
  if (pathname.startsWith('/_ehr/')) {
    return 'admin';
  }
  if (pathname.startsWith('/interaction/')) {
    return 'interaction';
  }
  if (pathname === BASE_PATH || pathname.startsWith(BASE_PATH + '/')) {
    return 'fhir';
  }
  return 'oauth';
}

function createHandler(app) {
  const oauth = app.provider.callback();
  return async (req, res) => {
    const url = new URL(req.url, app.issuer);
    const route = routeOf(url.pathname);
    try {
      if (route === 'oauth') {
        oauth(req, res);
      } else if (route === 'interaction') {
        await handleInteraction(app.provider, req, res);
      } else if (route === 'admin') {
        await handleAdmin(app, req, res, url);
      } else if (url.pathname === `${BASE_PATH}/.well-known/smart-configuration`) {
        send(res, 200, smartConfiguration(app.issuer, OIDC_SCOPES), { 'Content-Type': 'application/json' });
      } else if (req.method === 'GET' && url.pathname === `${BASE_PATH}/metadata`) {
        send(res, 200, await capabilityStatement(app.issuer, UPSTREAM));
      } else {
        await proxyFhir(app, req, res, url);
      }
    } catch (err) {
      if (!res.headersSent) {
        send(res, 500, outcome('exception', String(err && err.message ? err.message : err)));
      }
    }
  };
}

async function main() {
  if (!UPSTREAM) {
    throw new Error('FHIR_UPSTREAM (the test FHIR server base URL) is required');
  }
  const { default: Provider, errors } = await import('oidc-provider');
  let handler = null;
  const server = http.createServer((req, res) => {
    if (handler) {
      handler(req, res);
    } else {
      send(res, 503, outcome('transient', 'starting'));
    }
  });
  await new Promise((resolve) => server.listen(Number(process.env.PORT || 0), HOST, resolve));
  const issuer = `http://${HOST}:${server.address().port}`;
  const fhirBase = `${issuer}${BASE_PATH}`;
  const provider = new Provider(issuer, providerConfiguration(fhirBase, errors));
  addLaunchContext(provider);
  const app = {
    provider, issuer, fhirBase, upstream: UPSTREAM, state, store, practitionerId: PRACTITIONER_ID,
    resourceServer: () => ({ ...resourceServer(fhirBase), identifier: () => fhirBase }),
  };
  handler = createHandler(app);
  process.stdout.write(JSON.stringify({ url: fhirBase, issuer, admin: `${issuer}/_ehr` }) + '\n');
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`smart auth server failed to start: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
