"""The sprint domain: the sprint file, readiness math, reports and scheduled jobs."""
