"""Tables of the reporting area: materialized daily positions and their indexes."""
