"""List the gazetteer's candidates for a place name, for annotating ``geonameid``/``country``/``admin1``.

    python data/annotated/records/candidates.py "درعا" "وبمدينة جاسم"

Prints, per name, each candidate: geonameid, GeoNames name, feature code, admin2, admin1, country.
It shows candidates only, not rasd's choice among them: the annotator decides from the text.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from rasd.gazetteer import default_gazetteer  # noqa: E402


def main(names: list[str]) -> None:
    gazetteer = default_gazetteer()
    for name in names:
        found = gazetteer.match(name).candidates
        print(f"{name}: {len(found)} candidate(s)")
        for p in sorted(found, key=lambda p: (p.country, p.admin1 or "", p.name, p.geonameid)):
            print(f"  {p.geonameid:>9}  {p.name} [{p.feature_code}]  admin2={p.admin2}  admin1={p.admin1}  "
                  f"country={p.country}")


if __name__ == "__main__":
    main(sys.argv[1:])
