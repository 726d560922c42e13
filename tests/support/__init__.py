"""What the tests stand on, and no tests: pytest collects nothing here.

* ``bedrock`` - the local Bedrock endpoint (a package: the server, one module per request
  family, the request-shape checks they share);
* ``browser`` - the real ``gallery-kit serve`` in a subprocess and Debian's Chromium through
  Playwright (a pytest plugin: the root ``conftest.py`` registers its fixtures once);
* ``cli_runner`` - the installed ``gallery-kit`` console script, run in a subprocess;
* ``faults`` - a fault-injecting HTTP proxy in front of moto's S3 server;
* ``images`` - small image makers.

These modules may import ``gallery_kit``; nothing in ``gallery_kit`` imports them.
"""
