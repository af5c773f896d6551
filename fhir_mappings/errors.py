"""Errors of the site data this package reads (code sets, thresholds).

They live here, not in `cds_service`, because `fhir_mappings` imports nothing from the layers above it
(checked by import-linter). `cds_service.runtime` turns them into its `ConfigurationError` at start-up.
"""


class SiteDataError(ValueError):
    """A code-set or threshold file (shipped or site override) is malformed; start-up must stop."""


class CodesetConfigError(SiteDataError):
    """A code-set file is malformed or names an unknown section or code system."""


class ThresholdConfigError(SiteDataError):
    """A threshold file is malformed or names a threshold that does not exist."""
