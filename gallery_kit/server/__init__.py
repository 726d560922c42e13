"""The dashboard's server: Voilà with gallery_kit's gate in front of its page handler.

``limits`` is pure (a page-rate bucket per client address, the session budget, the default
bound from the machine's memory); ``pages`` the small busy / slow-down pages; ``kernels`` the
kernel manager that keeps the ready pool and every page kernel within the bound and shuts
down kernels nobody connects to; ``app`` the Voilà application that wires them. It may import
the core (settings, errors), Voilà, jupyter_server and tornado; only the CLI imports it, and
``python -m gallery_kit.server`` is what ``gallery-kit serve`` runs.
"""
