"""What stays with the instructor: class grading (batch, sandbox, shards, gradebook, the class report), the
Gradescope and nbgrader front ends, the release and its audit, and the check modules that compute references
(`grader.instructor.checks`, hidden checks included). A student bundle holds none of it (`grader.instructor.bundle`)."""
