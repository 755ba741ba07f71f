"""Names every service shows people, written once: notifications, the wall and the signed-link
page must call an alert the same thing (they had drifted: "呼叫按钮" in a message, "一键呼叫"
on the wall for the same alert)."""

from __future__ import annotations

from eldercare.models import AlertKind

#: Where a home is when the registry does not say (the product serves homes in China, which
#: keeps no daylight saving time).
DEFAULT_TIMEZONE = "Asia/Shanghai"

#: Each alert kind's name, (zh-CN, en).
ALERT_KIND_NAMES: dict[AlertKind, tuple[str, str]] = {
    AlertKind.CALL_BUTTON: ("一键呼叫", "Call button"),
    AlertKind.FALL: ("跌倒", "Fall"),
    AlertKind.INACTIVITY: ("长时间无活动", "No activity"),
    AlertKind.NO_WAKE_UP: ("未按时起床", "Not up at the usual time"),
    AlertKind.BATHROOM_TOO_LONG: ("卫生间停留过久", "Too long in the bathroom"),
    AlertKind.NIGHT_WANDERING: ("夜间外出", "Night wandering"),
    AlertKind.DOOR_LEFT_OPEN: ("门未关", "Door left open"),
    AlertKind.SMOKE: ("烟雾", "Smoke"),
    AlertKind.GAS: ("燃气泄漏", "Gas"),
    AlertKind.WATER_LEAK: ("漏水", "Water leak"),
    AlertKind.TEMPERATURE: ("室温异常", "Temperature out of range"),
    AlertKind.DEVICE_OFFLINE: ("设备离线", "Device offline"),
    AlertKind.HOME_OFFLINE: ("家庭网关离线", "Home offline"),
    AlertKind.BATTERY_LOW: ("电量低", "Battery low"),
    AlertKind.SYSTEM: ("系统故障", "System fault"),
}

#: A report month, ``YYYY-MM``, within the years the calendar arithmetic can handle (a month
#: is widened by a day at each end; year 0 or 9999 would overflow ``datetime``).
MONTH_PATTERN = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$"
