"""The audit log: hash-chained records (log.py), anchored outside the database (anchor.py), who acts (actor.py).

Every layer from records up may record; administration of it (pages, export) is governance\x27s."""
