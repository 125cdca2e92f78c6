"""The pure matching core (匹配内核): facts, rules, evaluation, SQL compilation, descriptions.

Each fact is defined once, in ``registry`` (with ``reading``: how it is read per input channel and
stored); the rest of the portal derives its columns, parsers, inputs and demo data from that.

Nothing here imports Django or any other project package; import-linter holds that line
(see ``[tool.importlinter]`` in pyproject.toml). The orchestration around it (reading
the database, writing match records, runs and tasks) lives in the ``matching`` package
itself.
"""
