"""Write jirei/webapp/static/map/japan_prefectures.json: one SVG path per prefecture, for the
dashboard's choropleth, from the prefecture borders bundled in the `japanmap` package (0.6.0,
Apache-2.0).

Why a generated file rather than a runtime dependency: japanmap requires opencv-python and
Pillow (about 190 MB installed) for its raster functions, while the app needs only the border
coordinates, which read with numpy alone. Install it without its dependencies to regenerate:

    .venv/bin/pip install --no-deps japanmap==0.6.0
    .venv/bin/python scripts/build_japan_map.py

Hokkaido and Okinawa are moved as japanmap's `move_hokkaido` / `move_okinawa` move them, so the
map is compact; Okinawa's inset gets a frame. Coordinates are projected as japanmap's own SVG
(x scaled by 0.812, y flipped) onto a 1000-unit box and rounded to 0.1.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "jirei" / "webapp" / "static" / "map" / "japan_prefectures.json"
X_RATIO = 0.812  # japanmap's pref_map ratio: longitude degrees are shorter than latitude degrees here
SIZE = 1000.0
MARGIN = 10.0


def main() -> None:
    from importlib.metadata import version

    from japanmap import get_data, pref_names, pref_points

    points = pref_points(get_data(move_hokkaido=True, move_okinawa=True))
    xs = [x * X_RATIO for ring in points for x, _ in ring]
    ys = [y for ring in points for _, y in ring]
    scale = (SIZE - 2 * MARGIN) / max(max(xs) - min(xs), max(ys) - min(ys))

    def project(x: float, y: float) -> tuple[float, float]:
        return (round((x * X_RATIO - min(xs)) * scale + MARGIN, 1), round((max(ys) - y) * scale + MARGIN, 1))

    prefectures = []
    for number, ring in enumerate(points, start=1):
        pts: list[tuple[float, float]] = []
        for x, y in ring:
            p = project(x, y)
            if not pts or pts[-1] != p:
                pts.append(p)
        d = "M" + "L".join(f"{x:g},{y:g}" for x, y in pts) + "Z"
        cx = round(sum(x for x, _ in pts) / len(pts), 1)
        cy = round(sum(y for _, y in pts) / len(pts), 1)
        prefectures.append({"code": f"{number:02d}", "name": pref_names[number], "d": d, "centre": [cx, cy]})
    okinawa = [tuple(map(float, p.split(","))) for p in prefectures[46]["d"][1:-1].split("L")]
    ox = [x for x, _ in okinawa]
    oy = [y for _, y in okinawa]
    inset = [round(min(ox) - 15, 1), round(min(oy) - 15, 1), round(max(ox) - min(ox) + 30, 1),
             round(max(oy) - min(oy) + 30, 1)]
    data = {
        "source": f"japanmap {version('japanmap')} (Apache-2.0, https://pypi.org/project/japanmap/): "
                  "prefecture borders of the area holding each prefectural capital; Hokkaido and Okinawa moved",
        "viewBox": [0, 0, SIZE, round(max(y for p in prefectures for y in _ys(p["d"])) + MARGIN, 1)],
        "okinawa_inset": inset,
        "prefectures": prefectures,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(prefectures)} prefectures, {OUT.stat().st_size:,} bytes")


def _ys(d: str) -> list[float]:
    return [float(p.split(",")[1]) for p in d[1:-1].split("L")]


if __name__ == "__main__":
    main()
