"""The offline gazetteer: loading, errors on a bad file, lookup and geocoding (rasd.gazetteer)."""

from __future__ import annotations

import json
import lzma

import pytest

from rasd.errors import InputError
from rasd.gazetteer import DEFAULT_PATH, FORMAT, KEY_VERSION, Gazetteer, default_gazetteer, name_key


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return default_gazetteer()


def test_packaged_file_is_small_and_credits_geonames(gaz):
    assert DEFAULT_PATH.stat().st_size < 2 * 2**20  # project rule: data files under 2 MiB in git
    assert "CC BY 4.0" in gaz.meta["licence"] and len(gaz) > 40_000


def test_jasim_with_daraa_context_is_in_syria(gaz):
    r = gaz.geocode(["جاسم"], context=["درعا"])
    assert (r.country, r.admin1, r.location, r.geo_precision, r.country_code) == ("Syria", "Daraa", "Jasim", 1, "SY")
    assert r.latitude == pytest.approx(32.99, abs=0.05) and r.longitude == pytest.approx(36.06, abs=0.05)
    assert r.resolved and r.mention == "جاسم"


def test_unknown_place_keeps_its_text_with_empty_coordinates_and_a_reason(gaz):
    r = gaz.geocode(["كفرزيتون الجديدة"])
    assert not r.resolved and r.latitude is None and r.longitude is None and r.geo_precision is None
    assert r.location == r.mention == "كفرزيتون الجديدة"
    assert r.reason.startswith("unresolved") and "no gazetteer entry" in r.reason


def test_no_place_mention(gaz):
    assert gaz.geocode([]).reason == "no place mention"


def test_lookup_strips_proclitics_and_heads(gaz):
    assert [p.name for p in gaz.lookup("وبمدينة جاسم")][:1] == ["Jasim"]
    m = gaz.match("بريف درعا الغربي")
    assert m.candidates[0].admin1 == "Daraa" and m.modified
    assert gaz.geocode(["ريف درعا"]).geo_precision == 2  # near a place, not the place


def test_context_settles_ambiguity(gaz):
    assert gaz.geocode(["طرابلس"], context=["ليبيا"]).country == "Libya"
    assert gaz.geocode(["طرابلس"], context=["لبنان"]).country == "Lebanon"


def test_name_key_ignores_article_and_letter_variants():
    assert name_key("القَصْرين") == name_key("قصرين") and name_key("أبو ظبي") == name_key("ابوظبي")


def test_missing_file_is_an_input_error_naming_it(tmp_path):
    path = tmp_path / "nope.json.xz"
    with pytest.raises(InputError, match=r"nope\.json\.xz: gazetteer file not found"):
        Gazetteer.load(path)


@pytest.mark.parametrize("content, problem", [
    (b"not xz at all", "corrupt gazetteer file"),
    (lzma.compress(b'{"format": "rasd-gazett'), "corrupt gazetteer file"),  # truncated JSON
    (lzma.compress(b"[1, 2]"), "not a rasd gazetteer"),
    (lzma.compress(json.dumps({"format": FORMAT, "key_version": KEY_VERSION}).encode()), "missing meta"),
    (lzma.compress(json.dumps({"format": FORMAT, "key_version": KEY_VERSION + 1}).encode()), "rebuild it"),
    (lzma.compress(json.dumps({"format": FORMAT, "key_version": KEY_VERSION, "meta": {}, "countries": {},
                               "admins": {}, "columns": ["geonameid"], "places": [[1]]}).encode()),
     "bad place record"),
])
def test_corrupt_file_is_an_input_error_naming_it_and_the_problem(tmp_path, content, problem):
    path = tmp_path / "bad.json.xz"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        Gazetteer.load(path)
    assert str(path) in str(info.value) and problem in str(info.value)


def test_truncated_packaged_file_is_an_input_error(tmp_path):
    path = tmp_path / "cut.json.xz"
    path.write_bytes(DEFAULT_PATH.read_bytes()[:100_000])
    with pytest.raises(InputError, match="corrupt gazetteer file"):
        Gazetteer.load(path)
