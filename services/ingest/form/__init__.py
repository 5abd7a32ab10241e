"""The server-rendered report form, in French and English."""
