"""Reporters' follow-ups: information added to a report after it was sent."""
