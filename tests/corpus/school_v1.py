"""A school: teachers give courses, students enrol in them (a link table with a grade)."""

import datetime
import decimal
import enum

from sqlalchemy import func
from sqlmodel import Field, Relationship, SQLModel


class Term(enum.Enum):
    autumn = "autumn"
    spring = "spring"


class Enrollment(SQLModel, table=True):
    student_id: int | None = Field(default=None, foreign_key="student.id", primary_key=True)
    course_id: int | None = Field(default=None, foreign_key="course.id", primary_key=True)
    grade: str | None = Field(default=None, max_length=2)


class Teacher(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    email: str = Field(max_length=255, unique=True)
    hired_on: datetime.date
    salary: decimal.Decimal = Field(max_digits=8, decimal_places=2)
    courses: list["Course"] = Relationship(back_populates="teacher")


class Course(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=12, unique=True)
    title: str
    credits: int = 5
    term: Term
    teacher_id: int = Field(foreign_key="teacher.id")  # no index: courses are few
    teacher: Teacher = Relationship(back_populates="courses")
    students: list["Student"] = Relationship(back_populates="courses", link_model=Enrollment)


class Student(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    email: str | None = Field(default=None, max_length=255)
    born_on: datetime.date | None = None
    average: float | None = None
    enrolled_at: datetime.datetime | None = Field(
        default=None, sa_column_kwargs={"server_default": func.now()}
    )
    courses: list[Course] = Relationship(back_populates="students", link_model=Enrollment)


class Classroom(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    building: str = Field(max_length=50)
    seats: int
