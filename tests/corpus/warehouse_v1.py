"""A warehouse: zones hold bins, products sit in bins and carry labels (many-to-many)."""

import enum
import uuid

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel


class ProductState(enum.Enum):
    new = "new"
    active = "active"
    retired = "retired"


class Zone(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40)


class Bin(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(max_length=20)
    zone_id: int | None = Field(default=None, foreign_key="zone.id", index=True)


class ProductLabel(SQLModel, table=True):
    product_id: int | None = Field(default=None, foreign_key="product.id", primary_key=True)
    label_id: int | None = Field(default=None, foreign_key="label.id", primary_key=True)


class Label(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=30)


class Product(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str
    name: str = Field(max_length=80)
    note: str = Field(
        default="it's new", max_length=40, sa_column_kwargs={"server_default": "it's new"}
    )
    state: ProductState = ProductState.active
    weight: float
    batch: uuid.UUID = Field(default_factory=uuid.uuid4)
    specs: dict = Field(default_factory=dict, sa_type=JSON)
    bin_id: int | None = Field(default=None, foreign_key="bin.id")
