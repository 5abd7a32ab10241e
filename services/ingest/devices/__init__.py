"""The device catalogue as the report form's typeahead searches it."""
