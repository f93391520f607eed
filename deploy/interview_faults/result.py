"""One scenario's numbers, and the table `make faults` prints and writes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from interview_faults.check import Tally
from interview_faults.ledger import Ledger

LOST_CHECK = "0 acknowledged lost"


@dataclass
class Result:
    """What one scenario measured, and which of its requirements held."""

    scenario: str
    backend: str
    acknowledged: int = 0
    scored: int = 0
    duplicates: int = 0
    http_5xx: int = 0
    drain_s: float | None = None
    checks: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(
        cls, scenario: str, backend: str, ledger: Ledger, tally: Tally, drain_s: float | None
    ) -> Result:
        """The counts every scenario reports, from its ledger and tally."""
        result = cls(
            scenario,
            backend,
            acknowledged=len(ledger.acknowledged),
            scored=len(tally.scored),
            duplicates=tally.duplicates(),
            http_5xx=ledger.server_errors,
            drain_s=drain_s,
        )
        unscored = set(ledger.acknowledged) - tally.scored
        result.require(LOST_CHECK, not unscored)
        if unscored:
            judged = len(unscored & {key[0] for key in tally.log_ids})
            result.notes.append(
                f"unscored {len(unscored)}: {judged} judged on the log (store behind), "
                f"{len(unscored) - judged} not (evaluator behind)"
            )
        result.require("each scored once", result.duplicates == 0)
        if ledger.server_errors:
            by_status = sorted((k, n) for k, n in ledger.statuses.items() if k >= 500)
            result.notes.append("5xx: " + ", ".join(f"{n}x {k}" for k, n in by_status))
        if ledger.transport_errors:
            refused = sum(ledger.transport_errors.values())
            result.notes.append(f"{refused} posts unanswered (gateway down)")
        return result

    def require(self, what: str, held: bool) -> None:
        """Record one requirement and whether it held."""
        self.checks[what] = held

    @property
    def passed(self) -> bool:
        """Every requirement held."""
        return all(self.checks.values())

    def failures(self) -> list[str]:
        """The requirements that did not hold."""
        return [what for what, held in self.checks.items() if not held]


def _seconds(value: float | None) -> str:
    return "not drained" if value is None or math.isnan(value) else f"{value:.1f} s"


def table(results: list[Result]) -> str:
    """A Markdown table: scenario, acknowledged, scored, duplicates, 5xx, drain time, verdict."""
    columns = "scenario | store | acknowledged | scored | duplicates | 5xx | drain time | result"
    lines = [
        f"| {columns} | notes |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        verdict = "pass" if r.passed else "FAIL: " + "; ".join(r.failures())
        lines.append(
            f"| {r.scenario} | {r.backend} | {r.acknowledged} | {r.scored} | {r.duplicates} "
            f"| {r.http_5xx} | {_seconds(r.drain_s)} | {verdict} | {'; '.join(r.notes)} |"
        )
    return "\n".join(lines)


MARKER = "<!-- make faults writes below this line -->"


def write_report(path: Path, results: list[Result], *, command: str) -> None:
    """Replace what follows `MARKER` in docs/reliability.md with this run's table."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = path.read_text() if path.exists() else f"# Reliability\n\n{MARKER}\n"
    head = text.split(MARKER)[0] if MARKER in text else text.rstrip() + "\n\n"
    path.write_text(f"{head}{MARKER}\n\n`{command}`, {when}:\n\n{table(results)}\n")
