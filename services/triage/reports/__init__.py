"""Triage of submitted reports: the rules around the classifier (``service``) and the Kafka
handler that applies them to ``vigie.reports.v1`` (``handlers``)."""
