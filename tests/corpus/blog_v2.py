"""The blog, later: posts have a status and may belong to a series, tags have a colour,
Post.summary is now Post.excerpt (autogenerate sees a drop and an add), and a comment's
author name is optional."""

import datetime
import enum
import uuid

from sqlalchemy import JSON, false, func
from sqlmodel import Field, Relationship, SQLModel


class PostStatus(enum.Enum):
    draft = "draft"
    live = "live"
    archived = "archived"


class PostTag(SQLModel, table=True):
    post_id: int | None = Field(default=None, foreign_key="post.id", primary_key=True)
    tag_id: int | None = Field(default=None, foreign_key="tag.id", primary_key=True)


class Tag(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40, unique=True)
    colour: str = Field(default="grey", max_length=20, sa_column_kwargs={"server_default": "grey"})
    posts: list["Post"] = Relationship(back_populates="tags", link_model=PostTag)


class Author(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(max_length=40, unique=True)
    display_name: str
    bio: str | None = None
    joined_at: datetime.datetime | None = Field(
        default=None, sa_column_kwargs={"server_default": func.now()}
    )
    posts: list["Post"] = Relationship(back_populates="author")


class Series(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    posts: list["Post"] = Relationship(back_populates="series")


class Post(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    public_id: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    author_id: int = Field(foreign_key="author.id")
    series_id: int | None = Field(default=None, foreign_key="series.id", index=True)
    title: str = Field(max_length=200)
    slug: str = Field(max_length=200, unique=True)
    excerpt: str | None = Field(default=None, max_length=500)
    body: str
    status: PostStatus = Field(
        default=PostStatus.draft, sa_column_kwargs={"server_default": "draft"}
    )
    published: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    published_on: datetime.date | None = None
    views: int = 0
    extra: dict | None = Field(default=None, sa_type=JSON)
    author: Author = Relationship(back_populates="posts")
    series: Series | None = Relationship(back_populates="posts")
    tags: list[Tag] = Relationship(back_populates="posts", link_model=PostTag)
    comments: list["Comment"] = Relationship(back_populates="post")


class Comment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    author_name: str | None = Field(default=None, max_length=80)
    body: str
    created_at: datetime.datetime | None = Field(
        default=None, sa_column_kwargs={"server_default": func.now()}
    )
    post: Post = Relationship(back_populates="comments")
