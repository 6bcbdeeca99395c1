"""Offline verification of evidence packages and of whole ledgers."""
