/* thread.c — THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (see thread.h),
 * following RFC 5256 3 step by step.  Containers live in one array; a
 * string table maps Message-IDs (step 1) and base subjects (step 5) to
 * them.  Walks use explicit stacks or parent links, never recursion. */
#include "imap/thread.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/args.h"
#include "lib/strutil.h"

typedef struct node node;
struct node {
	imap_sort_msg *msg;          /* NULL: a dummy */
	node *parent, *child, *next; /* first child, next sibling */
};

typedef struct forest {
	node *nodes;                 /* every container, nodes[0] the root of all */
	size_t n, cap;
	/* a string table: keys point into the messages */
	const char **keys;
	node **vals;
	size_t tcap;
} forest;

bool imap_thread_alg_parse(const imap_arg *a, imap_thread_alg *alg_r)
{
	if (imap_arg_atom_is(a, "REFERENCES"))
		*alg_r = IMAP_THREAD_REFERENCES;
	else if (imap_arg_atom_is(a, "ORDEREDSUBJECT"))
		*alg_r = IMAP_THREAD_ORDEREDSUBJECT;
	else
		return false;
	return true;
}

/* ---- the forest ---- */

static void forest_init(forest *f, size_t max_nodes)
{
	f->cap = max_nodes + 1;
	f->nodes = xcalloc(f->cap, sizeof(node));
	f->n = 1; /* the root */
	f->tcap = 16;
	while (f->tcap < max_nodes * 2)
		f->tcap *= 2;
	f->keys = xcalloc(f->tcap, sizeof(char *));
	f->vals = xcalloc(f->tcap, sizeof(node *));
}

static void forest_free(forest *f)
{
	free(f->nodes);
	free(f->keys);
	free(f->vals);
}

static node *new_node(forest *f, imap_sort_msg *m)
{
	node *x = &f->nodes[f->n++]; /* f->cap covers every message and reference */
	x->msg = m;
	return x;
}

static size_t slot(const forest *f, const char *key)
{
	uint64_t h = 1469598103934665603u;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211u;
	size_t i = (size_t)h & (f->tcap - 1);
	while (f->keys[i] != NULL && strcmp(f->keys[i], key) != 0)
		i = (i + 1) & (f->tcap - 1);
	return i;
}

static void table_clear(forest *f)
{
	memset(f->keys, 0, f->tcap * sizeof(char *));
	memset(f->vals, 0, f->tcap * sizeof(node *));
}

static void unlink_node(node *x)
{
	node **pp = &x->parent->child;
	while (*pp != x)
		pp = &(*pp)->next;
	*pp = x->next;
	x->parent = NULL;
	x->next = NULL;
}

/* Make x (without a parent) one of p's children: the first (siblings are
 * ordered afterwards, steps 4 and 6). */
static void add_child(node *p, node *x)
{
	x->parent = p;
	x->next = p->child;
	p->child = x;
}

static bool is_ancestor(const node *a, const node *x)
{
	for (; x != NULL; x = x->parent)
		if (x == a)
			return true;
	return false;
}

/* A link parent -> child that would make no loop. */
static bool may_link(const node *parent, const node *child)
{
	/* a container without children is nobody's ancestor: the common case,
	 * and it spares a walk up a long chain */
	return parent != child && (child->child == NULL || !is_ancestor(child, parent));
}

/* ---- ordering siblings ---- */

static const imap_sort_msg *key_msg(const node *x)
{
	return x->msg ? x->msg : x->child ? x->child->msg : NULL;
}

