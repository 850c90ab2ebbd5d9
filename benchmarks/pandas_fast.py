"""FAST Fertility in plain pandas: the baseline brandlens' speed is compared against.

    python benchmarks/pandas_fast.py DATA_DIR [--as-of D] [--json] [--timing]

An honest analyst's implementation of the same definitions (specs/fast.yaml,
docs/methodologies/fast.md, plugins/brandlens_fast): read events.parquet (or
events.csv), give each (user, brand) its highest AIPL stage as of the as-of local
date, and count the users with a stage per brand (``fast.fertility``) and per stage
(``fast.aipl_users``).
Vectorised pandas, no loop over events, no validation: the input is taken to be
clean, as a generated market is. Needs pandas (``pip install brandlens[bench]``).

Rules, with FAST's default parameters; a window of W days is the local dates
(d - W, d], brand-less events never count, the highest satisfied stage wins:

* A (15 days): an ad impression, content view or product view;
* I (15 days): a store visit, favourite, add to cart, follow, consult, coupon claim,
  member join or ad click; a search with query_type 'brand'; product views on two
  or more distinct days;
* P (912 days): a purchase;
* L (365 days): purchases on two or more distinct days; a review rated 4 or more;
  a share.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

TIMEZONE = "Asia/Shanghai"
STAGES = ("A", "I", "P", "L")


@dataclass(frozen=True)
class Rule:
    """One way into a stage: events of these types on ``min_days`` days in ``window``."""

    stage: str
    event_types: tuple[str, ...]
    window: int
    min_days: int = 1
    brand_search: bool = False  # only searches with query_type 'brand'
    min_rating: int | None = None  # only reviews rated at least this


RULES = (
    Rule("A", ("ad_impression", "content_view", "product_view"), 15),
    Rule(
        "I",
        (
            "store_visit",
            "favorite",
            "add_to_cart",
            "follow",
            "consult",
            "coupon_claim",
            "member_join",
            "ad_click",  # FAST's default ad_click_stage is interest
        ),
        15,
    ),
    Rule("I", ("search",), 15, brand_search=True),
    Rule("I", ("product_view",), 15, min_days=2),
    Rule("P", ("purchase",), 912),
    Rule("L", ("purchase",), 365, min_days=2),
    Rule("L", ("review",), 365, min_rating=4),
    Rule("L", ("share",), 365),
)
"""FAST's AIPL evidence with the default parameters of specs/fast.yaml."""


def events_file(data: Path) -> Path:
    """The events file of a folder (events.parquet, a folder events/ of Parquet parts, else
    events.csv), or the file itself."""
    if not data.is_dir():
        return data
    for name in ("events.parquet", "events"):
        if (data / name).exists():
            return data / name
    return data / "events.csv"


def load_events(data: Path) -> pd.DataFrame:
    """The columns FAST needs, with each event's local date (days since 1970-01-01)."""
    import pandas as pd

    path = events_file(data)
    columns = ["ts", "user_id", "event_type", "brand", "rating", "query_type"]
    if path.name.endswith(".parquet") or path.is_dir():  # a folder: Arrow reads its parts
        # text as categoricals, as the generator's own file declares them; parts written
        # by another tool would otherwise come back as strings (10 M in 28 parts: FAST
        # 7.3 s instead of about 4 s), a weaker baseline than an analyst would write
        text = ["user_id", "event_type", "brand", "query_type"]
        df = pd.read_parquet(path, columns=columns, read_dictionary=text)
    else:  # CSV: Arrow's multi-threaded reader, which parses the UTC timestamps itself
        # (10 M events: 1.5 s; pandas' own C reader and to_datetime take 12.6 s)
        df = pd.read_csv(path, usecols=columns, engine="pyarrow")
    df = df[df["brand"].notna()]
    ts = df["ts"]
    if ts.dt.tz is None:  # times without an offset are UTC (the generator's older markets)
        ts = ts.dt.tz_localize("UTC")
    local = ts.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
    df = df.drop(columns="ts")
    df["day"] = local.values.astype("datetime64[D]").astype("int64")
    return df


def stages(df: pd.DataFrame, as_of: int) -> pd.DataFrame:
    """Each (user_id, brand) with a stage at ``as_of`` (a day number): its highest stage."""
    import pandas as pd

    longest = max(r.window for r in RULES)
    age = as_of - df["day"]
    recent = df[(age >= 0) & (age < longest)]
    recent_age = as_of - recent["day"]
    found = []
    for rank, stage in enumerate(STAGES, start=1):  # a loop over the 8 rules, not events
        for rule in (r for r in RULES if r.stage == stage):
            mask = recent["event_type"].isin(rule.event_types) & (recent_age < rule.window)
            if rule.brand_search:
                mask &= recent["query_type"] == "brand"
            if rule.min_rating is not None:
                mask &= recent["rating"] >= rule.min_rating
            hits = recent.loc[mask, ["user_id", "brand", "day"]]
            if rule.min_days > 1:
                days = hits.groupby(["user_id", "brand"], observed=True)["day"].nunique()
                pairs = days[days >= rule.min_days].index.to_frame(index=False)
            else:
                pairs = hits[["user_id", "brand"]].drop_duplicates()
            found.append(pairs.assign(rank=rank))
    every = pd.concat(found, ignore_index=True)
    best = every.groupby(["user_id", "brand"], observed=True)["rank"].max().reset_index()
    best["stage"] = best["rank"].map(dict(enumerate(STAGES, start=1)))
    return best


def fast(data: Path, as_of: date | None = None) -> dict[str, Any]:
    """Fertility and users per stage for every brand in the events, as of ``as_of``."""
    df = load_events(data)
    day = int(df["day"].max()) if as_of is None else (as_of - date(1970, 1, 1)).days
    best = stages(df, day)
    brands = sorted(str(b) for b in df["brand"].dropna().unique())
    per_stage = best.groupby(["brand", "stage"], observed=True).size()
    aipl = {b: {s: int(per_stage.get((b, s), 0)) for s in STAGES} for b in brands}
    return {
        "as_of": date.fromordinal(date(1970, 1, 1).toordinal() + day).isoformat(),
        "timezone": TIMEZONE,
        "fertility": {b: sum(aipl[b].values()) for b in brands},
        "aipl_users": aipl,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "data", type=Path, help="a folder with events.parquet or events.csv, or the file"
    )
    parser.add_argument("--as-of", type=date.fromisoformat, default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--timing", action="store_true", help="also report elapsed seconds and peak RSS"
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    out = fast(args.data, args.as_of)
    if args.timing:
        out["seconds"] = round(time.perf_counter() - began, 2)
        out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
        return
    print(f"fast.fertility as of {out['as_of']} ({out['timezone']})")
    for brand, value in out["fertility"].items():
        print(f"{brand}\t{value}")
    if args.timing:
        print(f"{out['seconds']} s, peak RSS {out['peak_rss_mb']} MB")


if __name__ == "__main__":
    main()
