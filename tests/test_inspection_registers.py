"""Registers: every legal value has a source and a valid-from date; lookups by date; clear errors."""

from __future__ import annotations

import re

import pytest

from conftest import REPO
from qamtu.reports.registers import RegisterError, Registers, load_file

REFERENCE = REPO.parent / "shared" / "reference" / "legal-kz.md"


@pytest.fixture(scope="module")
def regs():
    return Registers.load()


def test_every_mci_entry_has_source_and_date_and_lookup_follows_valid_from(regs):
    entries = regs.mci.mci
    assert [e.valid_from for e in entries] == sorted(e.valid_from for e in entries)
    assert all(e.source.strip() and e.tenge > 0 for e in entries)
    assert {e.valid_from[:4] for e in entries} == {str(y) for y in range(2019, 2027)}
    # mid-year change of 2020: the day before and the day of the change
    assert regs.mci.on("2020-03-31").tenge != regs.mci.on("2020-04-01").tenge
    assert regs.mci.on("2020-04-01").valid_from == "2020-04-01"
    assert regs.mci.on("2018-12-31") is None
    # the disputed 2022 value is marked uncertain, and so is the April 2020 one
    assert "CONFLICT" in regs.mci.on("2022-06-01").uncertain
    assert regs.mci.on("2020-05-01").uncertain


@pytest.mark.skipif(not REFERENCE.exists(), reason="shared/reference/legal-kz.md is not beside the repository")
def test_mci_values_match_the_legal_reference(regs):
    """Each year's first MCI in the register equals the value in legal-kz.md section 4."""
    text = REFERENCE.read_text(encoding="utf-8").split("## 4.")[1].split("\n## ")[0]
    seen = 0
    for year, value in re.findall(r"^\| (20\d\d) \| ([\d ]+)", text, flags=re.M):
        assert regs.mci.on(f"{year}-01-01").tenge == int(value.replace(" ", "")), year
        seen += 1
    assert seen == 8


def test_art637_parts_14_and_15_lookup_by_offence_date(regs):
    p14, p15 = regs.art637.part(14, "2026-06-01"), regs.art637.part(15, "2026-06-01")
    assert p14 and p15 and p14.source and p14.valid_from_source
    assert p15.fine_mci["large"] > p14.fine_mci["large"]
    assert "official" not in p14.fine_mci and "official" in p14.notes  # not listed in the part: no invented fine
    assert regs.art637.part(14, "2022-09-10") is None  # before the sourced valid-from: no fine at all
    assert regs.art637.part(14, p14.valid_from) is p14
    assert regs.art637.repeat.window_months == 12 and "61" in regs.art637.repeat.source


def test_operator_register_invents_nothing(regs):
    ops = regs.operators.operators
    assert ops["401-77"].entity == ops["401-07"].entity  # Tele2 and Altel: one legal entity
    for code, op in ops.items():
        assert op.bin == "" and op.address == "", f"{code}: BIN/address have no source in legal-kz.md"
        assert op.legal_name_ru and op.legal_name_ru_source
        if op.category:
            assert "INFERENCE" in op.category_source


def test_bundled_instrument_register_and_key_list_are_empty(regs):
    assert regs.instruments.instruments == {}
    assert regs.office_keys.keys == []


def test_a_folder_overrides_single_files(tmp_path):
    (tmp_path / "mci.toml").write_text('version = "office-mci"\nwhich_date_ru = "x"\nwhich_date_kk = "x"\n'
                                       'which_date_source = "x"\n[[mci]]\nvalid_from = "2026-01-01"\ntenge = 1\n'
                                       'source = "test"\n', encoding="utf-8")
    regs = Registers.load(tmp_path)
    assert regs.mci.version == "office-mci" and regs.paths["mci"] == tmp_path / "mci.toml"
    assert regs.art637.version.startswith("art637")  # taken from the bundled file


@pytest.mark.parametrize("name, text, field", [
    ("mci", 'version = "x"\nwhich_date_ru = "x"\nwhich_date_kk = "x"\nwhich_date_source = "x"\n'
            '[[mci]]\nvalid_from = "2026-02-30"\ntenge = 4325\nsource = "s"\n', "mci.0.valid_from"),
    ("mci", 'version = "x"\nwhich_date_ru = "x"\nwhich_date_kk = "x"\nwhich_date_source = "x"\n'
            '[[mci]]\nvalid_from = "2026-01-01"\ntenge = 4325\n', "mci.0.source"),
    ("operators", 'version = "x"\n[operators."401-02"]\nbrand = "K"\nentity = "k"\nbin = "12345"\n'
                  'valid_from = "2026-01-01"\n',
     "operators.401-02.bin"),
    ("instruments", 'version = "x"\n[instruments.A]\nname = "m"\nmodel = "m"\nserial = "s"\n'
                    'verification_valid_until = "soon"\n', "instruments.A.verification_valid_until"),
])
def test_bad_register_names_file_and_field(tmp_path, name, text, field):
    (tmp_path / f"{name}.toml").write_text(text, encoding="utf-8")
    with pytest.raises(RegisterError) as err:
        load_file(name, tmp_path)
    assert str(tmp_path / f"{name}.toml") in str(err.value) and f"'{field}'" in str(err.value)


def test_not_toml_names_the_file(tmp_path):
    (tmp_path / "art637.toml").write_text("version = \n", encoding="utf-8")
    with pytest.raises(RegisterError, match="art637.toml: not valid UTF-8 TOML"):
        Registers.load(tmp_path)
