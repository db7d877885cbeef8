/* expo.h — the Prometheus text exposition format, version 0.0.4: what a
 * scrape of GET /metrics reads.  Pure text building over an unbounded buf
 * (the caller's text is bounded by its fixed sets of metrics and labels);
 * it knows nothing of which metrics yubin keeps (metrics.c does).
 *
 * The format, as Prometheus' parser reads it: one "# HELP name text" and
 * one "# TYPE name type" line per family, before its samples; a sample is
 * name{label="value",...} value, one per line, '\n' ended.  In HELP text a
 * backslash and a line feed are escaped (\\ and \n); in a label value a
 * double quote too (\").  Values are Go-style floats: "+Inf", "-Inf",
 * "NaN", integers without an exponent.  A histogram is the cumulative
 * name_bucket{le="bound"} series ending with le="+Inf", then name_sum and
 * name_count (equal to the +Inf bucket). */
#ifndef YUBIN_METRICS_EXPO_H
#define YUBIN_METRICS_EXPO_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

typedef enum expo_type {
	EXPO_COUNTER,
	EXPO_GAUGE,
	EXPO_HISTOGRAM,
} expo_type;

/* One label of a sample: name must be a valid label name ([a-zA-Z_]
 * [a-zA-Z0-9_]*, checked by the caller's tables); value is any text and is
 * escaped here. */
typedef struct expo_label {
	const char *name;
	const char *value;
} expo_label;

/* The HELP and TYPE lines of a family. */
void expo_family(buf *out, const char *name, const char *help, expo_type type);
/* One sample line: name (with its suffix, "_total" or "_bucket", already
 * on it), the labels (n may be 0), the value. */
void expo_sample(buf *out, const char *name, const expo_label *labels, size_t n, double value);
/* The same with an exact whole number (counters past 2^53 keep every digit). */
void expo_sample_u64(buf *out, const char *name, const expo_label *labels, size_t n, uint64_t value);
/* One histogram's series: bounds[0..nb) are the upper bounds, increasing;
 * counts[0..nb] are the observations per bucket, not cumulative, with
 * counts[nb] the ones above the last bound.  Writes the cumulative
 * buckets, le="+Inf", _sum and _count.  labels (n may be 0) come before le. */
void expo_histogram(buf *out, const char *name, const expo_label *labels, size_t n,
                    const double *bounds, const uint64_t *counts, size_t nb, double sum);

/* A value as the format writes it ("+Inf", "0.5", "3"), into out (at least
 * 32 bytes); returns out. */
char *expo_format_value(double v, char *out, size_t cap);

#endif
