"""The coverage rule set: every value sourced, uncertainty stated, bad files named with the field."""

from __future__ import annotations

import tomllib

import pytest

from qamtu.mapping.rules import RuleSetError, default_rules_path, load_rules


def test_bundled_rule_set_values_and_sources():
    r = load_rules()
    assert r.version == "kz-coverage-2026.1" and r.valid_from == "2026-11-28"
    assert r.internet.download_min_mbps["UMTS"] == 1.0 and r.internet.download_min_mbps["LTE"] == 5.0
    assert r.internet.max_share_below == 0.10
    # legal-kz section 2: the figures are reported, not read in the order: the file must say so
    assert "UNCONFIRMED" in r.internet.sources["UMTS"] and "1.5" in r.internet.sources["UMTS"]
    assert "UNCONFIRMED" in r.internet.sources["LTE"] and "UNCONFIRMED" in r.internet.max_share_below_source
    assert "NOT FOUND" in r.internet.uncertainty
    lte = r.mobile.signal["LTE"]
    assert (lte.coverage_min_dbm, lte.good_min_dbm) == (-115.0, -105.0)
    assert "[field-anchors §3.2, M" in lte.source and "unconfirmed" in lte.uncertainty
    for tech in ("GSM", "UMTS", "NR-SA"):      # no threshold found: none applied, and said so
        assert r.mobile.signal[tech].coverage_min_dbm is None and "NOT FOUND" in r.mobile.signal[tech].source
    for part in (r.window, r.evidence, r.best_of, r.aggregation):
        assert part.source.strip()
    assert r.aggregation.h3_resolution == 8


def test_every_table_of_the_file_has_a_source():
    data = tomllib.loads(default_rules_path().read_text(encoding="utf-8"))

    def walk(node, path):
        if isinstance(node, dict):
            leafs = [k for k, v in node.items() if not isinstance(v, dict)]
            if leafs and path and path[-1] not in ("levels", "download_min_mbps", "sources"):
                assert any("source" in k for k in node), f"[{'.'.join(path)}] has values but no source"
            for k, v in node.items():
                walk(v, path + [k])
    walk(data, [])


@pytest.mark.parametrize("edit, field", [
    (lambda t: t.replace("min_samples = 30", "min_samples = -1"), "evidence.min_samples"),
    (lambda t: t.replace('LTE = "4G >= 5 Mbit/s', 'XLTE = "4G >= 5 Mbit/s'), "internet"),
    (lambda t: t.replace("UMTS = 1.0", "UMTS = 1.0\nCDMA = 2.0"), "internet.download_min_mbps"),
    (lambda t: t.replace('valid_from = "2026-11-28"', 'valid_from = "28.11.2026"'), "valid_from"),
    (lambda t: t.replace('metric = "rsrp_dbm"\ncoverage_min_dbm = -115.0',
                         'metric = "rsrp"\ncoverage_min_dbm = -115.0', 1),
     "mobile.signal.LTE.metric"),
    (lambda t: t.replace("[mobile.signal.UMTS]", "[mobile.signal.XUMTS]"), "mobile"),
])
def test_bad_rule_files_name_the_file_and_field(tmp_path, edit, field):
    text = default_rules_path().read_text(encoding="utf-8")
    bad = edit(text)
    assert bad != text
    path = tmp_path / "bad.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(RuleSetError) as err:
        load_rules(path)
    assert str(path) in str(err.value) and f"field '{field}" in str(err.value)


def test_missing_and_unparsable_files(tmp_path):
    with pytest.raises(RuleSetError, match="rule-set file not found"):
        load_rules(tmp_path / "nope.toml")
    p = tmp_path / "broken.toml"
    p.write_text("version = \n", encoding="utf-8")
    with pytest.raises(RuleSetError, match="not valid UTF-8 TOML"):
        load_rules(p)
