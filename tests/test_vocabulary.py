"""One name per alert kind: the wall, the notification and the signed-link page agree; one
word per stored state."""

from __future__ import annotations

from alerting import leases
from alerting.messages import KIND_NAMES
from dashboards.i18n import MESSAGES
from eldercare.db.models import NotificationPurpose, NotificationStatus, TimerStatus
from eldercare.models import AlertKind


def test_the_wall_and_the_notifications_name_each_alert_kind_alike() -> None:
    for kind in AlertKind:
        zh, en = KIND_NAMES[kind]
        assert MESSAGES["zh-CN"][f"kind.{kind.value}"] == zh
        assert MESSAGES["en"][f"kind.{kind.value}"] == en


def test_timer_and_notification_states_keep_the_words_already_stored() -> None:
    """The enums name words that databases hold: changing one needs a migration."""
    assert [*map(str, TimerStatus)] == ["pending", "fired", "cancelled"]
    assert [*map(str, NotificationStatus)] == ["pending", "sent", "failed", "cancelled"]
    assert [*map(str, NotificationPurpose)] == ["alert", "taken"]
    # one lease query serves both tables' waiting rows
    assert TimerStatus.PENDING == NotificationStatus.PENDING == leases.PENDING
