"""Pure rules that triage and the registry both apply, so that they cannot disagree.

- :mod:`vigie.rules.deadlines`: severity implied by the reported outcome (the floor triage never
  goes below) and the legal reporting deadlines (EU MDR Art. 87, AI Act Art. 73);
- :mod:`vigie.rules.privacy`: pseudonymisation of identifiers and scrubbing of narratives.

No I/O, no clock of their own, nothing above :mod:`vigie.contracts`.
"""
