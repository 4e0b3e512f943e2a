"""Password hashing: argon2id with OWASP's recommended cost (19 MiB, t=2, p=1).

Django's default argon2 parameters (100 MiB, parallelism 8) make each login cost up to a
second and a hundred megabytes under load; these are the recommended minimums and keep
logins cheap enough that they cannot be used to exhaust the server.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2(Argon2PasswordHasher):
    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19456
    parallelism = 1
