"""Pure rules that triage and the registry both apply, so that they cannot disagree.

- :mod:`vigie.rules.deadlines`: severity implied by the reported outcome (the floor triage never
  goes below) and the legal reporting deadlines (EU MDR Art. 87, AI Act Art. 73);
- :mod:`vigie.rules.evidence`: what a report's AI part says of its severity (a followed AI
  output with an unknown outcome counts as serious);
- :mod:`vigie.rules.privacy`: pseudonymisation of identifiers and scrubbing of narratives.

No I/O, no clock of their own, nothing above :mod:`vigie.contracts`.
"""
