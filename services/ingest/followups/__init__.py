"""Follow-ups: what a reporter adds to a report already sent, through its status link."""