static int cmp_nodes(const void *a, const void *b)
{
	const imap_sort_msg *x = key_msg(*(node *const *)a), *y = key_msg(*(node *const *)b);
	if (x == NULL || y == NULL)
		return (x == NULL) - (y == NULL);
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void sort_children(node *p, node **tmp)
{
	size_t k = 0;
	for (node *c = p->child; c != NULL; c = c->next)
		tmp[k++] = c;
	if (k < 2)
		return;
	qsort(tmp, k, sizeof(node *), cmp_nodes);
	p->child = tmp[0];
	for (size_t i = 0; i < k; i++)
		tmp[i]->next = i + 1 < k ? tmp[i + 1] : NULL;
}

/* The containers under the root in pre-order (the root first). */
static size_t preorder(forest *f, node **order)
{
	node **stack = xcalloc(f->n, sizeof(node *));
	size_t sp = 0, k = 0;
	stack[sp++] = &f->nodes[0];
	while (sp > 0) {
		node *x = stack[--sp];
		order[k++] = x;
		for (node *c = x->child; c != NULL; c = c->next)
			stack[sp++] = c;
	}
	free(stack);
	return k;
}

/* Sort every set of siblings, the deepest first, so that a dummy is placed
 * by its first child (RFC 5256 3 steps 4 and 6). */
static void sort_all(forest *f)
{
	node **order = xcalloc(f->n, sizeof(node *));
	node **tmp = xcalloc(f->n, sizeof(node *));
	size_t k = preorder(f, order);
	while (k-- > 0)
		sort_children(order[k], tmp);
	free(tmp);
	free(order);
}

/* ---- REFERENCES ---- */

static node *by_id(forest *f, const char *id)
{
	size_t i = slot(f, id);
	if (f->vals[i] == NULL) {
		f->keys[i] = id;
		f->vals[i] = new_node(f, NULL);
	}
	return f->vals[i];
}

/* Step 1: containers and links from Message-ID and References. */
static void link_references(forest *f, imap_sort_msg *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		imap_sort_msg *m = &v[i];
		node *c = m->msgid ? by_id(f, m->msgid) : NULL;
		if (c == NULL || c->msg != NULL)
			c = new_node(f, m); /* none, or a duplicate: a unique one (1 A) */
		c->msg = m;
		node *prev = NULL;
		for (size_t r = 0; r < m->nrefs; r++) { /* (1 B) */
			node *x = by_id(f, m->refs[r]);
			if (prev != NULL && x->parent == NULL && may_link(prev, x))
				add_child(prev, x);
			prev = x;
		}
		if (prev != NULL && !may_link(prev, c)) /* (1 C) */
			continue;
		if (c->parent != NULL)
			unlink_node(c);
		if (prev != NULL)
			add_child(prev, c);
	}
	/* (2) the root set */
	node *root = &f->nodes[0];
	for (size_t k = 1; k < f->n; k++)
		if (f->nodes[k].parent == NULL)
			add_child(root, &f->nodes[k]);
}

/* Step 3: dummies without children go; other dummies give their children
 * to their parent, except a dummy at the top with several. */
static void prune(forest *f)
{
	node **order = xcalloc(f->n, sizeof(node *));
	size_t k = preorder(f, order);
	node *root = &f->nodes[0];
	while (k-- > 1) {
		node *x = order[k];
		if (x->msg != NULL)
			continue;
		if (x->child != NULL && x->parent == root && x->child->next != NULL)
			continue;
		node *p = x->parent, *after = x->next, **pp = &p->child;
		while (*pp != x)
			pp = &(*pp)->next;
		node *c = x->child;
		if (c == NULL) {
			*pp = after;
		} else {
			*pp = c;
			node *last = c;
			for (; last != NULL; last = last->next) {
				last->parent = p;
				if (last->next == NULL)
					break;
			}
			last->next = after;
		}
		x->child = x->next = x->parent = NULL;
	}
	free(order);
}

/* Step 5: threads at the top with the same base subject gathered. */
static void gather_subjects(forest *f)
{
	node *root = &f->nodes[0];
	table_clear(f);
	for (node *c = root->child; c != NULL; c = c->next) { /* (5 A, B) */
		const imap_sort_msg *m = key_msg(c);
		if (m == NULL || m->subject[0] == '\0')
			continue;
		size_t i = slot(f, m->subject);
		node *old = f->vals[i];
		if (old == NULL ||
		    (old->msg != NULL && (c->msg == NULL || (old->msg->is_reply && !c->msg->is_reply)))) {
			f->keys[i] = m->subject;
			f->vals[i] = c;
		}
	}
	size_t nroots = 0;
	for (node *c = root->child; c != NULL; c = c->next)
		nroots++;
	node **roots = xcalloc(nroots + 1, sizeof(node *));
	nroots = 0;
	for (node *c = root->child; c != NULL; c = c->next)
		roots[nroots++] = c;
	for (size_t k = 0; k < nroots; k++) { /* (5 C) */
		node *c = roots[k];
		const imap_sort_msg *m = key_msg(c);
		if (c->parent != root || m == NULL || m->subject[0] == '\0')
			continue;
		size_t i = slot(f, m->subject);
		node *t = f->vals[i];
		if (t == c)
			continue;
		unlink_node(c);
		if (t->msg == NULL && c->msg == NULL) {
			while (c->child != NULL) {
				node *x = c->child;
				unlink_node(x);
				add_child(t, x);
			}
		} else if (t->msg == NULL) {
			add_child(t, c);
		} else if (c->msg != NULL && c->msg->is_reply && !t->msg->is_reply) {
			add_child(t, c);
		} else {
			/* a new dummy takes t's place among the threads (a dummy c
			 * with a real t cannot happen: 5 B prefers dummies) */
			node *d = new_node(f, NULL);
			node **pp = &root->child;
			while (*pp != t)
				pp = &(*pp)->next;
			*pp = d;
			d->parent = root;
			d->next = t->next;
			t->parent = NULL;
			t->next = NULL;
			add_child(d, c);
			add_child(d, t);
			f->vals[i] = d;
		}
	}
	free(roots);
}

