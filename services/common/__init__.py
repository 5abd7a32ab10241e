"""What every service serves the same way, above the core and below each service."""
