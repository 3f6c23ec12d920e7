#!/usr/bin/env python3
"""Load an HTML report of scripts/grpc-leak-report.py in headless Chromium
(Selenium with Debian's chromium-driver) and print what a reader sees.

    html_report_check.py REPORT.html [--screenshot PNG] [--timeout SECONDS]

Prints, one per line:
  title: <the page's title>
  summary: <check> <findings> <files>          one per row of "By check"
  finding: <check> <file:line:col> steps=<n> fixes=<m>
      one per finding shown, in page order: the annotations in its code
      excerpt (the warning and each note), the fix-its among them
  showing: <the filter's count line>
  unchecked <check>: <the count line>          after unticking that check's
      box (the first one), and "hidden: <k>" (findings hidden, which must
      be that check's); then after the "none" and the "all" buttons
  resources loaded: <n>     what the page fetched besides itself (must be 0)
  console: <level> <message>                   each browser console entry
  console errors: <n>
Exit status 0 if the page loaded (whatever it shows), 1 otherwise. Chromium
runs with a fresh profile in a temporary directory; every process it leaves
is killed by its process id (see reaper.py).
"""

import argparse
import os
import pathlib
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reaper import become_subreaper, reap_leftovers  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


def visible_findings(driver):
    return [f for f in driver.find_elements(By.CSS_SELECTOR, ".finding") if f.is_displayed()]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("report")
    parser.add_argument("--screenshot")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)

    become_subreaper()
    profile = tempfile.mkdtemp(prefix="grpc-leak-html-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                 "--disable-extensions", "--disable-background-networking", "--disable-sync",
                 "--window-size=1280,1600", "--user-data-dir=" + profile):
        options.add_argument(flag)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = None
    try:
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
        driver.set_page_load_timeout(args.timeout)
        driver.set_script_timeout(args.timeout)
        driver.get(pathlib.Path(os.path.abspath(args.report)).as_uri())
        print("title: %s" % driver.title)
        for row in driver.find_elements(By.CSS_SELECTOR, "#by-check tr")[1:]:
            cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
            print("summary: %s" % " ".join(cells))
        for finding in visible_findings(driver):
            check = finding.get_attribute("data-check")
            where = finding.find_element(By.CSS_SELECTOR, ".where").text
            steps = len(finding.find_elements(By.CSS_SELECTOR, ".ann"))
            fixes = len(finding.find_elements(By.CSS_SELECTOR, ".ann .fix"))
            print("finding: %s %s steps=%d fixes=%d" % (check, where, steps, fixes))
        count = driver.find_elements(By.ID, "count")
        if count:
            print("showing: %s" % count[0].text)
            boxes = driver.find_elements(By.CSS_SELECTOR, "#filters input[type=checkbox]")
            first = boxes[0].get_attribute("value")
            before = {id(f): f for f in visible_findings(driver)}
            boxes[0].click()
            print("unchecked %s: %s" % (first, count[0].text))
            hidden = [f for f in before.values() if not f.is_displayed()]
            print("hidden: %d, all %s: %s" % (
                len(hidden), first, all(f.get_attribute("data-check") == first for f in hidden)))
            driver.find_element(By.ID, "none").click()
            print("none: %s" % count[0].text)
            driver.find_element(By.ID, "all").click()
            print("all: %s" % count[0].text)
        resources = driver.execute_script("return performance.getEntriesByType('resource').length")
        print("resources loaded: %d" % resources)
        if args.screenshot:
            driver.save_screenshot(args.screenshot)
        errors = 0
        for entry in driver.get_log("browser"):
            print("console: %s %s" % (entry.get("level"), entry.get("message")))
            if entry.get("level") == "SEVERE":
                errors += 1
        print("console errors: %d" % errors)
        return 0
    except Exception as err:  # a page that does not load, a driver that dies
        print("error: %s" % err, file=sys.stderr)
        return 1
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:
                pass
        reap_leftovers()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
