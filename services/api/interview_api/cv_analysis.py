"""Reading a CV: its text (PDF or plain text), then skills found by an offline taxonomy.

Each skill comes with its evidence (the sentences that name it) and the years of experience
the CV states for it, if it does ("5 years of Python", "Kafka (3+ years)"). Matching is by
word boundaries on a small curated taxonomy of canonical names and aliases, so "Go" must
stand alone and "C++" is not "C". Pure functions, no network.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

TAXONOMY: dict[str, tuple[str, ...]] = {
    "python": ("python",),
    "java": ("java",),
    "go": ("golang", "go"),
    "rust": ("rust",),
    "c++": ("c++", "cpp"),
    "c#": ("c#", ".net", "dotnet"),
    "javascript": ("javascript", "js", "node.js", "nodejs"),
    "typescript": ("typescript",),
    "react": ("react", "react.js"),
    "sql": ("sql",),
    "postgresql": ("postgresql", "postgres"),
    "mysql": ("mysql",),
    "mongodb": ("mongodb", "mongo"),
    "redis": ("redis",),
    "kafka": ("kafka", "apache kafka"),
    "rabbitmq": ("rabbitmq",),
    "docker": ("docker",),
    "kubernetes": ("kubernetes", "k8s"),
    "aws": ("aws", "amazon web services"),
    "gcp": ("gcp", "google cloud"),
    "azure": ("azure",),
    "terraform": ("terraform",),
    "linux": ("linux",),
    "git": ("git",),
    "ci/cd": ("ci/cd", "continuous integration", "github actions", "jenkins"),
    "microservices": ("microservices", "microservice"),
    "distributed systems": ("distributed systems",),
    "concurrency": ("concurrency", "multithreading", "multi-threading"),
    "machine learning": ("machine learning", "ml"),
    "pytorch": ("pytorch",),
    "fastapi": ("fastapi",),
    "django": ("django",),
    "spring": ("spring boot", "spring"),
    "graphql": ("graphql",),
    "rest": ("rest", "restful"),
    "system design": ("system design",),
    "leadership": ("team lead", "tech lead", "led a team", "leadership"),
}
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_YEARS = r"(\d{1,2})\s*\+?\s*(?:years?|yrs?)"
MAX_EVIDENCE = 3


def _alias_pattern(alias: str) -> re.Pattern[str]:
    # Word boundaries that also hold around symbols (c++, c#, ci/cd, .net).
    return re.compile(rf"(?<![\w+#]){re.escape(alias)}(?![\w+#])", re.IGNORECASE)


_PATTERNS = {skill: [_alias_pattern(a) for a in aliases] for skill, aliases in TAXONOMY.items()}


@dataclass
class SkillFinding:
    """One skill of a CV."""

    evidence: list[str] = field(default_factory=list)
    years: int | None = None

    def as_json(self) -> dict[str, object]:
        """The skill as `candidate.cv_analyzed` carries it."""
        return {"evidence": self.evidence, "years": self.years}


class CvUnreadableError(ValueError):
    """The file is not a readable PDF or UTF-8 text."""


def cv_text(data: bytes, *, pdf: bool) -> str:
    """The CV's text: every page of a PDF, or the file decoded as UTF-8."""
    if not pdf:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CvUnreadableError("the text file is not UTF-8") from exc
    # Imported here: pypdf is half a second of every gateway start, and few requests are CVs.
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise CvUnreadableError(f"the PDF cannot be read: {type(exc).__name__}") from exc


def _years_in(sentence: str, match: re.Match[str]) -> int | None:
    """Years stated next to the skill in one sentence: "Kafka (3+ years)", "5 years of X"."""
    after = sentence[match.end() :]
    if found := re.match(r"[\s(:,-]{0,4}" + _YEARS, after, re.IGNORECASE):
        return int(found.group(1))
    before = sentence[: match.start()]
    gap = r"(?:\s+(?:of|in|with|using|experience))+\s+(?:[\w#+.-]+\s+)?$"
    if found := re.search(_YEARS + gap, before, re.IGNORECASE):
        return int(found.group(1))
    return None


def extract_skills(text: str) -> dict[str, SkillFinding]:
    """The taxonomy's skills the text names, with evidence and stated years."""
    findings: dict[str, SkillFinding] = {}
    for raw in _SENTENCE.findall(text.replace("\x00", "")):
        sentence = " ".join(raw.split())
        if not sentence:
            continue
        for skill, patterns in _PATTERNS.items():
            match = next((m for p in patterns if (m := p.search(sentence))), None)
            if match is None:
                continue
            finding = findings.setdefault(skill, SkillFinding())
            if len(finding.evidence) < MAX_EVIDENCE and sentence not in finding.evidence:
                finding.evidence.append(sentence[:300])
            years = _years_in(sentence, match)
            if years is not None:
                finding.years = max(finding.years or 0, years)
    return dict(sorted(findings.items()))
