"""The `qamtu` app itself: errors as one line inside the app, choices from registries checked before
anything is written, passwords never printed, data printed literally (no rich markup, no terminal
control characters). Most run in process; a few run the console script as a smoke test."""

from __future__ import annotations

import csv
from datetime import datetime, timezone

import pytest

from conftest import run_console_script, run_qamtu
from qamtu.textsafe import redact_secrets
from qamtu.probe.store import Store
from qamtu.probe.synthetic import Campaign, Condition, write_campaign
from test_inspection_helpers import a_village, new_inspection, write_registers


def flat(text: str) -> str:
    """rich's boxes and wrapping removed, so a message can be searched as one line."""
    return " ".join(text.replace("│", " ").replace("╭", " ").replace("╰", " ").split())


# --------------------------------------------------------------------------- the console script (smoke)
def test_console_script_version_and_one_error_line(tmp_path):
    assert run_console_script("--version").stdout.strip().startswith("qamtu ")
    bad = run_console_script("sessions", "list", "--db", str(tmp_path / "none.db"), check=False)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.startswith("error (qamtu sessions list): ") and "no such store" in bad.stderr
    assert "Traceback" not in bad.stderr


# --------------------------------------------------------------------------- errors inside the app
def test_qamtu_errors_are_one_line_in_process_and_bugs_keep_their_traceback(tmp_path, monkeypatch):
    bad = run_qamtu("sessions", "show", "abc", "--db", str(tmp_path / "none.db"), check=False)
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr.startswith("error (qamtu sessions show): ") and str(tmp_path / "none.db") in bad.stderr

    import qamtu.mapping.gazetteer as gazetteer

    def broken(*_a, **_k):
        raise RuntimeError("a bug, not a user error")

    monkeypatch.setattr(gazetteer.Gazetteer, "load", broken)
    with pytest.raises(RuntimeError, match="a bug"):  # not turned into a message: the traceback stays
        run_qamtu("settlements", "search", "Шымкент", check=False)


def test_the_error_prefix_names_the_command_never_argv():
    url = "postgresql://qamtu:s3cret-pw@127.0.0.1:1/db"
    for args in (["sessions", "list", f"--db={url}"], ["inspection", "list", "--db", url],
                 ["probe", f"--db={url}", "--port", "/dev/null", "--inspector", "A", "--max-samples", "1"]):
        out = run_qamtu(*args, check=False)
        assert out.returncode == 1, out.stderr
        command = " ".join(a for a in args[:2] if not a.startswith("-"))
        assert out.stderr.startswith(f"error (qamtu {command}): "), out.stderr
        assert "s3cret-pw" not in out.stderr + out.stdout and "***" in out.stderr


# --------------------------------------------------------------------------- choices from registries
def test_probe_refuses_an_unknown_driver_or_method_at_once_and_writes_nothing(tmp_path):
    from qamtu.device.drivers import driver_names
    from qamtu.probe.speedtest import method_names

    db = tmp_path / "never.db"
    common = ["--port", "/dev/null", "--inspector", "A", "--db", str(db), "--max-samples", "1"]
    out = run_qamtu("probe", *common, "--driver", "nokia", check=False)
    assert out.returncode == 2 and f"'nokia' is not one of: {', '.join(driver_names())}" in flat(out.stderr)
    out = run_qamtu("probe", *common, "--speedtest-method", "iperf", "--speedtest-server", "http://127.0.0.1:9",
                    check=False)
    assert out.returncode == 2 and f"'iperf' is not one of: {', '.join(method_names())}" in flat(out.stderr)
    out = run_qamtu("probe", *common, "--lang", "de", check=False)
    assert out.returncode == 2 and "'de' is not one of: kk, ru, en" in flat(out.stderr)
    assert not db.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, bad, valid", [
    (["modem", "read", "--port", "/dev/null", "--driver", "nokia"], "nokia", "qamtu.device.drivers:driver_names"),
    (["simulate", "modem", "--profile", "nokia-1", "--duration", "0"], "nokia-1",
     "qamtu.device.simulator:profile_names"),
    (["speedtest", "--server", "http://127.0.0.1:9", "--method", "iperf"], "iperf",
     "qamtu.probe.speedtest:method_names"),
    (["speedtest", "--server", "http://127.0.0.1:9", "--binding", "sideways"], "sideways", None),
    (["inspection", "documents", "X", "--out", "d", "--lang", "kk,en"], "en", "qamtu.reports.documents:LANGS"),
    (["inspection", "new", "--grounds", "anonymous", "--grounds-number", "1", "--grounds-date", "2026-01-01",
      "--operator", "Kcell", "--kato", "1", "--address", "a", "--act-number", "1", "--act-registered", "2026-01-01",
      "--inspector", "A", "--instrument", "I"], "anonymous", None),
    (["problems", "template", "plans", "--out", "t.csv"], "plans", None),
])
def test_every_choice_option_lists_the_registry_and_fails_before_work(tmp_path, monkeypatch, args, bad, valid):
    monkeypatch.chdir(tmp_path)
    out = run_qamtu(*args, check=False)
    assert out.returncode == 2 and f"'{bad}' is not one of:" in flat(out.stderr), out.stderr
    if valid:
        module, name = valid.split(":")
        names = getattr(__import__(module, fromlist=[name]), name)
        names = names() if callable(names) else names
        assert ", ".join(names) in flat(out.stderr)
    assert list(tmp_path.iterdir()) == [], "nothing written"


