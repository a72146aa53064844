"""The warehouse, later: zones and labels are gone (with the foreign key to a zone and the link
table), bin labels are unique, product codes have at most 30 characters and names no limit, a
product state loses "new", and weight, batch and specs are dropped."""

import enum

from sqlmodel import Field, SQLModel


class ProductState(enum.Enum):
    active = "active"
    retired = "retired"


class Bin(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(max_length=20, unique=True)


class Product(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=30)
    name: str
    note: str = Field(
        default="it's new", max_length=40, sa_column_kwargs={"server_default": "it's new"}
    )
    state: ProductState = ProductState.active
    bin_id: int | None = Field(default=None, foreign_key="bin.id")
