"""What residents can report at the kiosk: categories and their common problems (S5, S6).

Built for taps: a category (with a Font Awesome 4.7 icon), then a common problem.
Some problems are emergencies (S8): they force urgency "emergency", raise an
emergency escalation in the live queue, and the kiosk shows safety steps for
their hazard at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import InvalidRequest

LANGUAGES = ("zh_CN", "en")


@dataclass(frozen=True)
class Problem:
    key: str
    zh: str
    en: str
    emergency: bool = False
    hazard: str | None = None  # a key of EMERGENCY_INSTRUCTIONS


@dataclass(frozen=True)
class Category:
    key: str
    zh: str
    en: str
    icon: str  # Font Awesome 4.7 glyph name
    kind: str  # 'repair' | 'complaint'
    problems: tuple[Problem, ...]


CATEGORIES: tuple[Category, ...] = (
    Category(
        "water",
        "水管/漏水",
        "Water & plumbing",
        "tint",
        "repair",
        (
            Problem("dripping_tap", "水龙头漏水", "Dripping tap"),
            Problem("blocked_drain", "下水道堵塞", "Blocked drain"),
            Problem("toilet", "马桶故障", "Toilet not working"),
            Problem("no_hot_water", "没有热水", "No hot water"),
            Problem("ceiling_leak", "天花板渗水", "Water coming through the ceiling"),
            Problem("burst_pipe", "大量漏水/爆管", "Burst pipe / major leak", True, "water"),
        ),
    ),
    Category(
        "electrical",
        "电",
        "Electrical",
        "bolt",
        "repair",
        (
            Problem("light_out", "灯不亮", "Light out"),
            Problem("socket", "插座没电", "Socket not working"),
            Problem("power_cut", "停电/跳闸", "Power cut / tripped switch"),
            Problem("smoke", "电器冒烟/起火", "Smoke or fire from wiring", True, "fire"),
        ),
    ),
    Category(
        "elevator",
        "电梯",
        "Elevator",
        "building",
        "repair",
        (
            Problem("out_of_service", "电梯停运", "Elevator out of service"),
            Problem("noise", "电梯异响", "Elevator noise"),
            Problem("door", "电梯门故障", "Elevator door fault"),
            Problem("trapped", "有人被困电梯", "Someone trapped in the elevator", True, "elevator"),
        ),
    ),
    Category(
        "doors",
        "门窗门锁",
        "Doors & locks",
        "lock",
        "repair",
        (
            Problem("lock_broken", "门锁坏了", "Broken lock"),
            Problem("door_stuck", "门关不上/打不开", "Door sticks or will not close"),
            Problem("window", "窗户损坏", "Broken window"),
            Problem("access_card", "门禁卡失灵", "Access card not working"),
        ),
    ),
    Category(
        "public_area",
        "公共区域/保洁",
        "Public area & cleaning",
        "trash",
        "repair",
        (
            Problem("dirty", "公共区域不干净", "Public area not clean"),
            Problem("rubbish", "垃圾未清运", "Rubbish not collected"),
            Problem("corridor_light", "楼道灯坏了", "Corridor light out"),
            Problem("damage", "公共设施损坏", "Damaged facility"),
            Problem("pests", "蟑螂/老鼠", "Pests"),
        ),
    ),
    Category(
        "noise",
        "噪音/邻里",
        "Noise & neighbours",
        "volume-up",
        "complaint",
        (
            Problem("neighbour_noise", "邻居噪音", "Noise from neighbours"),
            Problem("renovation", "装修噪音", "Renovation noise"),
            Problem("pets", "宠物扰民", "Pets"),
            Problem("parking", "乱停车", "Bad parking"),
            Problem("smell", "异味", "Bad smell"),
        ),
    ),
    Category(
        "security",
        "安全",
        "Security",
        "shield",
        "repair",
        (
            Problem("stranger", "可疑人员", "Suspicious person"),
            Problem("door_open", "单元门未关", "Building door left open"),
            Problem("camera", "监控损坏", "Camera broken"),
            Problem("fire", "发现烟雾或火情", "Smoke or fire", True, "fire"),
        ),
    ),
    Category(
        "other",
        "其他",
        "Other",
        "ellipsis-h",
        "repair",
        (Problem("other", "其他问题", "Something else"),),
    ),
)

_BY_KEY = {c.key: c for c in CATEGORIES}

EMERGENCY_INSTRUCTIONS: dict[str, dict[str, list[str]]] = {
    "water": {
        "zh_CN": [
            "如能安全操作，请关闭总水阀。",
            "远离有水的电器和插座。",
            "前台已收到警报，工作人员马上就到。",
        ],
        "en": [
            "If it is safe, turn off the main water valve.",
            "Keep away from wet sockets and appliances.",
            "Reception has the alert; staff are on their way.",
        ],
    },
    "fire": {
        "zh_CN": [
            "立即拨打 119。",
            "走楼梯离开，切勿乘坐电梯。",
            "用湿毛巾捂住口鼻，低姿前进。",
            "前台已收到警报，工作人员马上就到。",
        ],
        "en": [
            "Call 119 now.",
            "Leave by the stairs, never the lift.",
            "Cover your nose and mouth with a wet cloth and stay low.",
            "Reception has the alert; staff are on their way.",
        ],
    },
    "elevator": {
        "zh_CN": [
            "按电梯内的警铃或对讲按钮。",
            "不要强行扒门，保持冷静。",
            "前台已收到警报，正在联系电梯维保。",
        ],
        "en": [
            "Press the alarm or intercom button in the lift.",
            "Do not force the doors open; stay calm.",
            "Reception has the alert and is calling the lift company.",
        ],
    },
}

# Asked when a rating is LOW_RATING or less: why?
LOW_RATING = 3
LOW_RATING_REASONS: tuple[tuple[str, str, str], ...] = (
    ("slow", "响应太慢", "Too slow"),
    ("not_fixed", "问题没解决", "Not fixed"),
    ("attitude", "服务态度不好", "Unfriendly service"),
    ("mess", "现场没清理", "Mess left behind"),
    ("no_update", "没告知进度", "Not kept informed"),
    ("other", "其他", "Other"),
)
REASON_KEYS = tuple(key for key, _zh, _en in LOW_RATING_REASONS)


def category(key) -> Category:
    found = _BY_KEY.get(key) if isinstance(key, str) else None
    if found is None:
        raise InvalidRequest(
            f"未知类别 · Unknown category; choose one of {', '.join(_BY_KEY)}",
        )
    return found


def problem(category_key, problem_key) -> Problem:
    cat = category(category_key)
    for item in cat.problems:
        if item.key == problem_key:
            return item
    raise InvalidRequest(
        f"未知问题 · Unknown problem for {cat.key}; choose one of "
        + ", ".join(p.key for p in cat.problems)
    )


def label(key_path: str, language: str = "zh_CN") -> str:
    """The name of "water" or "water.dripping_tap" in zh_CN or en (unknown keys as given)."""
    if not isinstance(key_path, str):
        return ""
    category_key, _dot, problem_key = key_path.partition(".")
    english = language == "en"
    cat = _BY_KEY.get(category_key)
    if cat is None:
        return key_path
    if not problem_key:
        return cat.en if english else cat.zh
    for item in cat.problems:
        if item.key == problem_key:
            return item.en if english else item.zh
    return key_path


def bilingual(key_path: str) -> str:
    """The name as console pages and messages show it: "中文 · English"."""
    zh, en = label(key_path, "zh_CN"), label(key_path, "en")
    return zh if zh == en else f"{zh} · {en}"


def reason_label(key: str, language: str = "zh_CN") -> str:
    for reason_key, zh, en in LOW_RATING_REASONS:
        if reason_key == key:
            return en if language == "en" else zh
    return key
