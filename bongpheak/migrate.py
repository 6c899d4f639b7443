"""Schema migrations (alembic) run from the application, on whatever database the process uses."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from bongpheak.settings import ROOT


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = url
    return config


def upgrade(url: str) -> None:
    """Bring the schema to the newest revision."""
    command.upgrade(alembic_config(url), "head")


def check(url: str) -> None:
    """Fail if the models and the migrations disagree (what `alembic check` does)."""
    command.check(alembic_config(url))
