"""Tag the release that CHANGELOG.md's newest entry names, once: `release_tag.py [--push REMOTE]`.

Run in the repository on the commit to release (the release workflow runs it on main after
CI passed). It makes the PEP 440 tag `<version>` on HEAD when the newest entry is a dated
release without a tag; an `Unreleased` entry, or a version already tagged, makes none. A
version not above the latest tag is an error. Standard library only.
"""

import argparse
import subprocess
import sys

from changelog import ChangelogError, Version, parse


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def release_tags() -> list[Version]:
    versions = []
    for tag in git("tag", "--list").split():
        try:
            versions.append(Version.parse(tag))
        except ChangelogError:
            continue  # not a release tag
    return versions


def release_to_tag() -> Version | None:
    """The newest entry's version if it is released and untagged; None when there is none."""
    newest = parse(git("show", "HEAD:CHANGELOG.md"))[0]
    if not newest.released:
        print(f"The newest CHANGELOG entry, '{newest.heading}', is not released: no tag.")
        return None
    tags = release_tags()
    if newest.version in tags:
        print(f"{newest.version} is already tagged: no tag.")
        return None
    if tags and newest.version <= max(tags):
        raise ChangelogError(
            f"the newest entry, {newest.version}, is not above the latest tag, {max(tags)}:"
            " give the new entry a higher version"
        )
    return newest.version


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--push", metavar="REMOTE", help="push the new tag to this remote")
    arguments = parser.parse_args()
    try:
        version = release_to_tag()
        if version is not None:
            tag(version, arguments.push)
    except ChangelogError as error:
        print(f"CHANGELOG.md: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        said = error.stderr.strip().splitlines() or ["failed"]
        print(f"{' '.join(error.cmd)}: {said[0]}", file=sys.stderr)  # git's first line
        return 1
    return 0


def tag(version: Version, remote: str | None) -> None:
    """Tag HEAD and push the tag; a tag that could not be pushed is removed, for the next run."""
    git("tag", "--annotate", version.text, "--message", f"Release {version}")
    if remote:
        try:
            git("push", remote, f"refs/tags/{version}")
        except subprocess.CalledProcessError:
            git("tag", "--delete", version.text)
            raise
    print(f"Tagged {version} at {git('rev-parse', '--short', 'HEAD').strip()}.")


if __name__ == "__main__":
    sys.exit(main())
