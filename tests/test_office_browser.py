"""The office in a real browser: Debian's Chromium driven by Selenium through Debian's chromedriver
(no browser download), against the app under uvicorn on loopback. Few and fast: one browser for the
module; each test signs in as the role it needs."""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timezone

import pytest

from office_support import EASY, PASSWORD, app_for, make_store, running
from test_inspection_helpers import inspection_row

pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def office(tmp_path_factory, gazetteer):
    tmp = tmp_path_factory.mktemp("office-browser")
    ids = make_store(tmp / "office.db", gazetteer)
    with running(app_for(ids["store"], tmp, gazetteer=gazetteer, rates=EASY)) as base:
        yield {**ids, "base": base, "tmp": tmp}


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM and CHROMEDRIVER, "install the Debian packages chromium and chromium-driver (.ci/run does)"
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--proxy-server=127.0.0.1:9", "--window-size=1200,900"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def wait(driver, timeout=20):
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException))


def sign_in(driver, base: str, role: str) -> None:
    driver.delete_all_cookies()
    driver.get(base + "/staff/")
    assert "/staff/signin" in driver.current_url
    driver.find_element(By.ID, "name").send_keys(f"{role}1")
    driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
    wait(driver).until(EC.presence_of_element_located((By.ID, "signout")))
    driver.get_log("browser")     # start each test with an empty console


def script_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_sign_in_and_out(browser, office):
    sign_in(browser, office["base"], "desk")
    assert browser.current_url.endswith("/staff/")
    assert "desk1" in browser.find_element(By.CLASS_NAME, "who").text
    browser.find_element(By.ID, "signout").click()
    wait(browser).until(EC.url_contains("/staff/signin"))
    browser.get(office["base"] + "/staff/cases")
    assert "/staff/signin?next=/staff/cases" in browser.current_url
    # a wrong password keeps you out
    browser.find_element(By.ID, "name").send_keys("desk1")
    browser.find_element(By.ID, "password").send_keys("not the password" + Keys.ENTER)
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.error")))
    assert not browser.find_elements(By.ID, "signout")


def test_intake_autocomplete_and_duplicates(browser, office):
    village = office["village"]
    sign_in(browser, office["base"], "desk")
    browser.get(office["base"] + "/staff/intake?lang=ru")
    browser.find_element(By.ID, "number").send_keys("109-777")
    place = browser.find_element(By.ID, "place")
    place.send_keys(village.name_ru[:5])
    item = wait(browser).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, f'#place-list li[data-kato="{village.kato}"]')))
    item.click()
    assert browser.find_element(By.ID, "kato").get_attribute("value") == village.kato
    Select(browser.find_element(By.ID, "operator")).select_by_value("kcell")
    Select(browser.find_element(By.ID, "service")).select_by_value("mobile_internet")
    dupes = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#dupes a")))
    assert dupes.text == office["case0"]
    browser.find_element(By.ID, "substance").send_keys("Интернет не работает с понедельника")
    browser.find_element(By.ID, "applicant-name").send_keys("Ержан Нурланов")
    browser.find_element(By.ID, "postal").send_keys("ул. Абая 5")
    browser.find_element(By.ID, "save").click()
    result = wait(browser).until(EC.presence_of_element_located((By.ID, "intake-result")))
    assert "QT-2026-" in result.text
    assert not script_errors(browser)


def test_issue_answer(browser, office):
    sign_in(browser, office["base"], "head")
    browser.get(office["base"] + f"/staff/complaints/{office['complaint1']}")
    browser.find_element(By.ID, "issue").click()
    answered = wait(browser, 90).until(EC.presence_of_element_located((By.ID, "answered")))
    assert f"ANS-{office['complaint1']}" in answered.text
    files = browser.find_element(By.ID, "answer-files").text
    assert ".pdf" in files and ".docx" in files
    browser.get(office["base"] + f"/staff/cases/{office['case1']}")
    assert browser.find_element(By.ID, "chain").get_attribute("class") == "badge good"
    from qamtu.cases import records
    from qamtu.office import auth

    assert records.get_case(office["store"], office["case1"])["state"] == "answered"
    assert any(r["action"] == "answer_issued" and r["target"] == office["complaint1"]
               for r in auth.audit_log(office["store"]))


