"""Every label comes from the catalogue: no text in templates or scripts, no missing keys."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboards.i18n import MESSAGES, catalogue, pick_language

DASHBOARDS = Path(__file__).resolve().parents[1] / "dashboards"
TEMPLATES = sorted((DASHBOARDS / "templates").glob("*.html"))
SCRIPTS = sorted((DASHBOARDS / "static").glob("*.js"))
WORDS = re.compile(r"[A-Za-z\u3400-\u9fff]")
CJK = re.compile(r"[\u3400-\u9fff]")


def visible_text(template: str) -> str:
    """What a reader would see if no Jinja expression produced anything."""
    text = re.sub(r"{#.*?#}|{%.*?%}|{{.*?}}", " ", template, flags=re.S)
    text = re.sub(r"<(script|style|template)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<!doctype[^>]*>", " ", text, flags=re.I)
    return re.sub(r"<[^>]*>", " ", text)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_templates_hold_no_hard_coded_text(path: Path) -> None:
    source = path.read_text()
    leftover = " ".join(visible_text(source).split())
    # Punctuation and numbers may stand between labels; words may not.
    assert not WORDS.search(leftover), f"{path.name}: {leftover!r}"
    attributes = re.findall(r'(?:title|placeholder|alt|aria-label)="([^"]*)"', source)
    assert not [a for a in attributes if WORDS.search(re.sub(r"{{.*?}}", "", a))]


@pytest.mark.parametrize("path", TEMPLATES + SCRIPTS, ids=lambda p: p.name)
def test_every_label_used_exists_in_both_languages(path: Path) -> None:
    source = path.read_text()
    found = re.findall(r'(?<![\w.])t\["([a-z_.]+)"\]|(?<![\w.])t\.([a-z_]+)\b', source)
    keys = {a or b for a, b in found} | set(re.findall(r'label\("([a-z_.]+)"', source))
    keys = {key for key in keys if not key.endswith(".")}  # prefixes of run-time keys
    for lang in MESSAGES:
        assert keys <= MESSAGES[lang].keys(), (path.name, lang, keys - MESSAGES[lang].keys())
    assert not CJK.search(source) or path.suffix == ".html"


def test_dynamic_label_families_are_complete() -> None:
    """Keys built at run time (severity.X, status.X, kind.X…) exist for every enum member."""
    from alerting.api import VisitMode, VisitOutcome
    from dashboards.schemas import HomeModeName, Outcome, ResponseState
    from eldercare.models import AlertKind, AlertStatus, EventType, Severity, WellbeingTrend

    families = {
        "severity": Severity,
        "status": AlertStatus,
        "kind": AlertKind,
        "outcome": Outcome,
        "response": ResponseState,
        "mode": HomeModeName,
        "event": EventType,
        "trend": WellbeingTrend,
        "visits.mode": VisitMode,
        "visits.outcome": VisitOutcome,
    }
    for prefix, enum in families.items():
        for member in enum:
            for lang in MESSAGES:
                assert f"{prefix}.{member.value}" in MESSAGES[lang], (lang, prefix, member)
    for state in ("online", "partial", "offline", "unknown"):
        assert f"connectivity.{state}" in MESSAGES["en"]


def test_language_choice_defaults_to_chinese() -> None:
    assert pick_language(None, None) == "zh-CN"
    assert pick_language(None, "fr-FR,fr;q=0.9") == "zh-CN"
    assert pick_language(None, "en-US,en;q=0.9") == "en"
    assert pick_language("zh-CN", "en-US") == "zh-CN"
    assert catalogue("en")["title"] == "Station alert wall"
    assert catalogue("xx")["title"] == "驿站告警墙"
