"""p2c: a Prospect-to-cash sync engine between Dynamics 365 Sales (Dataverse) and Supply Chain Management (F&O)."""

__version__ = "0.1.0"

__all__ = ["__version__"]
