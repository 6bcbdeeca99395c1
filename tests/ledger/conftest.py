"""The ledger tests' fixtures: the PostgreSQL cluster is in tests/conftest.py, shared with
the server tests."""
