"""One name per alert kind: the wall, the notification and the signed-link page agree."""

from __future__ import annotations

from alerting.messages import KIND_NAMES
from dashboards.i18n import MESSAGES
from eldercare.models import AlertKind


def test_the_wall_and_the_notifications_name_each_alert_kind_alike() -> None:
    for kind in AlertKind:
        zh, en = KIND_NAMES[kind]
        assert MESSAGES["zh-CN"][f"kind.{kind.value}"] == zh
        assert MESSAGES["en"][f"kind.{kind.value}"] == en
