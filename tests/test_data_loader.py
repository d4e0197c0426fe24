"""One loader for TOML + pydantic data files (``qamtu.load_model``): file, field path and line in messages."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from qamtu import QamtuError, load_model, read_toml, toml_line
from qamtu.mapping.errors import MappingError
from qamtu.mapping.problems import ProblemError, load_problem_rules
from qamtu.mapping.rules import RuleSetError, default_rules_path, load_rules
from qamtu.reports.registers import RegisterError, load_file


class _Threshold(BaseModel):
    LTE: float
    GSM: float = -105.0


class _File(BaseModel):
    version: str
    thresholds: _Threshold


class _OwnError(QamtuError):
    """Stands for a package's own error class."""


def test_missing_file_names_the_file_and_raises_the_callers_error(tmp_path):
    with pytest.raises(_OwnError, match=r"nothere\.toml: thing file not found"):
        load_model(tmp_path / "nothere.toml", _File, _OwnError, "thing file")


def test_bad_syntax_names_file_and_line(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('version = "1"\n\n[thresholds]\nLTE = = -110\n', encoding="utf-8")
    with pytest.raises(_OwnError, match=r"bad\.toml: not valid UTF-8 TOML \(.*line 4.*\)"):
        load_model(p, _File, _OwnError)


def test_not_utf8(tmp_path):
    p = tmp_path / "latin.toml"
    p.write_bytes('version = "é"\n'.encode("latin-1"))
    with pytest.raises(_OwnError, match=r"latin\.toml: not valid UTF-8 TOML"):
        read_toml(p, _OwnError)


def test_wrong_type_names_the_field_path_and_its_line(tmp_path):
    p = tmp_path / "typed.toml"
    p.write_text('version = "1"\n# a comment\n[thresholds]\nGSM = -100\nLTE = "strong"\n', encoding="utf-8")
    with pytest.raises(_OwnError) as err:
        load_model(p, _File, _OwnError)
    assert str(err.value).startswith(f"{p}: field 'thresholds.LTE' (line 5): ")
    assert "valid number" in str(err.value)


def test_missing_field_points_at_its_table(tmp_path):
    p = tmp_path / "missing.toml"
    p.write_text('version = "1"\n[thresholds]\nGSM = -100\n', encoding="utf-8")
    with pytest.raises(_OwnError, match=r"field 'thresholds.LTE' \(line 2\): Field required"):
        load_model(p, _File, _OwnError)


def test_toml_line_finds_dotted_keys_quoted_tables_and_arrays():
    text = 'a = 1\n[t."NR-SA"]\nx.y = 2\n[[items]]\nname = "n"\n[[items]]\nname = "m"\n'
    assert toml_line(text, ("t", "NR-SA", "x", "y")) == 3
    assert toml_line(text, ("items", 0, "name")) == 5   # array index skipped: the first written entry
    assert toml_line(text, ("nowhere",)) is None


def test_every_package_keeps_its_own_error_tree(tmp_path):
    rules = default_rules_path().read_text(encoding="utf-8")
    bad = tmp_path / "rules.toml"
    bad.write_text(rules.replace("coverage_min_dbm = -115.0", 'coverage_min_dbm = "low"', 1), encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"field 'mobile.signal.LTE.coverage_min_dbm' \(line \d+\)") as err:
        load_rules(bad)
    line = int(str(err.value).split("(line ")[1].split(")")[0])
    assert 'coverage_min_dbm = "low"' in bad.read_text(encoding="utf-8").splitlines()[line - 1]
    assert isinstance(err.value, MappingError)

    (tmp_path / "reg").mkdir()
    (tmp_path / "reg" / "mci.toml").write_text("[[values]\n", encoding="utf-8")
    with pytest.raises(RegisterError, match=r"mci\.toml: not valid UTF-8 TOML .*line 1"):
        load_file("mci", tmp_path / "reg")

    problems = tmp_path / "problems.toml"
    problems.write_text('version = "x"\n', encoding="utf-8")
    with pytest.raises(ProblemError, match=r"problems\.toml: field 'measured'"):
        load_problem_rules(problems)
