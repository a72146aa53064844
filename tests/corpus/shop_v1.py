"""A shop: customers order products, which carry tags (many-to-many)."""

import datetime
import decimal
import enum
import uuid

from sqlalchemy import JSON, func
from sqlmodel import Field, Relationship, SQLModel


class OrderStatus(enum.Enum):
    pending = "pending"
    paid = "paid"


class ProductTagLink(SQLModel, table=True):
    product_id: int | None = Field(default=None, foreign_key="product.id", primary_key=True)
    tag_id: int | None = Field(default=None, foreign_key="tag.id", primary_key=True)


class Tag(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, unique=True)
    products: list["Product"] = Relationship(back_populates="tags", link_model=ProductTagLink)


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=255, unique=True)
    name: str
    active: bool = True
    created_at: datetime.datetime | None = Field(
        default=None, sa_column_kwargs={"server_default": func.now()}
    )
    orders: list["Order"] = Relationship(back_populates="customer")


class Product(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    sku: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    name: str = Field(max_length=200, index=True)
    price: decimal.Decimal = Field(max_digits=10, decimal_places=2)
    weight: float | None = None
    attributes: dict | None = Field(default=None, sa_type=JSON)
    tags: list[Tag] = Relationship(back_populates="products", link_model=ProductTagLink)


class Order(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    status: OrderStatus = OrderStatus.pending
    placed_on: datetime.date
    customer: Customer = Relationship(back_populates="orders")
