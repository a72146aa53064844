"""Check CHANGELOG.md against its rules and copier.yml: `python scripts/check_changelog.py [REPO]`.

Versions increase, newest entry first; every entry has an `Action:` line; a release whose
version has a `_migrations` step in copier.yml says it needs `--trust`. Exits 1 with one line
per problem.
"""

import sys
from pathlib import Path

import yaml
from changelog import ChangelogError, parse, problems

UNVERSIONED_STEP = (
    "copier.yml has a _migrations step without a version: Copier runs it on every update, so"
    " every update would need --trust; give it the version of the release that needs it"
)


class CopierLoader(yaml.SafeLoader):
    """copier.yml's own tags (`!include`) name other files; only `_migrations` matters here."""


CopierLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def migration_steps(copier_yml: Path) -> list[object]:
    """The `_migrations` steps, from every YAML document of copier.yml."""
    documents = yaml.load_all(copier_yml.read_text(), Loader=CopierLoader)
    return [step for doc in documents if doc for step in doc.get("_migrations", [])]


def check(repository: Path) -> list[str]:
    steps = migration_steps(repository / "copier.yml")
    versions = [
        str(step["version"]) for step in steps if isinstance(step, dict) and "version" in step
    ]
    found = [UNVERSIONED_STEP] if len(versions) < len(steps) else []
    try:
        return found + problems(parse((repository / "CHANGELOG.md").read_text()), versions)
    except ChangelogError as error:
        return [*found, str(error)]


def main() -> int:
    repository = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    found = check(repository)
    for problem in found:
        print(f"CHANGELOG.md: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
