"""The message catalogue: every label shown to a person, Chinese first, English second.

Templates and scripts never hard-code text (``tests/test_dashboard_i18n.py`` checks it);
they look up keys here, and a key missing in one language falls back to the other so a
page never shows a blank.
"""

from __future__ import annotations

from collections.abc import Mapping

from eldercare.vocabulary import ALERT_KIND_NAMES

DEFAULT_LANG = "zh-CN"
LANGS = ("zh-CN", "en")

_PAIRS: dict[str, tuple[str, str]] = {
    # Frame and navigation
    "app_name": ("居家安全守护", "Eldercare"),
    "title": ("驿站告警墙", "Station alert wall"),
    "nav.wall": ("告警墙", "Alert wall"),
    "nav.homes": ("住户总览", "Homes"),
    "switch_lang": ("English", "中文"),
    "logout": ("退出登录", "Log out"),
    "connected": ("实时连接", "Live"),
    "disconnected": ("连接中断，正在重连…", "Disconnected, reconnecting…"),
    "back": ("返回", "Back"),
    "save": ("保存", "Save"),
    "unknown": ("未知", "unknown"),
    "none": ("无", "none"),
    "error": ("操作失败", "That did not work"),
    "not_found": ("未找到，或您无权查看", "Not found, or not yours to see"),
    # Login
    "docs.title": ("接口文档", "API documentation"),
    "login.title": ("登录", "Log in"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.failed": ("用户名或密码错误", "Wrong username or password"),
    "login.throttled": (
        "登录失败次数过多，请 {minutes} 分钟后再试，或联系管理员",
        "Too many failed logins; try again in {minutes} minutes, or ask an administrator",
    ),
    # Wall
    "no_alerts": ("暂无告警", "No alerts"),
    "wall.who": ("老人 · 地址", "Resident · address"),
    "wall.what": ("告警", "Alert"),
    "wall.since": ("发生", "Since"),
    "wall.going": ("赶去", "Going"),
    "wall.on_site": ("到场", "On site"),
    "wall.resolve": ("结案…", "Resolve…"),
    "age": ("{n} 岁", "age {n}"),
    "ago": ("{d}前", "{d} ago"),
    "relative": ("家属", "Relative"),
    "cancel": ("取消", "Cancel"),
    "new_critical": ("新的紧急告警！", "New critical alert!"),
    "home": ("住户", "Home"),
    "kind": ("类型", "Kind"),
    "severity": ("级别", "Severity"),
    "status": ("状态", "Status"),
    "raised_at": ("发生时间", "Raised at"),
    "elapsed": ("已过去", "Elapsed"),
    "handler": ("处理人", "Handled by"),
    "actions": ("操作", "Actions"),
    "acknowledged_by": ("确认人", "Acknowledged by"),
    "acknowledged_at": ("确认时间", "Acknowledged at"),
    "acknowledge": ("确认处理", "Acknowledge"),
    "resolve": ("结案", "Resolve"),
    "details": ("详情", "Details"),
    "note": ("备注", "Note"),
    "outcome": ("处理结果", "Outcome"),
    "on_the_way": ("我正在赶去", "I am on the way"),
    "on_site": ("我已到场", "I am on site"),
    "response.on_the_way": ("正在赶往", "on the way"),
    "response.on_site": ("已到场", "on site"),
    "outcome.helped_at_home": ("已上门协助", "Helped at home"),
    "outcome.false_alarm": ("误报", "False alarm"),
    "outcome.hospital": ("已送医", "Taken to hospital"),
    "outcome.no_action_needed": ("无需处理", "No action needed"),
    "outcome.other": ("其他", "Other"),
    "outcome.recovered": ("已自行恢复", "Recovered by itself"),
    "severity.critical": ("紧急", "Critical"),
    "severity.high": ("高", "High"),
    "severity.medium": ("中", "Medium"),
    "severity.low": ("低", "Low"),
    "status.open": ("待处理", "Open"),
    "status.notified": ("已通知", "Notified"),
    "status.escalated": ("已升级", "Escalated"),
    "status.acknowledged": ("已确认", "Acknowledged"),
    "status.resolved": ("已解决", "Resolved"),
    "status.expired": ("已过期", "Expired"),
    # Alert page
    "alert.title": ("告警详情", "Alert"),
    "timeline": ("处理经过", "Timeline"),
    "evidence": ("触发依据", "Evidence"),
    "device": ("设备", "Device"),
    "actor": ("操作人", "By"),
    "channel": ("渠道", "Channel"),
    "at": ("时间", "Time"),
    "responses": ("出动情况", "Who is going"),
    "sensors_hour_before": ("告警前一小时的传感器记录", "Sensors in the hour before"),
    "sensors_quiet": ("告警前一小时内没有传感器事件", "No sensor events in the hour before"),
    "event.motion": ("有人活动", "motion"),
    "event.no_motion": ("无人活动", "no motion"),
    "event.door_open": ("开门", "door opened"),
    "event.door_close": ("关门", "door closed"),
    "event.bed_occupied": ("上床", "in bed"),
    "event.bed_empty": ("离床", "out of bed"),
    "event.chair_occupied": ("坐下", "sat down"),
    "event.chair_empty": ("起身", "got up"),
    "event.toilet_flush": ("冲厕", "toilet flush"),
    "event.call_button": ("按下呼叫按钮", "call button pressed"),
    "event.cancel_button": ("按下取消按钮", "cancel pressed"),
    "event.fall_suspected": ("疑似跌倒", "fall suspected"),
    "event.smoke": ("烟雾", "smoke"),
    "event.gas": ("燃气", "gas"),
    "event.water_leak": ("漏水", "water leak"),
    "event.heartbeat": ("心跳", "heartbeat"),
    # Timeline: who took a step, where, and alerting's own notes (``alerting/notes.py``)
    "actor.detector": ("检测服务", "Detector"),
    "actor.alerting": ("告警服务", "Alerting service"),
    "actor.gateway": ("网关服务", "Gateway"),
    "actor.dashboard": ("看板服务", "Dashboard"),
    "actor.family": ("（家属）", " (family)"),
    "channel.dashboard": ("看板", "dashboard"),
    "channel.link": ("消息中的确认链接", "link in a message"),
    "channel.family_link": ("家属页面", "family page"),
    "channel.watch": ("系统监测", "system watch"),
    "target.station": ("驿站值班人员", "station staff"),
    "target.technician": ("驿站技术员", "the technician"),
    "target.family": ("家属", "family"),
    "target.centre": ("区域服务中心", "the service centre"),
    "target.emergency": ("紧急救援", "emergency services"),
    "target.operators": ("系统运维", "operators"),
    "duration.s": ("{n} 秒", "{n} s"),
    "duration.min": ("{n} 分钟", "{n} min"),
    "duration.h": ("{n} 小时", "{n} h"),
    "list_sep": ("、", ", "),
    "note.trigger_attached": ("再次触发，已并入本告警", "Triggered again; added to this alert"),
    "note.trigger_attached_raised": (
        "再次触发，已并入本告警；级别由“{severity_from}”升为“{severity_to}”",
        "Triggered again; added to this alert and raised from {severity_from} to {severity_to}",
    ),
    "note.tier_first": ("已通知{target}：{names}", "Notified {target}: {names}"),
    "note.tier_escalated": (
        "无人确认，告警后 {late} 升级通知{target}：{names}",
        "Nobody acknowledged; {late} after the alert, escalated to {target}: {names}",
    ),
    "note.tier_nobody": (
        "告警后 {late}，{target}无人可通知，立即通知下一级",
        "{late} after the alert: nobody to notify among {target}, so the next tier is asked now",
    ),
    "note.not_expired": (
        "告警后 {late} 仍未联系上任何人，告警保持待处理",
        "Still open after {late}: nobody has been reached yet",
    ),
    "note.expired": (
        "告警后 {late} 无人确认，已过期（已通知：{names}）；再次触发将产生新告警",
        "Expired after {late}: nobody acknowledged although {names} were told; "
        "the next trigger opens a new alert",
    ),
    "note.delivered": (
        "已送达{name}（{channel}，第 {tries} 次发送）",
        "Delivered to {name} via {channel} (try {tries})",
    ),
    "note.told_taken": (
        "已告知{name}：已有人处理（{channel}，第 {tries} 次发送）",
        "Told {name} that someone has it, via {channel} (try {tries})",
    ),
    "note.not_needed": ("未发给{name}：已无需通知", "Not sent to {name}: no longer needed"),
    "note.unreachable": (
        "发送 {tries} 次仍联系不上{name}，立即通知下一级（{error}）",
        "Could not reach {name} after {tries} tries; the next tier is asked now ({error})",
    ),
    "note.retrying": (
        "未能联系上{name}（第 {tries} 次），{wait} 后重试（{error}）",
        "Could not reach {name} (try {tries}); trying again in {wait} ({error})",
    ),
    "note.service_online": ("{service}已重新上线", "{service} is back online"),
    "note.service_processing": ("{service}已恢复处理", "{service} is processing again"),
    # Homes
    "homes.title": ("住户总览", "Homes"),
    "connectivity": ("联网", "Connection"),
    "connectivity.online": ("在线", "online"),
    "connectivity.partial": ("部分离线", "partly offline"),
    "connectivity.offline": ("离线", "offline"),
    "connectivity.unknown": ("未知", "unknown"),
    "battery": ("电池", "Battery"),
    "battery_ok": ("正常", "ok"),
    "last_activity": ("最近活动", "Last activity"),
    "open_alerts": ("未结告警", "Open alerts"),
    "mode": ("状态", "Status"),
    "mode.home": ("在家", "At home"),
    "mode.away": ("外出", "Away"),
    "mode.hospital": ("住院", "In hospital"),
    "mode.until": ("直到", "until"),
    "mode.until_changed": ("直到更改", "until changed"),
    "mode.set": ("设置外出 / 住院", "Set away / in hospital"),
    "mode.set_by": ("设置人", "set by"),
    "no_homes": ("暂无住户", "No homes"),
    # Home page
    "home.title": ("住户详情", "Home"),
    "home.day": ("今日概况", "Today"),
    "home.address": ("地址", "Address"),
    "residents": ("老人", "Residents"),
    "birth_year": ("出生年份", "Born"),
    "care_notes": ("照护要点", "Care notes"),
    "contacts": ("联系人及通知顺序", "Contacts and escalation order"),
    "escalation.station": ("驿站值班人员", "Station staff on duty"),
    "escalation.centre": ("区域服务中心", "Regional service centre"),
    "devices": ("设备", "Devices"),
    "room": ("房间", "Room"),
    "last_seen": ("最后上报", "Last seen"),
    "alerts_open": ("未结告警", "Open alerts"),
    "alerts_past": ("历史告警", "Past alerts"),
    "day_hint": (
        "按房间显示传感器看到的活动（保留 8 天，看板重启后仍在）；安静时不推测位置。",
        "Activity per room as the sensors saw it (kept 8 days, also after a dashboard "
        "restart); where nothing moves, the day does not guess.",
    ),
    "day.alerts": ("告警", "Alerts"),
    "day.sleep": ("睡眠", "Sleep"),
    "day.sleep.bed": ("床垫传感器", "bed sensor"),
    "day.sleep.bedroom": ("卧室无动静", "quiet in the bedroom"),
    "day.bathroom": ("如厕次数", "Bathroom visits"),
    "day.minutes": ("分钟", "min"),
    "day.none": ("今天还没有活动记录", "No activity recorded today"),
    "day.truncated": (
        "今天事件过多，只显示最近的部分",
        "Too many events today; only the latest are shown",
    ),
    "room.bedroom": ("卧室", "Bedroom"),
    "room.bathroom": ("卫生间", "Bathroom"),
    "room.kitchen": ("厨房", "Kitchen"),
    "room.living_room": ("客厅", "Living room"),
    "room.hall": ("门厅", "Hall"),
    "room.entrance": ("玄关", "Entrance"),
    "room.balcony": ("阳台", "Balcony"),
    "device_kind.hub": ("网关", "Hub"),
    "device_kind.motion": ("人体感应器", "Motion sensor"),
    "device_kind.door": ("门磁", "Door sensor"),
    "device_kind.bed": ("床垫传感器", "Bed sensor"),
    "device_kind.bed_pressure": ("床垫传感器", "Bed sensor"),
    "device_kind.chair_pressure": ("坐垫传感器", "Chair sensor"),
    "device_kind.toilet_flush": ("冲水传感器", "Flush sensor"),
    "device_kind.smoke": ("烟雾报警器", "Smoke alarm"),
    "device_kind.gas": ("燃气报警器", "Gas alarm"),
    "device_kind.water_leak": ("水浸传感器", "Water leak sensor"),
    "device_kind.temperature_humidity": ("温湿度计", "Thermometer"),
    "device_kind.pendant": ("随身报警器", "Pendant"),
    "device_kind.call_button": ("呼叫按钮", "Call button"),
    "relation.son": ("儿子", "Son"),
    "relation.daughter": ("女儿", "Daughter"),
    "relation.child": ("子女", "Child"),
    "relation.spouse": ("配偶", "Spouse"),
    "relation.wife": ("妻子", "Wife"),
    "relation.husband": ("丈夫", "Husband"),
    "relation.grandchild": ("孙辈", "Grandchild"),
    "relation.niece": ("侄女", "Niece"),
    "relation.nephew": ("侄子", "Nephew"),
    "relation.sibling": ("兄弟姐妹", "Sibling"),
    "relation.neighbour": ("邻居", "Neighbour"),
    "relation.friend": ("朋友", "Friend"),
    "relation.carer": ("护工", "Carer"),
    # Family
    "family.title": ("家人平安", "Is everyone OK"),
    "family.ok": ("今天一切正常", "All is well today"),
    "family.attention": ("需要关注", "Needs attention"),
    "family.no_activity": ("今天还没有活动记录", "No activity heard today"),
    "family.away": ("不在家", "Not at home"),
    "family.last_activity": ("最近一次活动", "Last activity"),
    "family.alerts": ("告警", "Alerts"),
    "family.no_alerts": ("今天没有告警", "No alerts today"),
    "family.ack": ("我知道了，我来处理", "I've got it"),
    "family.acked_by": ("已由 {name} 确认", "Acknowledged by {name}"),
    "family.station_going": ("驿站人员{state}", "Station staff {state}"),
    "family.invalid": ("链接无效", "This link is not valid"),
    "family.revoke": ("撤销家属链接", "Revoke family links"),
    "family.revoke_confirm": (
        "此前发给该家属的所有链接将立即失效，确定吗？",
        "Every link sent to this relative so far stops working now. Continue?",
    ),
    "family.revoked": ("已撤销", "Revoked"),
    "family.expired": (
        "链接已过期，请查看最新消息中的链接",
        "This link has expired; use the newest message",
    ),
    "family.call": ("如需帮助请拨打驿站电话", "If you need help, call the station"),
    # The family's week, from the daily summaries (dashboards/week.py)
    "week.title": ("这一周", "This week"),
    "week.none": ("这一周的记录还不够，过几天再看", "Not enough of this week recorded yet"),
    "week.sleep": ("大多数晚上睡了约 {h} 小时", "Slept about {h} h most nights"),
    "week.night_up": ("夜里起来约 {n} 次", "Up about {n} times a night"),
    "week.night_up_none": ("夜里基本不起夜", "Hardly up at night"),
    "week.more_than_usual": ("，比平时多", ", more than usual"),
    "week.fewer_than_usual": ("，比平时少", ", fewer than usual"),
    "week.wake": ("早上一般 {time} 起床", "Usually up at {time}"),
    "week.later_than_usual": ("，比平时晚", ", later than usual"),
    "week.meals": ("每天约有 {n} 顿饭在厨房做或吃", "About {n} meals a day in the kitchen"),
    "week.outings": ("这周出门 {n} 次", "Went out {n} times this week"),
    # Wellbeing notices (alerting/trends.py says the sentence; these name the trend)
    "trend.night_bathroom_up": ("夜间如厕增多", "More night-time toilet visits"),
    "trend.activity_down": ("活动减少", "Less activity at home"),
    "trend.wake_later": ("起床变晚", "Getting up later"),
    "trend.meals_skipped": ("做饭进食减少", "Meals skipped"),
    "trend.outings_down": ("外出减少", "Fewer outings"),
    "trend.in_bed_up": ("卧床时间变长", "More time in bed"),
    "notices.title": ("关怀提示", "Wellbeing notices"),
    "notices.none": ("没有未处理的关怀提示", "No open wellbeing notices"),
    "notices.chart": (
        "每日数值：此前 3 周与近 5 天",
        "Each day: the 3 weeks before and the last 5 days",
    ),
    # Visiting list (探访) and its monthly coverage
    "nav.visits": ("今日探访", "Visits today"),
    "nav.coverage": ("探访覆盖", "Visit coverage"),
    "visits.title": ("今日探访名单", "Visiting list for today"),
    "visits.hint": (
        "按风险排序：关怀提示、距上次探访或通话的天数、近期告警及结果、传感器离线。"
        "记录探访或电话后，该户会下移。",
        "Ordered by risk: wellbeing notices, days since the last visit or call, recent "
        "alerts and how they ended, sensors offline. Record a visit or call and the home "
        "moves down.",
    ),
    "visits.none": ("名单为空", "Nobody on the list"),
    "visits.score": ("风险分", "Risk"),
    "visits.reasons": ("原因", "Why"),
    "visits.last_contact": ("上次联系", "Last contact"),
    "visits.never": ("从未", "never"),
    "visits.record": ("记录探访 / 电话", "Record a visit or call"),
    "visits.recorded": ("已记录", "Recorded"),
    "visits.mode": ("方式", "How"),
    "visits.mode.in_person": ("上门", "In person"),
    "visits.mode.phone": ("电话", "Phone"),
    "visits.outcome": ("结果", "Outcome"),
    "visits.outcome.well": ("一切安好", "Well"),
    "visits.outcome.concern": ("有担忧，需跟进", "Concern, follow up"),
    "visits.outcome.not_reached": ("未联系上", "Not reached"),
    "visits.at": ("时间", "When"),
    "visits.by": ("探访人", "By"),
    "visits.history": ("探访与电话记录", "Visits and calls"),
    "visits.reason.notice": ("关怀提示：{trend}", "Wellbeing notice: {trend}"),
    "visits.reason.never": ("尚无探访或电话记录", "Never visited or called"),
    "visits.reason.days": ("已 {n} 天未探访或通话", "{n} days since the last visit or call"),
    "visits.reason.concern": ("上次联系有担忧（{date}）", "Concern at the last contact ({date})"),
    "visits.reason.alert": (
        "近期告警：{kind}，{outcome}（{date}）",
        "Recent alert: {kind}, {outcome} ({date})",
    ),
    "visits.reason.more_alerts": ("另有 {n} 条近期告警", "{n} more recent alerts"),
    "visits.reason.offline": ("{n} 个传感器离线", "{n} sensor(s) offline"),
    "visits.alert_open": ("未结案", "not resolved"),
    "coverage.title": ("月度探访覆盖", "Monthly visit coverage"),
    "coverage.month": ("月份", "Month"),
    "coverage.station": ("驿站", "Station"),
    "coverage.homes": ("住户数", "Homes"),
    "coverage.reached": ("已联系住户", "Homes reached"),
    "coverage.share": ("覆盖率", "Coverage"),
    "coverage.in_person": ("上门次数", "Visits in person"),
    "coverage.phone": ("电话次数", "Calls"),
    "coverage.not_reached": ("未联系上次数", "Not reached"),
    "coverage.unreached": ("本月尚未联系", "Not reached this month"),
    "coverage.show": ("查看", "Show"),
    "coverage.none": ("没有住户", "No homes"),
    # The signed acknowledgement link's page (opened from an SMS, e-mail or chat message)
    "ack.confirm.heading": ("由您来处理这条告警吗？", "Will you take this alert?"),
    "ack.confirm.text": (
        "确认后，其他人的通知和后续升级会立即停止。",
        "Once you confirm, everyone else's notifications and further escalation stop at once.",
    ),
    "ack.done.heading": ("已确认，由您负责", "Acknowledged: you are responsible now"),
    "ack.done.text": (
        "其他通知已停止，老人家中的终端会显示有人正在赶来。",
        "Other notifications have stopped; the resident's terminal says that help is coming.",
    ),
    "ack.already.heading": ("这条告警已有人处理", "Someone has already taken this alert"),
    "ack.already.text": ("无需再确认。", "Nothing more to do here."),
    "ack.already.by": ("已由 {by} 负责。", "{by} took it."),
    "ack.expired.heading": ("链接已过期", "This link has expired"),
    "ack.expired.text": (
        "未确认任何告警。请打开值班大屏或致电驿站。",
        "Nothing was acknowledged. Open the dashboard or call the station.",
    ),
    "ack.invalid.heading": ("链接无效", "This link is not valid"),
    "ack.invalid.text": (
        "链接被修改或不完整，未确认任何告警。请打开值班大屏或致电驿站。",
        "It was altered or is incomplete; nothing was acknowledged. "
        "Open the dashboard or call the station.",
    ),
    "ack.missing.heading": ("告警不存在", "No such alert"),
    "ack.missing.text": ("未确认任何告警。", "Nothing was acknowledged."),
    "ack.unavailable.heading": ("暂时无法确认", "Cannot acknowledge here"),
    "ack.unavailable.text": (
        "服务器未配置签名密钥。请打开值班大屏。",
        "The server has no signing key. Use the dashboard.",
    ),
    "ack.what": ("告警", "Alert"),
    "ack.where": ("地点", "Where"),
    "ack.since": ("时间", "Since"),
    "ack.button": ("我来处理", "I'm on it"),
}
# Alert kinds: the contract's one table, as the notifications name them.
_PAIRS.update({f"kind.{kind.value}": names for kind, names in ALERT_KIND_NAMES.items()})

MESSAGES: dict[str, dict[str, str]] = {
    "zh-CN": {key: pair[0] for key, pair in _PAIRS.items()},
    "en": {key: pair[1] for key, pair in _PAIRS.items()},
}


def pick_language(requested: str | None, accept_language: str | None) -> str:
    """An explicit choice wins, then the browser's first preference, then Chinese."""
    for candidate in (requested, *(accept_language or "").split(",")):
        if not candidate:
            continue
        tag = candidate.split(";")[0].strip().lower()
        for lang in LANGS:
            if tag == lang.lower() or tag.split("-")[0] == lang.split("-")[0].lower():
                return lang
    return DEFAULT_LANG


def name_of(messages: dict[str, str], family: str, value: str | None) -> str:
    """A registry word in the reader's language: ``kind``/``room``/``relation`` values are
    free text, written as a key (``living_room``) or in either language (``儿子``); what
    the catalogue knows is translated, anything else is shown as it was written."""
    if not value:
        return ""
    label = messages.get(f"{family}.{value}")
    if label is not None:
        return label
    for key in _BY_LABEL.get(value, ()):
        if key.startswith(f"{family}."):
            return messages[key]
    return value


def say(
    messages: dict[str, str],
    key: str,
    args: Mapping[str, object] | None = None,
    words: Mapping[str, str] | None = None,
) -> str:
    """A catalogue sentence with its ``{placeholders}`` filled: ``args`` as they are (numbers,
    times), ``words`` looked up as labels first (a trend, an alert kind, an outcome), so a
    sentence built in Python is still said in the reader's language."""
    labels = {name: messages.get(label, label) for name, label in (words or {}).items()}
    return messages.get(key, key).format(**(args or {}), **labels)


#: Every label back to its keys, for registry words written as a label (``儿子``).
_BY_LABEL: dict[str, list[str]] = {}
for _key, _pair in _PAIRS.items():
    for _label in {_pair[0], _pair[1], _pair[1].lower()}:
        _BY_LABEL.setdefault(_label, []).append(_key)


def catalogue(lang: str) -> dict[str, str]:
    """All labels for ``lang``, each missing one filled from the other language."""
    lang = lang if lang in MESSAGES else DEFAULT_LANG
    other = next(candidate for candidate in LANGS if candidate != lang)
    return {**MESSAGES[other], **MESSAGES[lang]}
