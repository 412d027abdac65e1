"""Allowed content constraints: cube regions and key sets evaluated against observation values.

Semantics: within one constraint, a value set passes if it lies in at least one include cube region
(when there are any), in no exclude region, and matches one of the included keys (when there are
key sets) and none of the excluded ones. Every attached constraint must pass.
"""

from __future__ import annotations

from collections.abc import Mapping

from exchange.structures.model import ContentConstraint, CubeRegion


def _in_region(values: Mapping[str, str], region: CubeRegion) -> bool:
    return all(values.get(comp) in allowed for comp, allowed in region.members.items() if comp in values)


def _matches_key(values: Mapping[str, str], key: Mapping[str, str]) -> bool:
    return all(values.get(comp) == code for comp, code in key.items() if comp in values)


class ConstraintChecker:
    """Checks value sets against the allowed constraints of one dataflow, caching by values."""

    def __init__(self, constraints: list[ContentConstraint]) -> None:
        self.constraints = constraints
        components: set[str] = set()
        for c in constraints:
            for region in c.cube_regions:
                components.update(region.members)
            for key_set in c.key_sets:
                for key in key_set.keys:
                    components.update(key)
        self.components = tuple(sorted(components))
        self._cache: dict[tuple[str | None, ...], str | None] = {}

    def violation(self, values: Mapping[str, str]) -> str | None:
        """None if allowed, else a sentence naming the constraint that excludes the values."""
        if not self.constraints:
            return None
        signature = tuple(values.get(c) for c in self.components)
        if signature not in self._cache:
            present = {c: v for c, v in zip(self.components, signature, strict=True) if v is not None}
            self._cache[signature] = self._evaluate(present)
        return self._cache[signature]

    def offending(self, values: Mapping[str, str]) -> list[str]:
        """Components whose value lies outside a constraint's single include region (for locating problems)."""
        found: list[str] = []
        for constraint in self.constraints:
            includes = [r for r in constraint.cube_regions if r.include]
            if len(includes) == 1:
                found += [c for c, allowed in includes[0].members.items() if c in values and values[c] not in allowed]
        return found

    def _evaluate(self, values: Mapping[str, str]) -> str | None:
        for constraint in self.constraints:
            includes = [r for r in constraint.cube_regions if r.include]
            if includes and not any(_in_region(values, r) for r in includes):
                return f"outside the allowed cube region(s) of constraint {constraint.ref}" + _detail(values, includes)
            if any(_in_region(values, r) and r.members for r in constraint.cube_regions if not r.include):
                return f"excluded by constraint {constraint.ref}"
            included_keys = [k for ks in constraint.key_sets if ks.include for k in ks.keys]
            if included_keys and not any(_matches_key(values, k) for k in included_keys):
                return f"not one of the keys allowed by constraint {constraint.ref}"
            if any(_matches_key(values, k) for ks in constraint.key_sets if not ks.include for k in ks.keys):
                return f"a key excluded by constraint {constraint.ref}"
        return None


def _detail(values: Mapping[str, str], regions: list[CubeRegion]) -> str:
    """For a single region, name the offending components and what they may be."""
    if len(regions) != 1:
        return ""
    bad = [
        f"{comp}={values[comp]} (allowed: {', '.join(allowed[:10])}{'…' if len(allowed) > 10 else ''})"
        for comp, allowed in regions[0].members.items()
        if comp in values and values[comp] not in allowed
    ]
    return f": {'; '.join(bad)}" if bad else ""
