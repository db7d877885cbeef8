/* password.h — password hashing and checking with libcrypt.  New hashes are
 * yescrypt ($y$); existing $y$, $6$ (SHA-512) and $2b$ (bcrypt) hashes are
 * accepted so that accounts can be imported.  Thread-safe: called from the
 * worker pool, never on the event loop (a hash costs tens of milliseconds). */
#ifndef YUBIN_PASSWORD_H
#define YUBIN_PASSWORD_H

#include <stdbool.h>

/* A new yescrypt hash of plain (malloc'd), or NULL on failure. */
char *password_hash(const char *plain);
/* True when plain matches hash; false for a wrong password or a hash of an
 * unsupported or malformed kind.  Compares in constant time. */
bool password_verify(const char *plain, const char *hash);
/* True when hash has a prefix we accept ($y$, $6$, $2b$) and a plausible form. */
bool password_hash_supported(const char *hash);

#endif
