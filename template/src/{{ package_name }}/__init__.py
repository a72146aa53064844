"""The application package: its tables, its database and its migrations."""

import importlib
import pkgutil

from sqlmodel import SQLModel

# Name every index and constraint: downgrades and SQLite batch migrations need the names.
# This module runs before any module of the package, so before any table class exists.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Modules that hold no tables and cost start-up time (the CLI imports Typer).
_NOT_MODELS = {"__main__", "cli"}


def load_models() -> None:
    """Import every module of the package, so that SQLModel.metadata holds every table."""
    for module in pkgutil.walk_packages(__path__, f"{__name__}."):
        if module.name.rpartition(".")[2] not in _NOT_MODELS:
            importlib.import_module(module.name)
