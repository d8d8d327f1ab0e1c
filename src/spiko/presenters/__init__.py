"""The presentation layer: service results turned into the reference's wire shapes.

One module per tag of the investor reference (``/v1``) and one for the public API (``/v0``).
Presenters import no web framework: the HTTP routes and the ``spiko`` command use the same ones.
Each shape is a ``TypedDict`` matching its schema in ``spiko/specs`` (checked by
``tests/presenters/test_shapes.py``), so mypy checks every body at no run-time cost.
"""
