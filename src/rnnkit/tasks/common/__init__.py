"""Helpers that several tasks share: text inputs, label encoding, classification reports."""
