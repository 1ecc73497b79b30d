"""Judging logic of the public checks that is particular to one exercise, shipped to students.

Each function here is the `logic` of a `grader.judges.DataJudge`: it decides from plain data — a static spec and the
values the instructor's sources computed for each probe (baked into the student bundle at release time) — and from
what the student's code returned. Nothing here computes a reference: no exercise is implemented in this package.
"""
