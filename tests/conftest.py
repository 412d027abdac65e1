"""Test databases: SQLite by default, PostgreSQL when VOICES_TEST_DATABASE_URL is set.

A template database is migrated and loaded with the bundled structures once per test session; each
test module that writes gets its own copy (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on
PostgreSQL), so tests never see each other's data.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from exchange.config import Settings
from exchange.db import get_engine

TEST_DB_URL = os.environ.get("VOICES_TEST_DATABASE_URL", "")
REPO = Path(__file__).resolve().parent.parent
SDG_SAMPLES = REPO / "tests" / "data" / "sdg"


def _admin_engine(url: str):  # type: ignore[no-untyped-def]
    parsed = make_url(url).set(drivername="postgresql+psycopg")
    return create_engine(parsed, isolation_level="AUTOCOMMIT")


class DatabaseFactory:
    """Creates isolated, ready-to-use databases (migrated, bundled structures loaded)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.created: list[str] = []
        self.template = self._new_url("template")
        self._prepare(self.template)

    def _new_url(self, label: str) -> str:
        if not TEST_DB_URL:
            return f"sqlite:///{self.tmp / f'{label}-{uuid.uuid4().hex[:8]}.sqlite'}"
        name = f"voices_test_{label}_{uuid.uuid4().hex[:8]}"
        return (
            make_url(TEST_DB_URL)
            .set(drivername="postgresql+psycopg", database=name)
            .render_as_string(hide_password=False)
        )

    def _prepare(self, url: str) -> None:
        from exchange.cli import prepare_database

        if TEST_DB_URL:
            with _admin_engine(TEST_DB_URL).connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{make_url(url).database}"'))
            self.created.append(url)
        prepare_database(Settings(database_url=url))

    def new(self) -> str:
        """A fresh copy of the template database; returns its URL."""
        url = self._new_url("db")
        if TEST_DB_URL:
            get_engine(self.template).dispose()
            with _admin_engine(TEST_DB_URL).connect() as conn:
                conn.execute(
                    text(f'CREATE DATABASE "{make_url(url).database}" TEMPLATE "{make_url(self.template).database}"')
                )
            self.created.append(url)
        else:
            engine = get_engine(self.template)
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            shutil.copyfile(make_url(self.template).database, make_url(url).database)
        return url

    def drop_all(self) -> None:
        for url in self.created:
            get_engine(url).dispose()
        if TEST_DB_URL:
            with _admin_engine(TEST_DB_URL).connect() as conn:
                for url in self.created:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.drop_all()


@pytest.fixture(scope="module")
def db_url(databases: DatabaseFactory) -> str:
    """A database of the module's own, ready to use."""
    return databases.new()


@pytest.fixture(scope="module")
def settings(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path_factory.mktemp("data"), max_upload_bytes=5 * 1024 * 1024)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def make_token(settings: Settings) -> Callable[..., str]:
    from exchange.auth import create_token

    def make(role: str = "admin", provider: str | None = None, name: str = "test") -> str:
        return create_token(get_engine(settings.db_url), name=name, role=role, provider=provider)[1]

    return make
