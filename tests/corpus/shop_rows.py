"""Rows for shop_v1, written through the app's own models and session."""

import datetime
import decimal

from my_project.dbkit.database import make_engine
from my_project.models import Customer, Order, OrderStatus, Product, Tag
from sqlmodel import Session

with Session(make_engine()) as session:
    red, gift = Tag(name="red"), Tag(name="gift")
    cup = Product(
        name="Cup",
        price=decimal.Decimal("9.50"),
        weight=0.3,
        attributes={"colour": "red", "sizes": [1, 2]},
        tags=[red, gift],
    )
    plate = Product(name="Plate", price=decimal.Decimal("12.00"), tags=[gift])
    ann = Customer(email="ann@example.com", name="Ann")
    bob = Customer(email="bob@example.com", name="Bob", active=False)
    session.add_all([cup, plate, ann, bob])
    session.add_all(
        [
            Order(customer=ann, status=OrderStatus.paid, placed_on=datetime.date(2026, 1, 2)),
            Order(customer=ann, placed_on=datetime.date(2026, 2, 3)),
            Order(customer=bob, placed_on=datetime.date(2026, 3, 4)),
        ]
    )
    session.commit()
