"""Tamper-evident log at scale: run this file; the benchmark and what it measures are audit_log_scale.py.

    nice .venv/bin/python bench/audit_log.py --sizes 1000000,10000000                # SQLite, temporary
    .venv/bin/python bench/audit_log.py --sizes 1000000 --url postgresql+psycopg://...  # migrated here

Verification's worker processes import the main module again (multiprocessing's spawn), so this file
stays as light as `shadan`'s own (shadan/__main__.py): with the benchmark's modules imported here, every
worker started about 0.3 s later than under `shadan audit verify`.
"""

if __name__ == "__main__":
    from audit_log_scale import main

    main()
