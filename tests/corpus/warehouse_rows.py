"""Rows for warehouse_v1, written through the app's own models and session."""

from my_project.dbkit.database import make_engine
from my_project.models import Bin, Label, Product, ProductLabel, Zone
from sqlmodel import Session

with Session(make_engine()) as session:
    north = Zone(name="North")
    fragile, heavy = Label(text="fragile"), Label(text="heavy")
    session.add_all([north, fragile, heavy])
    session.flush()
    shelf = Bin(label="N-01", zone_id=north.id)
    floor = Bin(label="N-02")
    session.add_all([shelf, floor])
    session.flush()
    vase = Product(code="VASE-1", name="Vase", weight=1.5, specs={"glass": True}, bin_id=shelf.id)
    anvil = Product(code="ANVIL-9", name="Anvil", weight=50.0, bin_id=floor.id)
    session.add_all([vase, anvil])
    session.flush()
    session.add_all(
        [
            ProductLabel(product_id=vase.id, label_id=fragile.id),
            ProductLabel(product_id=anvil.id, label_id=heavy.id),
        ]
    )
    session.commit()
