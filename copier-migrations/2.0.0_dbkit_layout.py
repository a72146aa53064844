"""Copier migration step of release 2.0.0: the template's modules move into src/<package>/dbkit/
and the guard tests into tests/migrations/.

`copier update` removes the files that the template no longer renders, edited or not. So,
before the update, this step keeps your edited versions of them in the git directory; after
it, it carries your edits into the files' new places: merged where they apply, with conflict
markers where they do not, and as a .rej file for autogen.py, which became a package.

    python 2.0.0_dbkit_layout.py before|after <template checkout>   (cwd: the project)
"""

import difflib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from copier import run_copy

# Old path -> new path, relative to the project; {pkg} is the package directory.
MOVES = {
    "src/{pkg}/database.py": "src/{pkg}/dbkit/database.py",
    "src/{pkg}/migrate.py": "src/{pkg}/dbkit/migrate.py",
    "src/{pkg}/naming.py": "src/{pkg}/dbkit/naming.py",
    "src/{pkg}/cli.py": "src/{pkg}/dbkit/cli.py",
    "src/{pkg}/__main__.py": "src/{pkg}/dbkit/__main__.py",
    "tests/migration_support.py": "tests/migrations/migration_support.py",
    "tests/test_migrations.py": "tests/migrations/test_migrations.py",
    "tests/test_startup.py": "tests/migrations/test_startup.py",
}
# An old file whose content went to several new modules: your edits become a .rej file.
SPLIT = {"src/{pkg}/autogen.py": "src/{pkg}/dbkit/autogen/"}
# Yours from now on (never updated again): the old content is replaced only if unedited.
NOW_YOURS = ["src/{pkg}/__init__.py"]


def main(stage: str, template: Path) -> None:
    project = Path.cwd()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    package = answers["package_name"]
    kept = Path(git("rev-parse", "--absolute-git-dir")) / "template-2.0.0"
    paths = [p.format(pkg=package) for p in [*MOVES, *SPLIT, *NOW_YOURS]]
    if stage == "before":
        keep_edited_files(project, template, answers, paths, kept)
        return
    for old, new in MOVES.items():
        merge_edits(project, kept, old.format(pkg=package), new.format(pkg=package))
    for old, folder in SPLIT.items():
        reject_edits(project, kept, old.format(pkg=package), folder.format(pkg=package))
    for path in NOW_YOURS:
        hand_over(project, kept, template, path.format(pkg=package))
    shutil.rmtree(kept, ignore_errors=True)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()


def keep_edited_files(
    project: Path, template: Path, answers: dict, paths: list[str], kept: Path
) -> None:
    """Copy the release's version and yours of each file to move, into the git directory."""
    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    with tempfile.TemporaryDirectory() as scratch:
        released = Path(scratch)
        run_copy(
            str(template), released, data=data, vcs_ref=os.environ["VERSION_FROM"],
            defaults=True, quiet=True, skip_tasks=True,
        )
        for path in paths:
            if (project / path).is_file() and (released / path).is_file():
                for side, source in (("yours", project), ("released", released)):
                    (kept / side / path).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source / path, kept / side / path)


def edited(kept: Path, path: str) -> bool:
    yours, released = kept / "yours" / path, kept / "released" / path
    return yours.is_file() and yours.read_bytes() != released.read_bytes()


def merge_edits(project: Path, kept: Path, old: str, new: str) -> None:
    target = project / new
    if not edited(kept, old) or not target.is_file():
        return
    merged = subprocess.run(
        ["git", "merge-file", "-p", "-L", f"{new} (template)", "-L", "1.0.0",
         "-L", f"your edits of {old}", str(target), str(kept / "released" / old),
         str(kept / "yours" / old)],
        capture_output=True,
    )
    target.write_bytes(merged.stdout)
    state = "with conflict markers to resolve" if merged.returncode else "merged"
    print(f"Your edits of {old} are in {new} ({state}).")


def reject_edits(project: Path, kept: Path, old: str, folder: str) -> None:
    if not edited(kept, old):
        return
    diff = difflib.unified_diff(
        (kept / "released" / old).read_text().splitlines(keepends=True),
        (kept / "yours" / old).read_text().splitlines(keepends=True),
        fromfile=f"a/{old}",
        tofile=f"b/{old}",
    )
    rejected = project / folder / f"{Path(old).name}.rej"
    rejected.write_text("".join(diff))
    print(f"Your edits of {old} are in {rejected.relative_to(project)}: carry them into the")
    print(f"modules of {folder} by hand, then delete the .rej file.")


def hand_over(project: Path, kept: Path, template: Path, path: str) -> None:
    """Replace the file with the template's new one, unless you edited it."""
    package = "/".join(path.split("/")[:2])  # src/<package>: 1.0.0 had only that layout
    source = template / "template" / path.replace(package, "{{ package_folder }}", 1)
    if (project / path).is_file() and not edited(kept, path) and source.is_file():
        shutil.copy2(source, project / path)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
