"""The shipped Prospect-to-cash templates (``accounts.yaml``, ``products.yaml``) and the catalog.

Package data only: load templates with :func:`p2c.project.load_template` and the catalog with
:func:`p2c.catalog.load_catalog`. The format is documented in ``docs/templates.md``.
"""
