"""The documentation stays in step with the code: the settings table, the model list, a page
per job, and links that resolve."""

from __future__ import annotations

import re

from api.engines import ALL_SPECS
from api.jobs import JOBS
from api.settings import REPO_ROOT, settings_table

DOCS = REPO_ROOT / "docs"


def test_configuration_page_carries_the_settings_table():
    assert settings_table().strip() in (DOCS / "configuration.md").read_text()


def test_every_model_is_listed():
    text = (DOCS / "models.md").read_text()
    assert [s.name for s in ALL_SPECS if f"`{s.name}`" not in text] == []


def test_every_job_has_a_page():
    for name in JOBS:
        page = DOCS / "jobs" / f"{name.split('-')[0] if name.startswith('stamps') else name}.md"
        assert page.is_file(), name
        assert f"`{name}`" in page.read_text(), name


def test_readme_is_a_front_door_and_its_links_resolve():
    readme = (REPO_ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 160
    for path in [REPO_ROOT / "README.md", *DOCS.rglob("*.md")]:
        for target in re.findall(r"\]\(([^)#]+)\)", path.read_text()):
            if "://" not in target:
                assert (path.parent / target).exists(), (path, target)
