"""The template's database kit: `copier update` keeps this folder current; your code lives
beside it (models.py, migration_hooks.py and the rest of the package).

Importing it names every constraint and index (naming.py): env.py imports it before any
model, so every table class is defined under the convention.
"""

from sqlmodel import SQLModel

from .naming import NAMING_CONVENTION

# Set before any table class exists: SQLModel applies a convention only to later classes.
SQLModel.metadata.naming_convention = NAMING_CONVENTION
