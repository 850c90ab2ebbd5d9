"""The synthetic market: categories, brands with planted profiles, target groups and circles.

Every number here shapes the generated data; docs/demo-data.md explains what each
planted profile is expected to produce and tests check it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

TARGET_GROUPS = (  # JD-style 十大靶群, with population weights
    ("urban_family", 0.14),
    ("small_town_middle", 0.12),
    ("small_town_youth", 0.12),
    ("silver", 0.08),
    ("gen_z", 0.12),
    ("urban_white_collar", 0.12),
    ("new_mom", 0.07),
    ("blue_collar", 0.10),
    ("affluent_senior", 0.05),
    ("student", 0.08),
)
CIRCLES = (
    ("gamer", 0.12),
    ("photographer", 0.08),
    ("business", 0.12),
    ("beauty", 0.16),
    ("foodie", 0.18),
    ("fitness", 0.10),
    ("parent", 0.12),
    ("tech", 0.12),
)
CITY_TIERS = (("1", 0.2), ("2", 0.3), ("3", 0.3), ("4", 0.2))
AGE_BANDS = (("18-24", 0.22), ("25-34", 0.32), ("35-44", 0.24), ("45-54", 0.14), ("55+", 0.08))
GENDERS = (("f", 0.52), ("m", 0.48))
EXPOSURE_CHANNELS = (
    ("offsite_media", 0.35),
    ("short_video", 0.25),
    ("live", 0.15),
    ("onsite", 0.25),
)
SPEND_CHANNELS = ("offsite_media", "short_video", "live", "onsite")


@dataclass(frozen=True)
class Category:
    name: str
    durable: bool
    repurchase_days: float  # mean days between purchases of one buyer
    price: float  # typical list price
    consideration_days: float  # mean days from first engagement to purchase


CATEGORIES = (
    Category("skincare", False, 45, 220.0, 4),
    Category("snacks", False, 20, 38.0, 1),
    Category("smartphones", True, 900, 3200.0, 35),
    Category("phone_accessories", False, 150, 120.0, 3),
)


@dataclass(frozen=True)
class ProductLine:
    """A group of products of one brand with a shared life cycle."""

    category: str
    count: int
    life_cycle: str  # steady | hit | decliner | fading | discontinued | launch
    price_factor: float = 1.0
    launch: date | None = None  # for launches: first listing date
    end: date | None = None  # for discontinued: last sale date
    fade: date | None = None  # for fading: the day its sales start to fall away
    weight: float = 1.0  # popularity relative to the brand's other lines


@dataclass(frozen=True)
class Brand:
    """A brand's behaviour in the market; planted truths live here."""

    name: str
    category: str
    reach: float  # share of users in the brand's market (before group/circle affinity)
    impressions: float  # mean ad impressions + content views per reached user
    view: float  # P(product view | reached)
    view_days: float  # mean extra product-view days of a viewer
    engage: float  # P(cart/favourite/follow/consult/coupon | viewed)
    buy: float  # P(purchase | engaged)
    loyalty: float  # P(another purchase after each purchase)
    member: float  # P(joins membership | bought)
    review: float  # P(review | purchase)
    share: float  # P(share | purchase)
    after_sales: float = 0.0  # P(after-sales event | purchase), durables
    accessory: float = 0.0  # P(buys the brand's accessories | bought a phone)
    trend: tuple[float, float] = (1.0, 1.0)  # activity multiplier at start, at end
    entry: date | None = None  # no activity before this date
    price_drift: float = 0.0  # yearly relative change of price (premiumisation)
    groups: dict[str, float] = field(default_factory=dict)  # affinity multipliers
    circles: dict[str, float] = field(default_factory=dict)
    lines: tuple[ProductLine, ...] = ()
    budget: float = 20_000.0  # daily marketing spend
    ads: float = 0.7  # share of exposures that are ad impressions (the rest: content views)


