"""The insights page in a real browser: Debian's Chromium, headless, loads it from the App on
loopback and the test reads the DOM it built (``--dump-dom``): the charts' SVG elements and the
figures, a stranger refused, and no Content-Security-Policy violation reported on its console.

Chromium is required: without it this test fails and says how to install it (``.ci/run``
installs it on a fresh machine).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from appharness import RunningApp, World
from insightsdata import FORBIDDEN, LINT, ODD_RULE, PROTECTED, REPO, TOKEN, fill, with_operator

from prgate.app.operator import login_link
from prgate.app.sqlite_store import SQLiteStore

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-proxy-server",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--enable-logging=stderr",
    "--v=0",
)


def chromium() -> str:
    found = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    if found is None:
        pytest.fail(
            "Chromium is not installed, and this test loads the insights page in it. "
            "Install it with: apt-get install -y chromium   (as root, on Debian or Ubuntu)"
        )
    return found


def dump_dom(url: str, profile: Path) -> tuple[str, str]:
    """The DOM Chromium built for ``url``, and what it wrote on stderr (its console)."""
    done = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


class Elements(HTMLParser):
    """Every element of a DOM: its tag, attributes and the text directly inside it."""

    def __init__(self, dom: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str], list[str]]] = []
        self._open: list[int] = []
        self.feed(dom)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}, []))
        self._open.append(len(self.found) - 1)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self.found[self._open.pop()][0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open:
            self.found[self._open[-1]][2].append(data)

    def all(self, tag: str, **attrs: str) -> list[tuple[dict[str, str], str]]:
        return [
            (a, "".join(text))
            for t, a, text in self.found
            if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]


@pytest.fixture
def app(world: World) -> Iterator[RunningApp]:
    settings = with_operator(world.settings)
    store = SQLiteStore.from_url(settings.database_url)
    fill(store)
    with RunningApp(settings, start_workers=False, store=store) as running:
        yield running


def test_the_operator_sees_the_charts_and_figures_in_a_browser(
    app: RunningApp, tmp_path: Path
) -> None:
    dom, console = dump_dom(login_link(TOKEN, app.url), tmp_path / "profile")
    page = Elements(dom)
    assert [text for _a, text in page.all("h1")] == ["prgate insights"]
    assert page.all("b", id="total-runs")[0][1] == "5"
    (section,) = [a for a, _t in page.all("section") if a.get("data-repo") == REPO]
    assert section

    # The rules chart: one fired and one blocked bar per rule, each carrying its figure, and
    # the bars' lengths on one scale (paths/forbidden fired in 2 runs: the longest bar).
    bars = {(a["data-rule"], a["data-kind"]): a for a, _t in page.all("rect") if "data-kind" in a}
    assert {k: int(a["data-value"]) for k, a in bars.items() if k[0] != ODD_RULE} == {
        (FORBIDDEN, "fired"): 2,
        (FORBIDDEN, "blocked"): 2,
        (LINT, "fired"): 1,
        (LINT, "blocked"): 0,
        (PROTECTED, "fired"): 1,
        (PROTECTED, "blocked"): 1,
    }
    longest = float(bars[(FORBIDDEN, "fired")]["width"])
    assert longest > 0 and float(bars[(LINT, "fired")]["width"]) == pytest.approx(longest / 2)
    assert float(bars[(LINT, "blocked")]["width"]) == 0
    assert len(page.all("svg", data_chart="rules")) == 2  # one per repository
    # The rounds chart: #1 turned green on its third head.
    rounds = {
        a["data-rounds"]: int(a["data-value"])
        for a, _t in page.all("rect", **{"class": "rounds"})
        if a.get("data-rounds")
    }
    assert rounds == {"1": 0, "2": 0, "3": 1, "4": 0, "5+": 0}

    # The tables' figures, as the browser shows them.
    rows = {a["data-rule"]: a for a, _t in page.all("tr") if "data-rule" in a}
    assert set(rows) == {FORBIDDEN, LINT, PROTECTED, ODD_RULE}
    texts = [t for t in page.all("td")]
    assert any(t == "60 min" for _a, t in texts)  # #1's time from failing to green
    assert any(t == "not green yet" for _a, t in texts)  # #2 waits for an approval
    # The rule id that looks like markup is text in the browser, not an element.
    assert [t for _a, t in page.all("code") if t == ODD_RULE] == [ODD_RULE]
    assert not page.all("script")
    assert "Content Security Policy" not in console, console[-2000:]


def test_a_browser_without_the_operators_session_is_refused(
    app: RunningApp, tmp_path: Path
) -> None:
    dom, _console = dump_dom(f"{app.url}/insights", tmp_path / "profile")
    page = Elements(dom)
    assert not page.all("svg") and not page.all("table")
    assert REPO not in dom and "prgate insights --link" in dom
    # A link used once does not open the page again in another browser.
    link = login_link(TOKEN, app.url)
    first, _c = dump_dom(link, tmp_path / "first")
    assert Elements(first).all("svg", data_chart="rules")
    second, _c = dump_dom(link, tmp_path / "second")
    assert not Elements(second).all("svg") and "used already" in second
