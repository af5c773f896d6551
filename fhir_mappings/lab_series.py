"""An analyte's usable results, newest first, each converted and validated the first time something reads it.

Why lazy: most rules read only the newest result, a few walk back (the zoledronic acid baseline creatinine
before the first dose, the albumin of the same days as the calcium), and a heavy chart sends hundreds of
results per analyte. Converting all of them cost more than every rule together; capping the history at a
count instead would silently lose a baseline older than the cap. Here a rule reads as far back as it needs,
`on_or_before` skips newer results by their date alone, and every result a rule reads is fully validated
(fhir.resources) before it is converted, so the rules' inputs are validated without paying for the rest.

Which results are reported as unusable: the ones read while the facts are built (up to and including the
newest usable one) go to the facts' `data_issues`, shown on cards. An older result found unusable later,
while a rule walks back, is skipped and kept in `skipped`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, overload

from fhir_mappings.facts import LabResult, UnusableResult

Raw = tuple[datetime, dict[str, Any]]  # (effective, Observation)
Convert = Callable[[Raw, list[UnusableResult]], LabResult | None]
"""(raw result, where to report it if unusable) -> the validated, converted result, or None."""


class LabSeries(Sequence[LabResult]):
    def __init__(self, raw: list[Raw], convert: Convert, issues: list[UnusableResult]) -> None:
        """`raw` must be sorted newest first. The newest usable result is read now, reporting to `issues`."""
        self._raw = raw
        self._convert = convert
        self._converted: dict[int, LabResult | None] = {}
        self.skipped: list[UnusableResult] = []
        self._newest = next(self._usable_from(0, issues), None)

    def __bool__(self) -> bool:
        return self._newest is not None

    def __len__(self) -> int:
        return sum(1 for _ in self)

    @overload
    def __getitem__(self, index: int) -> LabResult: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[LabResult]: ...

    def __getitem__(self, index: int | slice) -> LabResult | Sequence[LabResult]:
        if isinstance(index, slice):
            return tuple(self)[index]
        if index == 0 and self._newest is not None:
            return self._newest
        if index < 0:
            return tuple(self)[index]
        for position, result in enumerate(self):
            if position == index:
                return result
        raise IndexError(index)

    def __iter__(self) -> Iterator[LabResult]:
        return self._usable_from(0, self.skipped)

    def on_or_before(self, latest: datetime) -> Iterator[LabResult]:
        """Usable results dated `latest` or earlier, newest first; newer ones are passed over unread."""
        start = next((i for i, (when, _obs) in enumerate(self._raw) if when <= latest), len(self._raw))
        return self._usable_from(start, self.skipped)

    def __repr__(self) -> str:
        return f"LabSeries({len(self._converted)} of {len(self._raw)} read)"

    def _usable_from(self, start: int, issues: list[UnusableResult]) -> Iterator[LabResult]:
        for position in range(start, len(self._raw)):
            if position not in self._converted:
                self._converted[position] = self._convert(self._raw[position], issues)
            result = self._converted[position]
            if result is not None:
                yield result


def on_or_before(results: Sequence[LabResult], latest: datetime) -> Iterator[LabResult]:
    """Results dated `latest` or earlier, newest first, from a `LabSeries` (newer ones left unread) or
    from any newest-first sequence (the rules' unit tests build plain tuples)."""
    if isinstance(results, LabSeries):
        return results.on_or_before(latest)
    return (result for result in results if result.effective <= latest)


def issues_found_while_reading(labs: Mapping[str, Sequence[LabResult]]) -> tuple[UnusableResult, ...]:
    """Older results a rule found unusable while walking back (a baseline creatinine whose unit contradicts
    its code, RULES.md 7.1.8): call after the rules ran, so the DATA-QUALITY card names them too instead of
    the rule silently using the next one."""
    return tuple(
        issue for series in labs.values() if isinstance(series, LabSeries) for issue in series.skipped
    )
