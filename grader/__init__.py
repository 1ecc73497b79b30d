"""An auto-grader for the gradient-descent exercises: probes run the student's code, judges compare outside it."""

__version__ = "0.1.0"