def test_upload_store_file(browser, office):
    from qamtu.probe.store import sample_store
    from qamtu.probe.synthetic import Campaign, Condition, write_campaign

    village = office["village"]
    laptop = office["tmp"] / "laptop.db"
    with sample_store(laptop, create=True) as st:
        write_campaign(st, Campaign({village.kato: (village.lat, village.lon)},
                                    lambda k, o: Condition("LTE", -100, 5, 1),
                                    days=1, operators=("401-02",), samples_per_visit=5, speedtests_per_visit=1,
                                    start=datetime(2026, 11, 3, 6, tzinfo=timezone.utc)))
        # an inspection record made on the laptop travels with the sessions (the reports package's merge step)
        st.execute("INSERT INTO inspections VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   inspection_row("INSP-2026-0901", village.kato, operator="401-02"))
    sign_in(browser, office["base"], "inspector")
    reports = []
    for _ in range(2):       # the second upload of the same file adds nothing
        browser.get(office["base"] + "/staff/upload")
        browser.find_element(By.ID, "store-file").send_keys(str(laptop))
        browser.find_element(By.ID, "upload-button").click()
        wait(browser).until(EC.url_contains("?job="))
        wait(browser, 60).until(lambda d: d.find_element(By.ID, "job-state").get_attribute("data-final"))
        assert browser.find_element(By.ID, "job-state").get_attribute("data-final") == "done"
        reports.append(browser.find_element(By.ID, "job-report").text)
    n = office["store"].scalar("SELECT COUNT(*) FROM samples")
    assert n == 5
    assert reports[0] != reports[1] and "+0 " in reports[1]
    assert re.search(r"(Тексерулер|Проверки): \+1 =0 ×0", reports[0]), reports[0]
    assert re.search(r"(Тексерулер|Проверки): \+0 =1 ×0", reports[1]), reports[1]
    assert office["store"].scalar("SELECT kato FROM inspections WHERE inspection_id = 'INSP-2026-0901'") == village.kato
    browser.get(office["base"] + "/staff/inspections")     # the merged record is read like any other
    assert "INSP-2026-0901" in browser.find_element(By.TAG_NAME, "main").text
    assert not script_errors(browser)


def test_maps_without_script_errors(browser, office):
    sign_in(browser, office["base"], "inspector")
    browser.get_log("browser")
    for path in ("/staff/maps/coverage", "/staff/maps/problems", f"/staff/cases/{office['case0']}"):
        browser.get(office["base"] + path)
        el_id = "case-map" if "cases" in path else "live-map"
        wait(browser, 60).until(lambda d: d.find_element(By.ID, el_id).get_attribute("data-ready"))
        assert browser.find_element(By.ID, el_id).get_attribute("data-ready") == "1", path
        assert browser.find_elements(By.CSS_SELECTOR, ".leaflet-interactive, canvas"), path
        assert not script_errors(browser), path


def test_language_switch_and_phone_width(browser, office):
    sign_in(browser, office["base"], "desk")
    browser.find_element(By.CSS_SELECTOR, 'a[href="?lang=ru"]').click()
    wait(browser).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "header nav"), "Дела"))
    browser.get(office["base"] + "/staff/cases")              # remembered in the cookie
    assert "Дела" in browser.find_element(By.TAG_NAME, "h1").text
    browser.find_element(By.CSS_SELECTOR, 'a[href="?lang=kk"]').click()
    wait(browser).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Істер"))
    browser.set_window_size(390, 844)                         # a phone
    try:
        for path in ("/staff/cases", "/staff/intake", f"/staff/cases/{office['case0']}"):
            browser.get(office["base"] + path)
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, (path, overflow)
    finally:
        browser.set_window_size(1200, 900)
