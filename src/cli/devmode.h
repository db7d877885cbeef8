/* devmode.h — the built-in development instance (`--dev`): a config made in
 * code (data in ./yubin-dev or $YUBIN_DEV_DIR, loopback listeners on
 * unprivileged ports), its self-signed certificate and its demo account. */
#ifndef YUBIN_DEVMODE_H
#define YUBIN_DEVMODE_H

#include "auth/accounts.h"
#include "lib/config.h"

#define DEV_DOMAIN "yubin.test"
#define DEV_USER "demo@" DEV_DOMAIN

/* The dev config; NULL (after printing why) if the folder is unusable. */
config *devmode_config(void);
/* Make the certificate if missing.  False after printing why. */
bool devmode_prepare_tls(const config *cfg);
/* Create the demo account on first start; returns its password (malloc'd),
 * kept in data_dir/demo-password so later starts print the same one. */
char *devmode_demo_account(const config *cfg, accounts *acc);
/* The start-up banner: ports, account, a swaks line, where mail lands. */
void devmode_banner(const config *cfg, const char *password);

#endif