static void thread_references(forest *f, imap_sort_msg *v, size_t n)
{
	link_references(f, v, n);
	prune(f);
	sort_all(f); /* (4) */
	gather_subjects(f);
	sort_all(f); /* (6) */
}

/* ---- ORDEREDSUBJECT ---- */

static int cmp_subject_date(const void *a, const void *b)
{
	const imap_sort_msg *x = a, *y = b;
	int c = strcmp(x->subject, y->subject);
	if (c != 0)
		return c;
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void thread_subject(forest *f, imap_sort_msg *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_subject_date);
	node *root = &f->nodes[0], *first = NULL;
	node *last_root = NULL, *last_child = NULL;
	for (size_t i = 0; i < n; i++) {
		node *x = new_node(f, &v[i]);
		if (first == NULL || strcmp(first->msg->subject, v[i].subject) != 0) {
			first = x;
			x->parent = root;
			if (last_root)
				last_root->next = x;
			else
				root->child = x;
			last_root = x;
			last_child = NULL;
		} else {
			x->parent = first;
			if (last_child)
				last_child->next = x;
			else
				first->child = x;
			last_child = x;
		}
	}
	node **tmp = xcalloc(f->n, sizeof(node *));
	sort_children(root, tmp);
	free(tmp);
}

/* ---- the response ---- */

/* "(" the chain from x, then its branches each as a list, ")". */
static bool write_tree(buf *out, node *top, bool uid, node **stack)
{
	size_t sp = 0;
	node *x = top;
	bool ok = true;
	for (;;) {
		ok = ok && buf_putc(out, '(');
		bool printed = false;
		for (;;) { /* the chain down from x */
			if (x->msg != NULL) {
				ok = ok && buf_printf(out, "%s%u", printed ? " " : "", uid ? x->msg->uid : x->msg->seq);
				printed = true;
			}
			if (x->child == NULL || x->child->next != NULL)
				break;
			x = x->child;
		}
		if (x->child != NULL) { /* branches: each child a list */
			ok = ok && (!printed || buf_putc(out, ' '));
			stack[sp++] = x->child->next;
			x = x->child;
			continue;
		}
		ok = ok && buf_putc(out, ')');
		while (sp > 0 && stack[sp - 1] == NULL) {
			sp--;
			ok = ok && buf_putc(out, ')');
		}
		if (sp == 0 || !ok)
			return ok;
		x = stack[sp - 1];
		stack[sp - 1] = x->next;
	}
}

bool imap_thread_write(buf *out, imap_sort_msg *v, size_t n, imap_thread_alg alg, bool uid)
{
	size_t refs = 0;
	for (size_t i = 0; i < n; i++)
		refs += v[i].nrefs + 1;
	forest f = {0};
	forest_init(&f, 2 * (n + refs) + 2);
	if (alg == IMAP_THREAD_REFERENCES)
		thread_references(&f, v, n);
	else
		thread_subject(&f, v, n);
	node **stack = xcalloc(f.n + 1, sizeof(node *));
	bool ok = true;
	for (node *t = f.nodes[0].child; ok && t != NULL; t = t->next)
		ok = write_tree(out, t, uid, stack);
	free(stack);
	forest_free(&f);
	return ok;
}
