"""Migration 3 and the problem picture on the regional PostgreSQL store: same statuses as the file."""

from __future__ import annotations

import pytest

from qamtu.store.migrations import latest
from qamtu.probe.push import push
from qamtu.probe.store import Store, sample_store
from qamtu.reports.problems import picture_from_store
from qamtu.reports.surveys import SurveyImportError, import_plans, import_survey, survey_frame
from test_problems_helpers import YEARS, designed_store, write_plan_csv, write_survey_csv


def test_postgres_store_gives_the_same_picture_and_refuses_bad_files(tmp_path, gazetteer, cluster):
    db, roles = designed_store(gazetteer)
    url = cluster.create_db("problems")
    with Store(db) as src, sample_store(url) as pg:
        assert pg.schema_versions() == latest() and latest()["reports"] >= 2
        push(src, pg)
        survey = write_survey_csv(tmp_path / "s.csv", roles)
        import_survey(pg, survey, gazetteer)
        assert import_survey(pg, survey, gazetteer)["replaced"] == len(survey_frame(pg))   # upsert, no duplicates
        import_plans(pg, write_plan_csv(tmp_path / "p.csv", roles), gazetteer)
        bad = tmp_path / "bad.csv"
        bad.write_text(f"kato,dimension,planned_year\n{roles['gap']},mobile,2024\n{roles['gap']},sms,2024\n",
                       encoding="utf-8")
        with pytest.raises(SurveyImportError, match="row 3: unknown dimension 'sms'"):
            import_plans(pg, bad, gazetteer)
        assert pg.query("SELECT COUNT(*) AS n FROM remediation_plans")[0]["n"] == 3
        on_pg = picture_from_store(pg, YEARS, gazetteer=gazetteer)
    on_file = picture_from_store(db, YEARS, gazetteer=gazetteer)
    cols = ["kato", "dimension", "year", "display", "problem_since", "planned_year", "resolved_year", "overdue"]
    mine = on_file.cells[on_file.cells["kato"].isin(roles.values())][cols].reset_index(drop=True)
    theirs = on_pg.cells[on_pg.cells["kato"].isin(roles.values())][cols].reset_index(drop=True)
    assert mine.equals(theirs)
    assert (on_file.plans["priority"].tolist(), on_file.plans["state"].tolist()) == \
        (on_pg.plans["priority"].tolist(), on_pg.plans["state"].tolist())
