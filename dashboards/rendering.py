"""Page rendering: the Jinja2 environment, the language choice, and time formatting.

Times are stored in UTC and shown in the home's own timezone (a station and its homes share
one), so "08:14" on the wall is the time on the resident's kitchen clock.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from dashboards.i18n import LANGS, catalogue, name_of, pick_language, say
from dashboards.principal import Principal
from dashboards.timeline import actor_text
from eldercare.vocabulary import DEFAULT_TIMEZONE

TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))
LANG_COOKIE = "eldercare_lang"
DEFAULT_TZ = DEFAULT_TIMEZONE


def local_time(value: datetime | None, fmt: str = "%m-%d %H:%M", tz: str = DEFAULT_TZ) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


def day_position(value: datetime, now: datetime, tz: str = DEFAULT_TZ) -> float | None:
    """Where ``value`` falls on today's 24-hour strip (percent), in the home's own day;
    None when it happened on another day."""
    zone = ZoneInfo(tz)
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    share = (value - midnight).total_seconds() / 86400
    return round(share * 100, 2) if 0 <= share <= 1 else None


def day_extent(start: datetime, end: datetime, now: datetime, tz: str = DEFAULT_TZ) -> str:
    """CSS ``left``/``width`` of a span on today's strip, cut at midnight at both ends (a
    night's sleep starts the evening before)."""
    zone = ZoneInfo(tz)
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    left, right = (
        min(max((moment - midnight).total_seconds() / 864, 0.0), 100.0) for moment in (start, end)
    )
    return f"left: {left:.2f}%; width: {right - left:.2f}%"


TEMPLATES.env.filters["local"] = local_time
TEMPLATES.env.globals["day_position"] = day_position
TEMPLATES.env.globals["day_extent"] = day_extent
TEMPLATES.env.globals["timezone"] = DEFAULT_TZ


def chosen_language(request: Request, principal: Principal | None = None) -> str:
    """``?lang=`` wins, then the remembered choice, then the user's, then the browser's."""
    explicit = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if explicit in LANGS:
        return explicit
    preferred = principal.language if principal else None
    return pick_language(preferred, request.headers.get("accept-language"))


def render(
    request: Request,
    template: str,
    principal: Principal | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang = chosen_language(request, principal)
    messages = catalogue(lang)
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "other_lang": next(other for other in LANGS if other != lang),
            "t": messages,
            # registry words (``word("room", "living_room")``) and who did something
            "word": partial(name_of, messages),
            "who": partial(actor_text, messages),
            # a catalogue sentence with its placeholders filled (``say(reason.key, ...)``)
            "say": partial(say, messages),
            "principal": principal,
            **context,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response