def test_help_lists_choices_from_the_registries():
    from qamtu.device.drivers import driver_names
    from qamtu.device.simulator import profile_names
    from qamtu.mapping.writers import exporter_names
    from qamtu.probe.speedtest import method_names

    assert ", ".join(driver_names()) in flat(run_qamtu("modem", "read", "--help").stdout)
    assert ", ".join(profile_names()) in flat(run_qamtu("simulate", "modem", "--help").stdout)
    assert ", ".join(method_names()) in flat(run_qamtu("speedtest", "--help").stdout)
    assert ", ".join(exporter_names()) in flat(run_qamtu("coverage", "classify", "--help").stdout)
    assert "kz-coverage-2026.1" in flat(run_qamtu("map", "coverage", "--help").stdout)
    assert "{choices:" not in run_qamtu("probe", "--help").stdout


def test_rules_and_export_suffixes_are_checked_before_the_store_is_opened(tmp_path):
    missing = tmp_path / "none.db"   # would be "no such store" (exit 1) if the command ran
    out = run_qamtu("coverage", "classify", "--db", str(missing), "--rules", "kz-coverage-1999", check=False)
    assert out.returncode == 2 and "neither a bundled rule set nor a file" in flat(out.stderr)
    assert "kz-coverage-2026.1" in flat(out.stderr)
    out = run_qamtu("map", "coverage", "--db", str(missing), "--out", str(tmp_path / "m.html"),
                    "--export", str(tmp_path / "x.kml"), check=False)
    assert out.returncode == 2 and ".csv, .geojson, .gpkg, .parquet" in flat(out.stderr)
    # a bundled rule set by name passes the check and the command goes on to the (missing) store
    out = run_qamtu("coverage", "classify", "--db", str(missing), "--rules", "kz-coverage-2026.1", check=False)
    assert out.returncode == 1 and "error (qamtu coverage classify)" in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_transcript_profile_is_accepted_by_its_prefix():
    from qamtu.cli import SIM_PROFILE

    assert SIM_PROFILE.check_one("transcript:/tmp/x.txt") == "transcript:/tmp/x.txt"
    assert SIM_PROFILE.check_one("quectel-ec25") == "quectel-ec25"


# --------------------------------------------------------------------------- passwords
@pytest.mark.parametrize("text, secret", [
    ("postgresql://qamtu:pw1@127.0.0.1:5432/db", "pw1"),
    ("postgres://qamtu:p@ss:w0rd@host/db?sslmode=require", "p@ss:w0rd"),
    ("postgresql://host/db?user=u&password=pw3&sslmode=disable", "pw3"),
    ("postgresql://host/db?PASSWORD=pw4", "pw4"),
    ("host=127.0.0.1 port=5432 user=u password=pw5 dbname=q", "pw5"),
    ("host=h password = 'pw 6\\' x' dbname=q", "pw 6"),
    ("host=h sslpassword=pw7", "pw7"),
    ("error: postgresql://u:pw8@h/db: cannot connect", "pw8"),
])
def test_one_redaction_for_every_url_and_dsn_form(text, secret):
    shown = redact_secrets(text)
    assert secret not in shown and "***" in shown
    assert redact_secrets(shown) == shown


def test_redaction_leaves_everything_else_alone():
    for text in ("qamtu.db", "postgresql://qamtu@127.0.0.1:5432/db", "http://10.0.0.5:8080/x",
                 "password authentication failed for user \"qamtu\"", "plans [final].csv"):
        assert redact_secrets(text) == text


def test_store_errors_for_every_url_form_hide_the_password(tmp_path):
    for db in ("postgresql://qamtu:pw-a@127.0.0.1:1/db", "postgresql://qamtu@127.0.0.1:1/db?password=pw-b",
               "host=127.0.0.1 port=1 user=qamtu password=pw-c dbname=db"):
        for command in (["sessions", "list"], ["inspection", "list"], ["db", "push", "--from", db, "--to",
                                                                      str(tmp_path / "t.db")]):
            out = run_qamtu(*command, *([] if command[0] == "db" else ["--db", db]), check=False)
            assert out.returncode == 1 and out.stderr.startswith(f"error (qamtu {command[0]} {command[1]}): ")
            assert "pw-" not in out.stderr + out.stdout, out.stderr


# --------------------------------------------------------------------------- data printed literally
HOSTILE = "[/x] Ainur [bold]Б[/bold] \x1b[31mred\x1b[0m\rOK\x08"


