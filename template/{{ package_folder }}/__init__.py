"""Your package: its tables (models.py), your migration settings (migration_hooks.py) and your
code. dbkit/ beside them is the template's database kit, which `copier update` keeps current.
"""
