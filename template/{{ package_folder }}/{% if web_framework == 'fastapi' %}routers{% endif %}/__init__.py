"""Your routers (APIRouter modules); include each in app.py. `copier update` never touches them."""