def _literal(text: str) -> bool:
    return "[/x] Ainur" in text and "[bold]Б[/bold]" in text and "\x1b" not in text and "\r" not in text \
        and "\x08" not in text and "\\x1b[31mred" in text


def test_sessions_list_and_show_print_markup_and_control_characters_literally(tmp_path):
    db = tmp_path / "[x] q.db"
    with Store(db) as st:
        write_campaign(st, Campaign({"611633100": (42.467228, 68.904243)}, lambda k, o: Condition("LTE", -97, 8, 2),
                                    days=1, samples_per_visit=2, speedtests_per_visit=0, inspector=HOSTILE,
                                    start=datetime(2026, 6, 1, 6, tzinfo=timezone.utc)))
        sid = st.sessions()[0]["session_id"]
    listed = run_qamtu("sessions", "list", "--db", str(db), env={"COLUMNS": "400"})
    assert _literal(listed.stdout), listed.stdout
    assert f"Sessions in {db}" in listed.stdout
    shown = run_qamtu("sessions", "show", sid, "--db", str(db), env={"COLUMNS": "400"})
    assert _literal(shown.stdout), shown.stdout


def test_inspection_list_and_show_print_markup_literally(tmp_path, gazetteer):
    from qamtu.reports.registers import Registers

    regs = Registers.load(write_registers(tmp_path / "reg"))
    db = tmp_path / "i.db"
    with Store(db) as st:
        insp = new_inspection(st, regs, gazetteer, a_village(gazetteer), address=HOSTILE, inspectors=[HOSTILE],
                              act_number="[/x] 17")
    listed = run_qamtu("inspection", "list", "--db", str(db), env={"COLUMNS": "400"})
    assert "[/x] 17" in listed.stdout
    shown = run_qamtu("inspection", "show", insp.inspection_id, "--db", str(db), env={"COLUMNS": "400"})
    assert _literal(shown.stdout), shown.stdout


def test_a_file_named_with_brackets_prints_as_such(tmp_path):
    plans = tmp_path / "plans [final].csv"
    out = run_qamtu("problems", "template", "plan", "--out", str(plans))
    assert f"wrote {plans}" in out.stdout
    header = next(csv.reader(open(plans, encoding="utf-8")))
    assert header, "the template has a header row"


def test_error_messages_escape_markup_and_control_characters(tmp_path):
    db = tmp_path / "[bold]x\x1b[2J.db"
    out = run_qamtu("sessions", "list", "--db", str(db), check=False)
    assert out.returncode == 1 and "[bold]x" in out.stderr and "\x1b" not in out.stderr and "\\x1b[2J" in out.stderr


def test_safe_shows_every_control_character_and_keeps_text():
    from qamtu.cli import safe

    assert safe(None) == "" and safe(3) == "3" and safe("Шұбарсу") == "Шұбарсу"
    assert safe("a\x1bb\rc\x08d\x7fe\u202ef") == "a\\x1bb\\x0dc\\x08d\\x7fe\\u202ef"
    assert safe("[/x] Ainur") == "\\[/x] Ainur"
    assert safe("line\nnext\ttab") == "line\nnext\ttab"


def test_the_live_view_prints_a_hostile_operator_name_literally():
    """A rogue cell can broadcast any operator name: the probe's live view shows it as text."""
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from qamtu.probe.live import render

    modem = SimpleNamespace(reading=None, identity=SimpleNamespace(sim_operator="[/x] Evil\x1b[2J"),
                            status="modem_lost", samples=3, last_speedtest=None)
    state = SimpleNamespace(session_id="abcdef1234", modems={"/dev/ttyUSB2": modem}, fix=None,
                            fix_reason="bad GGA \x1b]0;title\x07", settlement=None, samples=3, no_service=0,
                            modem_lost=3, speedtests=0)
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(render(state, "en"))
    text = out.getvalue()
    assert "[/x] Evil" in text and "\x1b" not in text and "\\x1b[2J" in text and "\x07" not in text


def test_titles_of_sessions_and_inspection_lists_hide_the_password():
    """On a real PostgreSQL (trust authentication ignores the password, so the URL still opens)."""
    from pg import Cluster, pg_bin, postgis_available

    if pg_bin() is None or not postgis_available():
        pytest.skip("PostgreSQL/PostGIS not installed (apt: postgresql postgresql-15-postgis-3)")
    cluster = Cluster().start()
    try:
        url = cluster.create_db("titles").replace("postgresql://qamtu@", "postgresql://qamtu:pw-title@")
        for command in ("sessions", "inspection"):
            for db in (url, url.replace(":pw-title@", "@") + "?password=pw-title"):
                out = run_qamtu(command, "list", f"--db={db}", env={"COLUMNS": "300"})
                assert "pw-title" not in out.stdout + out.stderr and "***" in out.stdout, out.stdout
                assert ("Sessions in " if command == "sessions" else "Inspections in ") in out.stdout
    finally:
        cluster.stop()
