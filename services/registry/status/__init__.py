"""The reporters' status page: what became of a report, behind the link given at submission."""
