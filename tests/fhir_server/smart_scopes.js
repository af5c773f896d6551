'use strict';
/*
 * SMART scopes for the test authorization server: which scopes it grants, and what a granted scope
 * string lets a request read. Kept apart from the HTTP code so the rules can be read (and checked)
 * against SMART App Launch 2.0 section "Scopes for requesting clinical data" in one place.
 *
 * A resource type is readable when a scope `patient/<T|*>.<perm>` or `user/<T|*>.<perm>` grants it,
 * with a v2 permission string containing `r` (read) or `s` (search), or the v1 `read`. Only patient/
 * scopes: the token reads that patient's compartment and nothing else.
 */

const RESOURCE_TYPES = [
  'Patient', 'Condition', 'Observation', 'MedicationRequest', 'MedicationStatement', 'Medication',
  'ServiceRequest', 'Procedure', 'ImagingStudy', 'DiagnosticReport', 'AllergyIntolerance', 'Encounter',
  'EpisodeOfCare',
  'Practitioner', 'Organization',
];
const CONTEXT_SCOPES = ['launch', 'launch/patient', 'launch/encounter', 'fhirUser', 'offline_access'];
const PERMISSIONS = ['read', '*', 'rs', 'r', 's', 'cruds'];  // granted for reading; writes are refused anyway

/** Every scope the FHIR resource server grants (the oidc-provider resource server's `scope`). */
function resourceScopes() {
  const scopes = [...CONTEXT_SCOPES];
  for (const level of ['patient', 'user']) {
    for (const type of [...RESOURCE_TYPES, '*']) {
      for (const permission of PERMISSIONS) {
        scopes.push(`${level}/${type}.${permission}`);
      }
    }
  }
  return scopes;
}

function parseScope(scope) {
  const match = /^(patient|user|system)\/([A-Za-z*]+)\.([a-z*]+)(\?.*)?$/.exec(scope);
  if (!match) {
    return null;
  }
  const [, level, type, permission] = match;
  const v1 = permission === 'read' || permission === '*';
  const v2 = /^c?r?u?d?s?$/.test(permission);
  return { level, type, reads: v1 || (v2 && permission.includes('r')), searches: v1 || (v2 && permission.includes('s')) };
}

/**
 * What a token's scopes allow for one resource type and interaction ('read' or 'search'):
 * 'all' (a user/ scope), 'compartment' (patient/ scopes only), or null (not granted).
 */
function accessFor(scopeString, resourceType, interaction) {
  let access = null;
  for (const scope of (scopeString || '').split(' ')) {
    const parsed = parseScope(scope);
    if (!parsed || (parsed.type !== '*' && parsed.type !== resourceType)) {
      continue;
    }
    if (!(interaction === 'read' ? parsed.reads : parsed.searches)) {
      continue;
    }
    if (parsed.level === 'user' || parsed.level === 'system') {
      return 'all';
    }
    access = 'compartment';
  }
  return access;
}

module.exports = { RESOURCE_TYPES, accessFor, resourceScopes };
