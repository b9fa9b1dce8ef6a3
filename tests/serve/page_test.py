#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Browser test of fmnist_serve's page (GET /): headless Chromium driven by Selenium.

Opens the page at --url; checks every control has a label and Tab reaches the file input; checks
the model name, version and alias it shows against GET /health; uploads --image and checks the
ten bars and the top class (--expect-class); draws on the canvas and checks a prediction of the
drawing appears; uploads a text file and checks the server's error message is shown; checks the
page loaded nothing from another origin. Screenshots: --screenshot after the upload (1280x800),
and beside it *-phone.png (the same at a phone's width), *-drawing.png, *-error.png.

Needs Debian's chromium, chromium-driver and python3-selenium. As root (CI) Chromium needs
--no-sandbox, which is always passed: the page is ours and the browser only visits it.
With --fake-page PATH the test starts tests/serve/fake_page_backend.py on PATH instead of --url.
With --fmnist-test-image N it uploads Fashion-MNIST test image N (fmnist_png.py) and expects its
label.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid

import fmnist_png  # beside this file
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

WAIT_S = 30  # generous: a cold model's first forward pass on a busy CI machine
DESKTOP = (1280, 800)
PHONE = (390, 844)


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def http_json(url, data=None, content_type=None):
    """(status, parsed JSON body) of a GET, or of a POST when data is given."""
    request = urllib.request.Request(url, data=data)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=WAIT_S) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def multipart(field, filename, data, content_type):
    boundary = uuid.uuid4().hex
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"'
            f"\r\nContent-Type: {content_type}\r\n\r\n")
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def start_browser(chromium, chromedriver):
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={DESKTOP[0]},{DESKTOP[1]}", "--hide-scrollbars",
                "--force-device-scale-factor=1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)


