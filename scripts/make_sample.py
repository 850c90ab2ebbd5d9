"""Write the small sample market shipped in the package (framework/brandlens/data/sample).

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
END = datetime(2025, 6, 30, 12, 0, 0)


def main() -> None:
    rng = random.Random(20250630)
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
