'use strict';
/*
 * How the SMART test EHR tells apps where to authorize: SMART App Launch 2.0's
 * `.well-known/smart-configuration`, and the CapabilityStatement's rest[0].security with the
 * `oauth-uris` extension, which older clients (the CDS Hooks sandbox's) read instead.
 */

const { resourceScopes } = require('./smart_scopes');

function capabilities() {
  return [
    'launch-ehr', 'launch-standalone', 'client-public', 'client-confidential-symmetric',
    'context-ehr-patient', 'context-ehr-encounter', 'context-standalone-patient', 'context-banner',
    'context-style', 'permission-v2', 'permission-v1', 'permission-patient', 'permission-user',
    'permission-offline', 'sso-openid-connect',
  ];
}

function smartConfiguration(issuer, oidcScopes) {
  return {
    issuer,
    jwks_uri: `${issuer}/jwks`,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    revocation_endpoint: `${issuer}/token/revocation`,
    introspection_endpoint: `${issuer}/token/introspection`,
    userinfo_endpoint: `${issuer}/me`,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: [...oidcScopes, ...resourceScopes()].filter((s, i, all) => all.indexOf(s) === i),
    capabilities: capabilities(),
  };
}

/** The upstream CapabilityStatement, plus the SMART security section the sandbox's client reads. */
async function capabilityStatement(issuer, upstream) {
  const response = await fetch(`${upstream}/metadata`);
  const statement = await response.json();
  statement.rest[0].security = {
    cors: true,
    service: [{
      coding: [{
        system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
        code: 'SMART-on-FHIR',
      }],
      text: 'OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)',
    }],
    extension: [{
      url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
      extension: [
        { url: 'authorize', valueUri: `${issuer}/authorize` },
        { url: 'token', valueUri: `${issuer}/token` },
        { url: 'revoke', valueUri: `${issuer}/token/revocation` },
        { url: 'introspect', valueUri: `${issuer}/token/introspection` },
      ],
    }],
  };
  return statement;
}

module.exports = { capabilityStatement, smartConfiguration };
