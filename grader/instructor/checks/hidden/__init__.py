"""Hidden checks: run only when an instructor grades. Not shipped in the student bundle."""
