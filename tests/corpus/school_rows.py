"""Rows for school_v1, written through the app's own models and session."""

import datetime
import decimal

from my_project.dbkit.database import make_engine
from my_project.models import Classroom, Course, Enrollment, Student, Teacher, Term
from sqlmodel import Session

with Session(make_engine()) as session:
    curie = Teacher(
        name="Marie Curie",
        email="curie@school.example",
        hired_on=datetime.date(2020, 9, 1),
        salary=decimal.Decimal("4200.50"),
    )
    physics = Course(code="PHY-101", title="Physics", term=Term.autumn, teacher=curie)
    chemistry = Course(
        code="CHE-201", title="Chemistry", credits=3, term=Term.spring, teacher=curie
    )
    ada = Student(name="Ada", email="ada@school.example", born_on=datetime.date(2008, 12, 10))
    alan = Student(name="Alan", email="alan@school.example", average=5.25)
    session.add_all([physics, chemistry, ada, alan, Classroom(building="North", seats=30)])
    session.flush()
    session.add_all(
        [
            Enrollment(student_id=ada.id, course_id=physics.id, grade="A"),
            Enrollment(student_id=ada.id, course_id=chemistry.id),
            Enrollment(student_id=alan.id, course_id=physics.id, grade="B+"),
        ]
    )
    session.commit()
