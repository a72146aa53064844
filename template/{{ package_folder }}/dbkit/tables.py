"""Every table of the package, for autogenerate: the modules that define them, imported."""

import ast
import importlib
import re
import sys
from pathlib import Path

# What a module that defines tables has in its source: SQLModel, Table() or declarative.
_DEFINES_TABLES = re.compile(rb"table\s*=\s*True|\bTable\(|__tablename__")
# The kit itself; and the migrations that a wheel carries inside the package (any folder
# with Alembic's script.py.mako) are not models either.
_NOT_MODELS = {"dbkit"}
# Calls whose result a module may drop at import time without starting anything.
_HARMLESS_CALLS = {"load_dotenv", "basicConfig", "filterwarnings", "simplefilter"}
_HARMLESS_CALLS |= {"model_rebuild", "update_forward_refs", "configure_mappers", "getLogger"}
PACKAGE = __package__.rpartition(".")[0]  # the package that holds the kit


class UnsafeModelModule(Exception):
    """A module that defines tables does something else when imported; says what to change."""


def load_models() -> None:
    """Import every module of the package that defines tables, so that SQLModel.metadata holds
    every table wherever it is (env.py needs no edit for a new module).

    Only modules whose source defines a table are imported: importing an app module could
    start the app. One of them that runs code when imported (starts a server, creates the
    tables) is refused before anything is imported.
    """
    package = Path(__file__).parents[1]
    alembic_folders = {path.parent for path in package.glob("*/script.py.mako")}
    modules = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not parts or parts[0] in _NOT_MODELS or not all(p.isidentifier() for p in parts):
            continue
        if package / parts[0] in alembic_folders:
            continue
        module = ".".join((PACKAGE, *parts))
        if module in sys.modules:
            continue  # imported already (env.py runs again in the same process): nothing to check
        source = path.read_bytes()
        if _DEFINES_TABLES.search(source):
            check_import_is_quiet(path, source)
            modules.append(module)
    for module in modules:
        importlib.import_module(module)


def check_import_is_quiet(path: Path, source: bytes) -> None:
    """Refuse a models module whose import calls something: a server, an app, create_all()."""
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError:
        return  # importing it reports the error where it is
    for call in _calls_on_import(tree.body):
        name = ast.unparse(call.func)
        if name.rpartition(".")[2] in _HARMLESS_CALLS:
            continue
        where = f"{path.parent.name}/{path.name}:{call.lineno}"
        if name.endswith("create_all"):
            raise UnsafeModelModule(
                f"{where} calls {name}() when it is imported: the migrations make the tables"
                " now (`alembic upgrade head`). Remove that call (a test can call it itself)."
            )
        raise UnsafeModelModule(
            f"{where} calls {name}() when it is imported, and the migrations import every"
            " module that defines tables: move that call into a function, or under"
            ' `if __name__ == "__main__":`, or move the tables into a module of their own.'
        )


def _calls_on_import(statements: list[ast.stmt]) -> list[ast.Call]:
    """The calls whose result is dropped, in statements that run on import."""
    calls = []
    for statement in statements:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            calls.append(statement.value)
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Await):
            calls += [c for c in ast.walk(statement.value) if isinstance(c, ast.Call)][:1]
        elif isinstance(statement, ast.If) and not _is_main_guard(statement.test):
            calls += _calls_on_import(statement.body) + _calls_on_import(statement.orelse)
        elif isinstance(statement, (ast.With, ast.For, ast.While, ast.Try)):
            nested = [*statement.body, *getattr(statement, "orelse", [])]
            nested += getattr(statement, "finalbody", [])
            calls += _calls_on_import(nested)
    return calls


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )
