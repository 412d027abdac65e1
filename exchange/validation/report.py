"""Validation problems and the report that lists every one of them."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from exchange.formats.records import Location

MAX_DETAILED_PROBLEMS = 10_000
"""Problems kept in full; beyond this only counts per rule are kept (the report says so)."""


@dataclass(slots=True)
class Problem:
    """One thing wrong with the input, located as precisely as the format allows."""

    rule: str
    message: str
    component: str | None = None
    value: str | None = None
    series_key: str | None = None
    time_period: str | None = None
    location: Location = field(default_factory=Location)
    hint: str | None = None
    severity: Literal["error", "warning"] = "error"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["location"] = {k: v for k, v in data["location"].items() if v is not None}
        return {k: v for k, v in data.items() if v not in (None, {})}

    def describe(self) -> str:
        where = ", ".join(
            p
            for p in (
                self.location.describe(),
                f"series {self.series_key}" if self.series_key else "",
                f"period {self.time_period}" if self.time_period else "",
            )
            if p
        )
        text = f"[{self.rule}] {where + ': ' if where else ''}{self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


@dataclass
class ValidationReport:
    """Every problem found, with counts; ``ok`` when there is no error (warnings do not block)."""

    problems: list[Problem] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    observations: int = 0
    series: int = 0

    def add(self, problem: Problem) -> None:
        self.counts[f"{problem.severity}:{problem.rule}"] += 1
        if len(self.problems) < MAX_DETAILED_PROBLEMS:
            self.problems.append(problem)

    @property
    def error_count(self) -> int:
        return sum(n for key, n in self.counts.items() if key.startswith("error:"))

    @property
    def warning_count(self) -> int:
        return sum(n for key, n in self.counts.items() if key.startswith("warning:"))

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def truncated(self) -> bool:
        return sum(self.counts.values()) > len(self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.ok,
            "errors": self.error_count,
            "warnings": self.warning_count,
            "observations": self.observations,
            "series": self.series,
            "counts_by_rule": dict(sorted(self.counts.items())),
            "truncated": self.truncated,
            "problems": [p.to_dict() for p in self.problems],
        }

    def summary(self, limit: int = 50) -> str:
        """Human-readable text: totals then the first ``limit`` problems."""
        lines = [f"{self.error_count} error(s), {self.warning_count} warning(s) in {self.observations} observation(s)"]
        lines += [f"  - {p.describe()}" for p in self.problems[:limit]]
        if len(self.problems) > limit or self.truncated:
            lines.append(f"  … and {sum(self.counts.values()) - limit} more")
        return "\n".join(lines)
