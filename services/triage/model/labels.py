"""The classes the triage model predicts, in the order of its probability columns.

Both come from the contract, so that the model's class indices follow its vocabulary: the severity
levels (``vigie.contracts.Severity``) and the categories of inappropriate AI suggestions
(``vigie.contracts.AiSuggestionCategory``).
"""

from __future__ import annotations

from vigie.contracts import AiSuggestionCategory, Severity

SEVERITY_LABELS: tuple[str, ...] = tuple(s.value for s in Severity)
CATEGORIES: tuple[str, ...] = tuple(c.value for c in AiSuggestionCategory)