def _lines(category: str, *extra: ProductLine) -> tuple[ProductLine, ...]:
    base = (
        ProductLine(category, 4, "steady"),
        ProductLine(category, 1, "hit", 1.2, weight=2.0),
        ProductLine(category, 2, "decliner", 0.9),
        ProductLine(category, 1, "discontinued", 0.8, end=date(2024, 9, 30)),
    )
    return base + tuple(extra)


BRANDS = (
    # 1. Aurora: mass exposure, weak conversion -> largest awareness share, lowest advancing.
    # Its reach is bought as ads: impressions are no activity, so its audience does not
    # look retained (A.R.G.O's retention rate).
    Brand(
        "Aurora",
        "skincare",
        reach=0.55,
        impressions=47.3,
        view=0.25,
        view_days=0.6,
        engage=0.15,
        buy=0.25,
        loyalty=0.35,
        member=0.05,
        review=0.2,
        share=0.02,
        circles={"beauty": 1.6},
        lines=_lines("skincare"),
        budget=90_000,
        ads=0.95,
    ),
    # 2. Lumi: small, loyal base over-indexing in urban white collars and new mums.
    Brand(
        "Lumi",
        "skincare",
        reach=0.05,
        impressions=10.1,
        view=0.8,
        view_days=1.5,
        engage=0.75,
        buy=0.8,
        loyalty=0.9,
        member=0.6,
        review=0.45,
        share=0.12,
        groups={"urban_white_collar": 4.0, "new_mom": 4.0},
        circles={"beauty": 1.5},
        lines=_lines("skincare"),
        budget=15_000,
    ),
    # 8. Dusk: declining; most of its products in decline (and, in SUPER's four-week
    # terms, the largest share of its range in Decline: its decliners are being phased
    # out from June 2025 and carry most of its sales until then).
    Brand(
        "Dusk",
        "skincare",
        reach=0.45,
        impressions=13.5,
        view=0.6,
        view_days=1.0,
        engage=0.5,
        buy=0.55,
        loyalty=0.5,
        member=0.15,
        review=0.25,
        share=0.03,
        trend=(1.6, 0.8),
        budget=12_000,
        lines=(
            ProductLine("skincare", 1, "steady"),
            ProductLine("skincare", 6, "fading", 1.0, weight=8.0, fade=date(2025, 6, 2)),
            ProductLine("skincare", 1, "discontinued", 0.9, end=date(2024, 6, 30)),
        ),
    ),
    # 3. Verde: new entrant (from late 2023), buyers up 50%+ year over year; buys its reach
    # as ads, so its new buyers are many for its active audience (A.R.G.O).
    Brand(
        "Verde",
        "snacks",
        reach=0.25,
        impressions=16.9,
        view=0.6,
        view_days=1.0,
        engage=0.5,
        buy=0.6,
        loyalty=0.55,
        member=0.15,
        review=0.25,
        share=0.05,
        trend=(0.05, 1.6),
        entry=date(2023, 9, 1),
        budget=30_000,
        ads=0.9,
        circles={"foodie": 1.5},
        lines=_lines("snacks"),
    ),
    # 4. Orchid: premiumisation: unit price up year over year, buyers flat.
    Brand(
        "Orchid",
        "snacks",
        reach=0.2,
        impressions=13.5,
        view=0.6,
        view_days=1.0,
        engage=0.5,
        buy=0.6,
        loyalty=0.55,
        member=0.2,
        review=0.3,
        share=0.04,
        price_drift=0.35,
        budget=20_000,
        lines=(
            ProductLine("snacks", 3, "decliner", 0.8),
            ProductLine("snacks", 3, "launch", 1.8, launch=date(2024, 5, 1), weight=1.6),
            ProductLine("snacks", 2, "steady", 1.2),
        ),
    ),
    # 5. Nimbus: a snacks brand launching skincare products in the last year.
    Brand(
        "Nimbus",
        "snacks",
        reach=0.2,
        impressions=13.5,
        view=0.6,
        view_days=1.0,
        engage=0.5,
        buy=0.55,
        loyalty=0.5,
        member=0.1,
        review=0.25,
        share=0.04,
        lines=_lines(
            "snacks", ProductLine("skincare", 3, "launch", 0.5, launch=date(2024, 9, 1), weight=0.8)
        ),
    ),
    # 6. Volt: heavy exposure and long consideration -> largest deep-consideration audience.
    Brand(
        "Volt",
        "smartphones",
        reach=0.45,
        impressions=40.6,
        view=0.7,
        view_days=5.0,
        engage=0.6,
        buy=0.12,
        loyalty=0.02,
        member=0.1,
        review=0.3,
        share=0.03,
        after_sales=0.1,
        circles={"tech": 1.5, "gamer": 1.4},
        budget=120_000,
        lines=_lines("smartphones"),
    ),
    # 7. Pixelon: strong after-sales and accessory purchases -> highest retaining share.
    Brand(
        "Pixelon",
        "smartphones",
        reach=0.15,
        impressions=16.9,
        view=0.6,
        view_days=2.0,
        engage=0.5,
        buy=0.35,
        loyalty=0.03,
        member=0.35,
        review=0.4,
        share=0.08,
        after_sales=0.65,
        accessory=0.75,
        circles={"photographer": 2.0},
        lines=_lines("smartphones", ProductLine("phone_accessories", 4, "steady", 1.0)),
    ),
    # 9. Nova: several launches in the last 90 days -> highest new-product GMV share.
    Brand(
        "Nova",
        "smartphones",
        reach=0.2,
        impressions=20.3,
        view=0.6,
        view_days=2.5,
        engage=0.5,
        buy=0.25,
        loyalty=0.02,
        member=0.1,
        review=0.3,
        share=0.04,
        after_sales=0.15,
        budget=40_000,
        lines=(
            ProductLine("smartphones", 2, "steady", 1.0),
            ProductLine("smartphones", 3, "launch", 1.1, launch=date(2025, 4, 20), weight=4.0),
        ),
    ),
    # Background brands: competition in every category.
    Brand(
        "Sakura",
        "skincare",
        reach=0.3,
        impressions=16.9,
        view=0.5,
        view_days=1.0,
        engage=0.45,
        buy=0.5,
        loyalty=0.5,
        member=0.12,
        review=0.25,
        share=0.03,
        lines=_lines("skincare"),
    ),
    Brand(
        "Crunchy",
        "snacks",
        reach=0.35,
        impressions=16.9,
        view=0.55,
        view_days=1.0,
        engage=0.5,
        buy=0.6,
        loyalty=0.6,
        member=0.1,
        review=0.2,
        share=0.03,
        lines=_lines("snacks"),
    ),
    Brand(
        "Zenith",
        "smartphones",
        reach=0.25,
        impressions=20.3,
        view=0.6,
        view_days=2.0,
        engage=0.5,
        buy=0.2,
        loyalty=0.02,
        member=0.08,
        review=0.3,
        share=0.03,
        after_sales=0.2,
        lines=_lines("smartphones"),
    ),
    Brand(
        "Gearup",
        "phone_accessories",
        reach=0.25,
        impressions=13.5,
        view=0.5,
        view_days=1.0,
        engage=0.4,
        buy=0.5,
        loyalty=0.3,
        member=0.05,
        review=0.25,
        share=0.02,
        circles={"tech": 1.4},
        lines=_lines("phone_accessories"),
    ),
)

PROMOTIONS = ((6, 18, 18, 3.5), (11, 11, 21, 4.5), (12, 12, 6, 1.8))
"""(month, day, days of build-up, peak multiplier): 6.18, 11.11 and 12.12."""
WEEKLY = (0.95, 0.92, 0.93, 0.97, 1.05, 1.12, 1.06)  # Monday .. Sunday
