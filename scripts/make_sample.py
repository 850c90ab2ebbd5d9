"""Write the small sample market shipped in the package (framework/brandlens/data/sample).

It holds every event type a built-in ladder names (ad clicks, content views, store
visits, follows, favourites, consultations, coupon claims, shares, after-sales
events), refunds (some larger than the purchase) and membership exits,
so the reference tests on it compare every rule.

Deterministic (seeded); run it again to regenerate the files byte for byte. The
full synthetic market generator (`brandlens generate`) supersedes it for scale.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "framework" / "brandlens" / "data" / "sample"
BRANDS = {  # brand: (category, price, exposure, conversion, loyalty)
    "Aurora": ("skincare", 180.0, 0.9, 0.15, 0.2),
    "Lumi": ("skincare", 260.0, 0.4, 0.45, 0.7),
    "Verde": ("snacks", 35.0, 0.6, 0.35, 0.4),
}
GROUPS = ["urban_white_collar", "new_mom", "gen_z", "silver", "student"]
# events a ladder names that the first funnel does not make: (type, probability, within)
EARLY = (  # within hours of the impression
    ("ad_click", 0.35, 2),
    ("content_view", 0.3, 48),
    ("store_visit", 0.25, 72),
    ("follow", 0.15, 96),
    ("favorite", 0.25, 72),
    ("consult", 0.15, 120),
    ("coupon_claim", 0.2, 96),
)
AFTER_PURCHASE = (  # days after a purchase
    ("share", 0.2, 2),
    ("after_sales", 0.15, 10),
    ("refund", 0.1, 5),
)
END = datetime(2025, 6, 30, 12, 0, 0)


def main() -> None:
    rng = random.Random(20250630)
    # the events every ladder names beyond the first funnel come from a second stream, so
    # the first stream (and every event it made) is unchanged
    extra = random.Random(20250701)
    OUT.mkdir(parents=True, exist_ok=True)
    events: list[list[object]] = []
    users = []
    for n in range(1, 121):
        uid = f"u{n:03d}"
        users.append(
            [
                uid,
                rng.choice(GROUPS),
                rng.choice(["beauty", "foodie", "tech"]),
                rng.choice(["1", "2", "3", "4"]),
                rng.choice(["18-24", "25-34", "35-44"]),
                rng.choice(["f", "m"]),
                "2022-01-01",
            ]
        )
        for brand, (cat, price, exposure, conversion, loyalty) in BRANDS.items():
            if rng.random() > exposure:
                continue
            t = END - timedelta(days=rng.randint(0, 400), hours=rng.randint(0, 23))
            events.append([t, uid, "ad_impression", brand, cat, "", "", ""])
            for etype, p, hours in EARLY:
                if extra.random() < p:
                    at = t + timedelta(hours=extra.randint(1, hours))
                    events.append([at, uid, etype, brand, cat, "", "", ""])
            if rng.random() < 0.6:
                t += timedelta(hours=rng.randint(1, 72))
                events.append([t, uid, "product_view", brand, cat, "", "", ""])
            if rng.random() < 0.4:
                t += timedelta(hours=rng.randint(1, 72))
                events.append([t, uid, "search", brand, cat, "", "", "brand"])
                events.append(
                    [t + timedelta(minutes=5), uid, "add_to_cart", brand, cat, "", "", ""]
                )
            if rng.random() < conversion:
                for _ in range(1 + (rng.random() < loyalty) + (rng.random() < loyalty / 2)):
                    t += timedelta(days=rng.randint(1, 60))
                    amount = round(price * rng.uniform(0.7, 1.1), 2)
                    events.append([t, uid, "purchase", brand, cat, f"{amount:.2f}", "", ""])
                    for etype, p, days in AFTER_PURCHASE:
                        if extra.random() < p:
                            at = t + timedelta(days=days, hours=extra.randint(0, 23))
                            refund = etype == "refund"
                            back = f"{amount * extra.uniform(0.3, 1.2):.2f}" if refund else ""
                            events.append([at, uid, etype, brand, cat, back, "", ""])
                if rng.random() < loyalty:
                    events.append(
                        [
                            t + timedelta(days=3),
                            uid,
                            "review",
                            brand,
                            cat,
                            "",
                            rng.choice([3, 4, 5, 5]),
                            "",
                        ]
                    )
                if rng.random() < loyalty:
                    events.append(
                        [t + timedelta(days=1), uid, "member_join", brand, "", "", "", ""]
                    )
                    if extra.random() < 0.2:
                        at = t + timedelta(days=extra.randint(30, 200))
                        events.append([at, uid, "member_leave", brand, "", "", "", ""])
    events = [e for e in events if e[0] <= END]
    events.sort(key=lambda e: (e[0], e[1], e[2], e[3]))
    with (OUT / "events.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(
            ["ts", "user_id", "event_type", "brand", "category", "amount", "rating", "query_type"]
        )
        for e in events:
            w.writerow([e[0].strftime("%Y-%m-%d %H:%M:%S"), *e[1:]])
    with (OUT / "users.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(
            [
                "user_id",
                "target_group",
                "circle",
                "city_tier",
                "age_band",
                "gender",
                "register_date",
            ]
        )
        w.writerows(users)


if __name__ == "__main__":
    main()
