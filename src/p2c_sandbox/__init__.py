"""The p2c sandbox: faithful local emulators of Entra ID, Dataverse (Dynamics 365 Sales) and F&O.

Start it with ``p2c sandbox up``; in Python, :class:`p2c_sandbox.server.Sandbox`.
"""

__all__: list[str] = []