def set_viewport(driver, width, height):
    """Resizes the window so that its viewport (what a screenshot shows) is width x height."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text.strip()


def wait_for(driver, what, condition):
    try:
        return WebDriverWait(driver, WAIT_S, poll_frequency=0.1).until(lambda d: condition(d))
    except TimeoutException:
        error = text(driver, "error")
        raise Failure(f"timed out after {WAIT_S} s waiting for {what}" +
                      (f" (the page shows the error: {error})" if error else "")) from None


def answered(driver, sent):
    """True once the page shows the answer for the image described by `sent`."""
    return (sent in text(driver, "sent-meta") and text(driver, "status").startswith("Answered") and
            driver.find_element(By.ID, "verdict").get_attribute("data-class-index") is not None)


def bars(driver):
    """[(class index, name, percent text, highlighted)] as the page lists them, top first."""
    rows = driver.find_elements(By.CSS_SELECTOR, "#bars li")
    return [(int(r.get_attribute("data-class-index")), r.find_element(By.CLASS_NAME, "name").text,
             r.find_element(By.CLASS_NAME, "value").text, "top" in r.get_attribute("class").split())
            for r in rows]


def check_bars(driver, classes, expect_class):
    shown = bars(driver)
    check(len(shown) == len(classes), f"{len(shown)} bars shown, expected {len(classes)}")
    check(sorted(i for i, *_ in shown) == list(range(len(classes))), f"bars' classes: {shown}")
    check([h for *_, h in shown] == [True] * 3 + [False] * (len(classes) - 3),
          f"the top three bars, and only they, should be highlighted: {shown}")
    percents = [float(p.rstrip("%")) for _, _, p, _ in shown]
    check(percents == sorted(percents, reverse=True), f"bars not in decreasing order: {percents}")
    check(abs(sum(percents) - 100) < 2, f"percentages sum to {sum(percents)}")
    for index, name, _, _ in shown:
        check(name == classes[index], f"bar {index} is named {name!r}, not {classes[index]!r}")
    if expect_class is not None:
        check(shown[0][1] == expect_class, f"top class {shown[0][1]!r}, expected {expect_class!r}")
        check(text(driver, "verdict").startswith(expect_class),
              f"verdict {text(driver, 'verdict')!r} does not name {expect_class!r}")
    return shown


def draw_boot(driver):
    """An ankle boot in one stroke of the mouse (ActionChains): a zigzag filling the shaft, then the
    foot. Points are canvas pixels (280 x 280) from its centre."""
    canvas = driver.find_element(By.ID, "canvas")
    scale = canvas.size["width"] / 280
    points = []
    for row, y in enumerate(range(-100, 40, 16)):
        points += [(-45, y), (10, y)] if row % 2 == 0 else [(10, y), (-45, y)]
    for row, y in enumerate(range(40, 96, 14)):
        points += [(-45, y), (100, y)] if row % 2 == 0 else [(100, y), (-45, y)]
    chain = ActionChains(driver)
    x0, y0 = points[0]
    chain.move_to_element_with_offset(canvas, round(x0 * scale), round(y0 * scale)).click_and_hold()
    for (xa, ya), (xb, yb) in zip(points, points[1:]):
        chain.move_by_offset(round(xb * scale) - round(xa * scale),
                             round(yb * scale) - round(ya * scale))
    chain.release().perform()


def run(driver, args, url, out_stem):
    base = url.rstrip("/") + "/"
    status, health = http_json(base + "health")
    check(status == 200, f"GET /health answered {status}: {health}")
    status, classes = http_json(base + "classes")
    check(status == 200 and len(classes.get("classes", [])) == 10, f"GET /classes: {classes}")
    classes = classes["classes"]
    model = health["model"]

    set_viewport(driver, *DESKTOP)
    driver.get(base)
    check("Fashion-MNIST" in driver.title, f"page title {driver.title!r}")

    # Every control has a name a screen reader can say, and the keyboard reaches the file input.
    unnamed = driver.execute_script(
        "return [...document.querySelectorAll('input, button, canvas')].filter(e =>"
        " !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())"
        ".map(e => e.outerHTML)")
    check(not unnamed, f"controls without a label: {unnamed}")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    focused = driver.switch_to.active_element.get_attribute("id")
    check(focused == "file", f"the first Tab focuses #{focused}, not the file input")
    driver.execute_script("document.activeElement.blur()")  # no focus ring in the screenshots

    # 1. The model, as /health names it.
    wait_for(driver, "the model name",
             lambda d: text(d, "model-name") not in ("", "…", "loading…"))
    want = {"model-name": model.get("name") or "(unnamed)",
            "model-version": model.get("version") or "none",
            "model-alias": "@" + model["alias"] if model.get("alias") else "none"}
    for element_id, value in want.items():
        check(text(driver, element_id) == value,
              f"#{element_id} shows {text(driver, element_id)!r}, /health says {value!r}")
    for key in ("name", "version", "alias"):
        element_id = f"model-{key}"
        expected = getattr(args, f"expect_{key}")
        if expected is not None:
            check(text(driver, element_id).lstrip("@") == expected,
                  f"#{element_id} shows {text(driver, element_id)!r}, expected {expected!r}")
    print(f"model shown: {want}")

    # 2. Upload an image through the file input.
    image = os.path.abspath(args.image)
    driver.find_element(By.ID, "file").send_keys(image)
    wait_for(driver, "the upload's prediction", lambda d: answered(d, os.path.basename(image)))
    shown = check_bars(driver, classes, args.expect_class)
    wait_for(driver, "the top bar to grow", lambda d: d.execute_script(
        "return document.querySelector('#bars .fill').getBoundingClientRect().width") > 0)
    preview = driver.find_element(By.ID, "preview")
    check(preview.is_displayed() and os.path.basename(image) in preview.get_attribute("alt"),
          f"preview of the upload: alt {preview.get_attribute('alt')!r}")
    print(f"upload: {text(driver, 'verdict')}; bars {[(n, p) for _, n, p, _ in shown[:3]]}")
    driver.save_screenshot(args.screenshot)
    set_viewport(driver, *PHONE)
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    check(overflow <= 0, f"{PHONE[0]} px wide (a phone), the page scrolls sideways: {overflow} px")
    driver.save_screenshot(out_stem + "-phone.png")
    set_viewport(driver, *DESKTOP)

    # 3. Draw on the canvas; lifting the pen classifies the drawing.
    driver.find_element(By.ID, "clear").click()
    draw_boot(driver)
    wait_for(driver, "the drawing's prediction", lambda d: answered(d, "your drawing"))
    check_bars(driver, classes, args.expect_drawing_class)
    check(text(driver, "error") == "", f"error shown after drawing: {text(driver, 'error')!r}")
    print(f"drawing: {text(driver, 'verdict')}")
    driver.save_screenshot(out_stem + "-drawing.png")

    # No console errors so far, and nothing loaded from another origin (the page works offline).
    severe = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    check(not severe, f"browser console errors: {severe}")
    foreign = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => !n.startsWith(location.origin) && !/^(blob|data):/.test(n))")
    check(not foreign, f"the page loaded resources from elsewhere: {foreign}")

    # 4. A text file: the server's JSON error message appears in the page.
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "not-an-image.txt")
        with open(bad, "w") as f:
            f.write("this is not an image\n")
        with open(bad, "rb") as f:
            body, content_type = multipart("file", "not-an-image.txt", f.read(), "text/plain")
        status, error = http_json(base + "predict", body, content_type)
        check(400 <= status < 500 and "message" in error,
              f"POST /predict of a text file answered {status} {error}")
        driver.find_element(By.ID, "file").send_keys(bad)
        wait_for(driver, "the error message", lambda d: text(d, "error") != "")
    shown_error = text(driver, "error")
    check(error["message"] in shown_error,
          f"page shows {shown_error!r}, server said {error['message']!r}")
    check(error.get("error_code", "") in shown_error, f"page shows {shown_error!r}, not the code")
    check(not driver.find_element(By.ID, "preview").is_displayed(), "a broken preview is shown")
    check(bars(driver) == [], "bars still shown after a failed upload")
    print(f"bad upload: {shown_error}")
    driver.save_screenshot(out_stem + "-error.png")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="the server's base URL, e.g. http://127.0.0.1:8080")
    where.add_argument("--fake-page", help="serve this index.html with fake_page_backend.py")
    image = parser.add_mutually_exclusive_group(required=True)
    image.add_argument("--image", help="image to upload (e.g. a Fashion-MNIST PNG)")
    image.add_argument("--fmnist-test-image", type=int, metavar="INDEX",
                       help="upload this Fashion-MNIST test image (written as a PNG beside the "
                       "screenshot; its label is the expected class unless --expect-class)")
    parser.add_argument("--expect-class", help="class name the upload must get")
    parser.add_argument("--expect-drawing-class", help="class the drawing must get (default: any)")
    parser.add_argument("--expect-name", help="model name the page must show (default: /health's)")
    parser.add_argument("--expect-version", help="model version the page must show")
    parser.add_argument("--expect-alias", help="alias the page must show (without @)")
    parser.add_argument("--screenshot", required=True,
                        help="PNG written after the upload; *-phone, *-drawing, *-error.png "
                        "beside it")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args()

    os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
    out_stem = os.path.splitext(args.screenshot)[0]
    if args.fmnist_test_image is not None:
        grey, label, (width, height) = fmnist_png.test_image(fmnist_png.DEFAULT_DIR,
                                                             args.fmnist_test_image)
        args.image = os.path.join(os.path.dirname(os.path.abspath(args.screenshot)),
                                  f"fashion-mnist-test-{args.fmnist_test_image}.png")
        with open(args.image, "wb") as f:
            f.write(fmnist_png.png(grey, width, height))
        args.expect_class = args.expect_class or fmnist_png.CLASSES[label]
    fake = None
    driver = None
    try:
        url = args.url
        if args.fake_page:
            fake = subprocess.Popen(
                [sys.executable, os.path.join(os.path.dirname(__file__), "fake_page_backend.py"),
                 "--page", args.fake_page], stdout=subprocess.PIPE, text=True)
            url = fake.stdout.readline().strip()
            check(url.startswith("http://"), "fake_page_backend.py did not start")
        driver = start_browser(args.chromium, args.chromedriver)
        run(driver, args, url, out_stem)
    except Failure as e:
        print(f"page_test: FAILED: {e}", file=sys.stderr)
        if driver:
            driver.save_screenshot(out_stem + "-failure.png")
            print(f"page_test: the page at the failure: {out_stem}-failure.png", file=sys.stderr)
        return 1
    finally:
        if driver:
            driver.quit()
        if fake:
            fake.terminate()
            fake.wait()
    print(f"page_test: passed; screenshot {args.screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
