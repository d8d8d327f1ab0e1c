"""Events leaving the system: their snapshots (``snapshots``) and their webhook delivery (``delivery``).

Services record events through ``snapshots`` (it shapes the changed object with the presenters,
which services do not import) into ``services.events`` (the one writer of the ``events`` table).
"""
