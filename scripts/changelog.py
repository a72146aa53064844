"""CHANGELOG.md, read as releases: its entries, their versions and the rules they follow.

Standard library only, so no `packaging` for versions: the release workflow runs it with
nothing installed.
"""

import datetime
import re
from dataclasses import dataclass, field

# A PEP 440 public release or pre-release in canonical form: 1.2.0, 1.2.0rc1.
VERSION = re.compile(r"(?P<release>\d+(?:\.\d+)*)(?:(?P<phase>a|b|rc)(?P<number>\d+))?")
HEADING = re.compile(r"## (?P<version>\S+) \((?P<when>[^)]*)\)")
UNRELEASED = "## Unreleased"
PHASES = {"a": 0, "b": 1, "rc": 2}
FINAL = 3


class ChangelogError(ValueError):
    """CHANGELOG.md does not follow its format; the message says where and how to fix it."""


@dataclass(frozen=True, order=True)
class Version:
    """A version that compares as PEP 440 does: 1.0 == 1.0.0 < 1.1.0a1 < 1.1.0rc1 < 1.1.0."""

    key: tuple[tuple[int, ...], int, int] = field(repr=False)
    text: str = field(compare=False)

    @classmethod
    def parse(cls, text: str) -> "Version":
        match = VERSION.fullmatch(text)
        if not match:
            raise ChangelogError(
                f'"{text}" is not a PEP 440 release: write it like 1.2.0 (or 1.2.0rc1)'
            )
        release = tuple(int(part) for part in match["release"].split("."))
        while len(release) > 1 and release[-1] == 0:
            release = release[:-1]
        phase = PHASES[match["phase"]] if match["phase"] else FINAL
        return cls((release, phase, int(match["number"] or 0)), text)

    def __str__(self) -> str:
        return self.text


@dataclass
class Entry:
    """One `## ...` section: a release (version and date), or work not released yet."""

    heading: str
    line: int
    version: Version | None
    date: datetime.date | None
    body: list[str]

    @property
    def released(self) -> bool:
        return self.date is not None

    @property
    def actions(self) -> list[str]:
        return [text for text in self.body if text.startswith("Action:")]


def parse(text: str) -> list[Entry]:
    """The entries, newest first; a heading in neither form raises ChangelogError."""
    entries: list[Entry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            entries.append(parse_heading(line.rstrip(), number))
        elif entries:
            entries[-1].body.append(line)
    if not entries:
        raise ChangelogError("CHANGELOG.md has no entry: add one like '## 1.0.0 (2026-11-24)'")
    return entries


def parse_heading(heading: str, line: int) -> Entry:
    if heading == UNRELEASED:
        return Entry(heading, line, None, None, [])
    match = HEADING.fullmatch(heading)
    if not match:
        raise ChangelogError(
            f"line {line}: '{heading}' is not '## <version> (<YYYY-MM-DD>)',"
            f" '## <version> (unreleased)' or '{UNRELEASED}'"
        )
    try:
        version = Version.parse(match["version"])
    except ChangelogError as error:
        raise ChangelogError(f"line {line}: {error}") from None
    if match["when"] == "unreleased":
        return Entry(heading, line, version, None, [])
    try:
        date = datetime.date.fromisoformat(match["when"])
    except ValueError:
        raise ChangelogError(
            f"line {line}: '{match['when']}' is not a date: write the release date"
            " as YYYY-MM-DD, or 'unreleased'"
        ) from None
    return Entry(heading, line, version, date, [])


def problems(entries: list[Entry], trust_versions: list[str]) -> list[str]:
    """Every rule the entries break; trust_versions: the `_migrations` versions in copier.yml."""
    return [
        *order_problems(entries),
        *action_problems(entries),
        *trust_problems(entries, [Version.parse(v) for v in trust_versions]),
    ]


def order_problems(entries: list[Entry]) -> list[str]:
    found = [
        f"line {entry.line}: '{entry.heading}' is not released, so it must be the first entry"
        for entry in entries[1:]
        if not entry.released
    ]
    versioned = [entry for entry in entries if entry.version is not None]
    for newer, older in zip(versioned, versioned[1:], strict=False):
        if newer.version <= older.version:
            found.append(
                f"line {newer.line}: {newer.version} is above {older.version} (line"
                f" {older.line}): versions must increase, newest entry first"
            )
        if newer.date and older.date and newer.date < older.date:
            found.append(
                f"line {newer.line}: {newer.version} is dated {newer.date}, before"
                f" {older.version} ({older.date}): dates must not go back"
            )
    return found


def action_problems(entries: list[Entry]) -> list[str]:
    return [
        f"line {entry.line}: '{entry.heading}' has no 'Action:' line: say what an existing"
        " project must do on `copier update` (e.g. 'Action: none.')"
        for entry in entries
        if not entry.actions
    ]


def trust_problems(entries: list[Entry], trust_versions: list[Version]) -> list[str]:
    found = []
    for version in trust_versions:
        entry = entry_for(entries, version)
        if entry is None:
            found.append(
                f"copier.yml has a _migrations step for {version}, but CHANGELOG.md has no"
                f" {version} entry: add it (or '{UNRELEASED}' on top) and say it needs --trust"
            )
        elif not any("--trust" in action for action in entry.actions):
            found.append(
                f"line {entry.line}: '{entry.heading}' ships a _migrations step (copier.yml),"
                " so its Action: line must say it needs `copier update --trust`"
            )
    return found


def entry_for(entries: list[Entry], version: Version) -> Entry | None:
    """The entry of version; an `Unreleased` top entry stands for any version above the rest."""
    for entry in entries:
        if entry.version == version:
            return entry
    top = entries[0]
    if top.version is None and all(version > e.version for e in entries[1:] if e.version):
        return top
    return None
