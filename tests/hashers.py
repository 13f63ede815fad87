"""The password hasher tests use: Argon2, as in production, at the lowest cost.

Production hashes with Django's Argon2PasswordHasher (time cost 2, 100 MiB, 8 lanes), about
0.1–0.3 s a password on a small machine; tests create and check thousands of passwords.
This hasher writes the same `argon2$argon2id$…` format with the cost parameters in the
hash, so Django's own Argon2 hasher verifies what it wrote.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 8  # KiB, Argon2's minimum for one lane
    parallelism = 1
