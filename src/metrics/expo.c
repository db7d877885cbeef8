/* expo.c — the Prometheus text format writer (see expo.h).  It must not
 * know any metric of yubin's: names, help and labels come from the caller. */
#include "metrics/expo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const type_names[] = {
	[EXPO_COUNTER] = "counter",
	[EXPO_GAUGE] = "gauge",
	[EXPO_HISTOGRAM] = "histogram",
};

/* Escape text: backslash and line feed always, the double quote in label
 * values (quote true). */
static void put_escaped(buf *out, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			BUF_PUTS(out, "\\\\");
		else if (*s == '\n')
			BUF_PUTS(out, "\\n");
		else if (*s == '"' && quote)
			BUF_PUTS(out, "\\\"");
		else
			BUF_PUTC(out, *s);
	}
}

void expo_family(buf *out, const char *name, const char *help, expo_type type)
{
	BUF_PRINTF(out, "# HELP %s ", name);
	put_escaped(out, help, false);
	BUF_PRINTF(out, "\n# TYPE %s %s\n", name, type_names[type]);
}

char *expo_format_value(double v, char *out, size_t cap)
{
	if (isnan(v))
		snprintf(out, cap, "NaN");
	else if (isinf(v))
		snprintf(out, cap, "%s", v > 0 ? "+Inf" : "-Inf");
	else if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		snprintf(out, cap, "%.0f", v); /* whole numbers without an exponent */
	else /* the shortest that reads back the same: 0.1, not 0.10000000000000001 */
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(out, cap, "%.*g", prec, v);
			if (strtod(out, NULL) == v)
				break;
		}
	return out;
}

static void put_labels(buf *out, const expo_label *labels, size_t n, const char *le)
{
	if (n == 0 && le == NULL)
		return;
	BUF_PUTC(out, '{');
	for (size_t i = 0; i < n; i++) {
		BUF_PRINTF(out, "%s%s=\"", i ? "," : "", labels[i].name);
		put_escaped(out, labels[i].value, true);
		BUF_PUTC(out, '"');
	}
	if (le != NULL)
		BUF_PRINTF(out, "%sle=\"%s\"", n ? "," : "", le);
	BUF_PUTC(out, '}');
}

void expo_sample(buf *out, const char *name, const expo_label *labels, size_t n, double value)
{
	char v[40];
	BUF_PUTS(out, name);
	put_labels(out, labels, n, NULL);
	BUF_PRINTF(out, " %s\n", expo_format_value(value, v, sizeof v));
}

void expo_sample_u64(buf *out, const char *name, const expo_label *labels, size_t n, uint64_t value)
{
	BUF_PUTS(out, name);
	put_labels(out, labels, n, NULL);
	BUF_PRINTF(out, " %llu\n", (unsigned long long)value);
}

void expo_histogram(buf *out, const char *name, const expo_label *labels, size_t n,
                    const double *bounds, const uint64_t *counts, size_t nb, double sum)
{
	uint64_t cum = 0;
	char le[40];
	for (size_t i = 0; i <= nb; i++) {
		cum += counts[i];
		if (i < nb)
			expo_format_value(bounds[i], le, sizeof le);
		else
			snprintf(le, sizeof le, "+Inf");
		BUF_PRINTF(out, "%s_bucket", name);
		put_labels(out, labels, n, le);
		BUF_PRINTF(out, " %llu\n", (unsigned long long)cum);
	}
	char v[40];
	BUF_PRINTF(out, "%s_sum", name);
	put_labels(out, labels, n, NULL);
	BUF_PRINTF(out, " %s\n", expo_format_value(sum, v, sizeof v));
	BUF_PRINTF(out, "%s_count", name);
	put_labels(out, labels, n, NULL);
	BUF_PRINTF(out, " %llu\n", (unsigned long long)cum);
}
