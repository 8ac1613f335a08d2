"""What the tests share: scripted servers, real fixtures, sessions, entries, fuzz settings.

Imported as ``support.…`` (``tests/`` is on pytest's ``pythonpath``); no test module imports
another."""
