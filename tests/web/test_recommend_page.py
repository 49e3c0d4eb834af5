"""The recommender form in a real browser: a bad value shows the closest valid one; a valid
scenario shows the plan with rationale, citations, activity, dose and the total dose."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from nenscope.knowledge.recommender import recommend
from nenscope.knowledge.scenario import parse_scenario
from nenscope.web.app import create_app
from nenscope.web.settings import ServiceSettings

from .conftest import LiveServer, screenshot


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = ServiceSettings(data_dir=tmp_path_factory.mktemp("data"), run_jobs=False)
    with LiveServer(create_app(settings)) as live:
        yield live


def test_bad_value_shows_the_suggestion(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/recommend")
    page.fill("[name=question]", "stagin")
    page.fill("[name=weight_kg]", "70")
    page.get_by_role("button", name="Recommend").click()
    error = page.locator("#e-question")
    expect(error).to_contain_text("Did you mean 'staging'?")
    expect(page.locator("[name=question]")).to_have_attribute("aria-invalid", "true")
    # the typed values survive the round trip and no plan is shown
    expect(page.locator("[name=weight_kg]")).to_have_value("70")
    expect(page.get_by_test_id("plan")).to_have_count(0)
    screenshot(page, "recommend-error")


def test_scenario_gives_the_plan_of_the_cli(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/recommend")
    page.fill("[name=question]", "staging")
    page.fill("[name=primary_site]", "small-intestine")
    page.fill("[name=grade]", "G2")
    page.fill("[name=weight_kg]", "80")
    page.check("input[name=metastatic_sites][value=liver]")
    page.get_by_role("button", name="Recommend").click()
    expected = recommend(
        parse_scenario(
            {
                "question": "staging",
                "primary_site": "small-intestine",
                "grade": "G2",
                "weight_kg": 80,
                "metastatic_sites": ["liver"],
            }
        )
    )
    rows = page.get_by_test_id("plan-item")
    expect(rows).to_have_count(len(expected.items))
    assert [r.get_attribute("data-exam") for r in rows.all()] == [
        i.exam.value for i in expected.items
    ]
    total = sum(i.effective_dose_msv or 0.0 for i in expected.items)
    expect(page.get_by_test_id("total-dose")).to_have_text(f"{total:.1f}")
    first_ref = expected.items[0].evidence[0]
    expect(page.locator(f"#ref-{first_ref}")).to_be_visible()
    screenshot(page, "recommend-plan")
