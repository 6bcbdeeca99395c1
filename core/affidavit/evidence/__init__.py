"""Evidence leaving the ledger: single files out of the vault, and evidence packages."""
