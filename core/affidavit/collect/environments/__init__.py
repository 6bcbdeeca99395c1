"""What runs in an environment, read from its source: one module per source, each returning
the running artifacts as :func:`affidavit.models.build.running_artifact` dicts (unsorted; the
snapshot builder puts them in one order)."""
