"""The instructor's check modules: `<exercise>.py` the public checks, `hidden/<exercise>.py` the hidden ones. They
compute references, so they never ship; `grader.checks.load_checks` imports them when present (a student bundle runs
the public checks as baked at release time instead)."""
