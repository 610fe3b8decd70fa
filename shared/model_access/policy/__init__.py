"""Tool policies: their names, rendered documents, packing, per-role plans and the inventory
compared with the grant store. Pure; imports `model` and `core`."""
