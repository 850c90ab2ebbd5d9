"""Mappings and the built-in presets for real public formats, on tiny files in their shape."""

from __future__ import annotations

import pytest

import brandlens
from brandlens.engine.runs import Dataset
from brandlens.errors import DataError, UsageError


def _events(ds: Dataset) -> list[tuple]:
    return ds.con.execute(
        "SELECT user_id, event_type, brand, category, local_date::VARCHAR, amount::VARCHAR "
        "FROM events ORDER BY ts, user_id, event_type, amount"
    ).fetchall()


def test_rees46(tmp_path):
    p = tmp_path / "2019-Oct.csv"
    p.write_text(
        "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,"
        "user_session\n"
        "2019-10-01 00:00:00 UTC,view,44600062,2103807459595387724,,shiseido,35.79,541312140,s1\n"
        "2019-10-01 00:00:01 UTC,cart,3900821,2053013552326770905,appliances.water,aqua,33.20,"
        "554748717,s2\n"
        "2019-10-01 17:00:02 UTC,purchase,3900821,2053013552326770905,appliances.water,aqua,"
        "33.20,554748717,s2\n"
        "2019-10-01 00:00:03 UTC,remove_from_cart,3900821,2053013552326770905,,aqua,33.20,"
        "554748717,s2\n"
    )
    with Dataset(p, preset="rees46") as ds:
        assert _events(ds) == [
            ("541312140", "product_view", "shiseido", "2103807459595387724", "2019-10-01", None),
            ("554748717", "add_to_cart", "aqua", "appliances.water", "2019-10-01", None),
            # 17:00 UTC is 01:00 the next day in Shanghai
            ("554748717", "purchase", "aqua", "appliances.water", "2019-10-02", "33.20"),
        ]
        assert [(r.reason, r.count) for r in ds.report.reasons] == [("excluded_by_mapping", 1)]


def test_taobao_userbehavior(tmp_path):
    p = tmp_path / "UserBehavior.csv"
    p.write_text("1,2268318,2520377,pv,1511544070\n1,2333346,2520771,buy,1511561733\n")
    with Dataset(p, preset="taobao-userbehavior") as ds:
        assert _events(ds) == [
            ("1", "product_view", "category:2520377", "2520377", "2017-11-25", None),
            ("1", "purchase", "category:2520771", "2520771", "2017-11-25", "0.00"),
        ]


def test_cdnow(tmp_path):
    p = tmp_path / "CDNOW_master.txt"
    p.write_text("00001 19970101  1  11.77\n00002 19970112  2  89.00\n00002 19970112  1  0.00\n")
    with Dataset(p, preset="cdnow") as ds:
        assert _events(ds) == [
            ("00001", "purchase", "CDNOW", "music", "1997-01-01", "11.77"),
            ("00002", "purchase", "CDNOW", "music", "1997-01-12", "0.00"),
            ("00002", "purchase", "CDNOW", "music", "1997-01-12", "89.00"),
        ]
        assert ds.report.events.rows_accepted == 3


def test_custom_mapping_file(tmp_path):
    data = tmp_path / "log.csv"
    data.write_text("when,who,what,label,price\n2025-01-01 04:00:00,a,buy,X,10\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {ts: when, user_id: who, event_type: what, brand: label}\n"
        'derive: {amount: "price::DECIMAL(18,2) * 2"}\n'
        "event_types: {buy: purchase}\n"
    )
    with Dataset(data, mapping=mapping) as ds:
        assert _events(ds) == [("a", "purchase", "X", None, "2025-01-01", "20.00")]


@pytest.mark.parametrize(
    ("derive", "error", "message"),
    [
        ("(SELECT 1)", UsageError, "only a scalar expression"),
        ("read_text('/etc/passwd')", UsageError, "not allowed"),
        # the file lacks the column: a data error (exit 1), as under columns (it was 2)
        ("nosuchcolumn + 1", DataError, r"log\.csv: .*unknown source column"),
    ],
)
def test_derive_expressions_are_checked(tmp_path, derive, error, message):
    data = tmp_path / "log.csv"
    data.write_text("ts,user_id,event_type\n2025-01-01,a,ad_click\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(f'derive: {{brand: "{derive}"}}\n')
    with pytest.raises(error, match=message):
        brandlens.validate(data, mapping=mapping)


def test_mapping_to_a_missing_source_column_names_it(tmp_path):
    from brandlens.errors import DataError

    data = tmp_path / "log.csv"
    data.write_text("ts,user,event_type\n2025-01-01,a,ad_click\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns: {user_id: usr}\n")
    with pytest.raises(DataError, match=r"column 'usr'.*closest: user"):
        brandlens.validate(data, mapping=mapping)
