"""Signals about devices: drift reported by the triage monitor, and statistics over reports."""
