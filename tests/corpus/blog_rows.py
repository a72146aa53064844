"""Rows for blog_v1, written through the app's own models and session."""

import datetime

from my_project.dbkit.database import make_engine
from my_project.models import Author, Comment, Post, Tag
from sqlmodel import Session

with Session(make_engine()) as session:
    python, sql = Tag(name="python"), Tag(name="sql")
    grace = Author(handle="grace", display_name="Grace Hopper", bio="Wrote the first compiler.")
    linus = Author(handle="linus", display_name="Linus")
    hello = Post(
        author=grace,
        title="Hello",
        slug="hello",
        summary="The first post.",
        body="Hello, world.",
        published=True,
        published_on=datetime.date(2026, 1, 1),
        views=42,
        extra={"pinned": True},
        tags=[python, sql],
    )
    draft = Post(author=linus, title="Draft", slug="draft", body="Soon.", tags=[sql])
    session.add_all([hello, draft])
    session.add_all(
        [
            Comment(post=hello, author_name="Ada", body="Nice."),
            Comment(post=hello, author_name="Alan", body="Agreed."),
        ]
    )
    session.commit()
