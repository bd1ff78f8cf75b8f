"""Scheduling: appointments (the write API), the calendar's read queries."""
