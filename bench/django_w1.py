#!/usr/bin/python3
"""W1 in Django's ORM next to loom and hand-written sqlite3 code, on the same data.

    /usr/bin/python3 bench/django_w1.py [--benchmark build-release/bench/loom_benchmark]
                                        [--sizes 10000] [--reps 5] [--rounds 3]

W1 walks every book with its publisher, authors and reviews. loom_benchmark writes the data set
(--generate: the same deterministic generator as its own runs) into a temporary SQLite file;
Django's models are declared over those tables (managed = False) and W1 runs as
`Book.objects.order_by("id").prefetch_related("publisher", "authors", "reviews")`, four queries
like loom's, touching the same fields. loom and the hand-written C++ code run through
`loom_benchmark --profile loom|hand` over the same data. The three run one after another,
`--rounds` times, each round taking the median of `--reps` warm runs; the figures printed are the
medians over the rounds, and the ratios Django/loom and loom/hand-written. Peak RSS is each
process's own (loom and hand-written: `loom_benchmark --profile`, a small C++ process; Django:
this Python process, interpreter and Django included).

Needs Debian's python3-django (an optional dependency of the benchmark only; Django 3.2 on
Debian 12). Never a download: when Django is missing, the script says what to install.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time


def fail(msg):
    print("django_w1: " + msg, file=sys.stderr)
    sys.exit(1)


def find_benchmark(explicit):
    if explicit:
        return explicit
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for build in ("build-release", "build-bench", "build"):
        path = os.path.join(root, build, "bench", "loom_benchmark")
        if os.access(path, os.X_OK):
            return path
    fail("no loom_benchmark found; build it (bash scripts/test.sh --release) or pass --benchmark")


def setup_django(db_path):
    try:
        import django
        from django.conf import settings
    except ImportError:
        fail("Django is not installed: apt-get install python3-django (and run this script with "
             "/usr/bin/python3, Debian's interpreter)")
    # The models' app must be installed for Django to see reverse relations ("books"): an app
    # module made here, with no files of its own.
    import types
    app = types.ModuleType("loom_bench_w1")
    app.__path__ = [os.path.dirname(db_path)]
    sys.modules["loom_bench_w1"] = app
    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": db_path}},
        INSTALLED_APPS=["loom_bench_w1"],
        USE_TZ=False,
        DEBUG=False,  # DEBUG=True would record every query's SQL
    )
    django.setup()
    from django.db import models

    class Meta:
        app_label = "loom_bench_w1"
        managed = False

    def meta(table):
        return type("Meta", (Meta,), {"db_table": table})

    class Publisher(models.Model):
        name = models.TextField()
        Meta = meta("publisher")

    class Author(models.Model):
        name = models.TextField()
        born = models.IntegerField(null=True)
        Meta = meta("author")

    class Book(models.Model):
        title = models.TextField()
        year = models.IntegerField()
        publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE,
                                      related_name="books")
        authors = models.ManyToManyField(Author, db_table="book_authors", related_name="books")
        Meta = meta("book")

    class Review(models.Model):
        book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="reviews")
        rating = models.IntegerField()
        body = models.TextField()
        Meta = meta("review")

    return Book


def django_w1(Book):
    """One W1 walk; returns a digest of what it touched and the number of queries it ran."""
    from django.db import connection
    books = authors = reviews = 0
    total = 0
    with connection.execute_wrapper(_count):
        _count.n = 0
        for b in Book.objects.order_by("id").prefetch_related("publisher", "authors",
                                                                 "reviews"):
            books += 1
            total += b.id + b.year + len(b.title) + b.publisher.id + len(b.publisher.name)
            for a in b.authors.all():
                authors += 1
                total += a.id + len(a.name) + (a.born if a.born is not None else -1)
            for r in b.reviews.all():
                reviews += 1
                total += r.id + r.rating + len(r.body)
    return (books, authors, reviews, total), _count.n


def _count(execute, sql, params, many, context):
    _count.n += 1
    return execute(sql, params, many, context)


def sql_digest(db_path):
    """The same digest as django_w1, computed by SQL: proves Django walked every row."""
    import sqlite3
    c = sqlite3.connect(db_path)
    one = lambda sql: c.execute(sql).fetchone()
    books, book_sum = one("SELECT count(*), coalesce(sum(b.id + b.year + length(b.title) + p.id + "
                          "length(p.name)), 0) FROM book b JOIN publisher p ON p.id = b.publisher_id")
    authors, author_sum = one("SELECT count(*), coalesce(sum(a.id + length(a.name) + "
                              "coalesce(a.born, -1)), 0) FROM book_authors l "
                              "JOIN author a ON a.id = l.author_id")
    reviews, review_sum = one("SELECT count(*), coalesce(sum(id + rating + length(body)), 0) "
                              "FROM review")
    c.close()
    return (books, authors, reviews, book_sum + author_sum + review_sum)


def loom_variant(benchmark, variant, db_path, books, reps):
    """Median wall ms of `reps` runs of one variant over the database Django reads, and the
    peak RSS (KB) of the process that ran them."""
    out = subprocess.run([benchmark, "--profile", variant, "--workloads", "W1", "--sizes",
                          str(books), "--reps", str(reps), "--db", db_path],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"median ([0-9.]+) ms", out)
    if not m:
        fail("unexpected loom_benchmark output: " + out)
    peak = re.search(r"peak RSS ([0-9]+) KB", out)
    return float(m.group(1)), int(peak.group(1)) if peak else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--benchmark", help="path of loom_benchmark (Release build)")
    ap.add_argument("--sizes", default="10000", help="comma-separated numbers of books")
    ap.add_argument("--reps", type=int, default=5, help="warm runs per variant and round")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of loom, Django, hand-written")
    args = ap.parse_args()
    benchmark = find_benchmark(args.benchmark)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if not sizes or min(sizes) < 15:
        fail("--sizes: each size must be at least 15 books")
    if args.reps < 1 or args.rounds < 1:
        fail("--reps and --rounds must be at least 1")

    with tempfile.TemporaryDirectory(prefix="loom_django_w1_") as tmp:
        path = os.path.join(tmp, "w1.db")
        # One data set (Django's ORM can be configured once per process): the first size.
        books = sizes[0]
        if len(sizes) > 1:
            print("django_w1: one size per run (Django is configured once per process); using",
                  books)
        subprocess.run([benchmark, "--generate", path, "--sizes", str(books)], check=True,
                       capture_output=True)
        Book = setup_django(path)
        digest, queries = django_w1(Book)  # also warms the caches
        expected = sql_digest(path)
        if digest != expected:
            fail(f"Django's walk differs from the data: {digest} != {expected}")
        loom_ms, django_ms, hand_ms = [], [], []
        loom_kb = hand_kb = 0
        for _ in range(args.rounds):
            ms, loom_kb = loom_variant(benchmark, "loom", path, books, args.reps)
            loom_ms.append(ms)
            times = []
            for _ in range(args.reps):
                t0 = time.perf_counter()
                django_w1(Book)
                times.append((time.perf_counter() - t0) * 1e3)
            django_ms.append(statistics.median(times))
            ms, hand_kb = loom_variant(benchmark, "hand", path, books, args.reps)
            hand_ms.append(ms)
        # Peak RSS of this process (the Python interpreter, Django, and one W1 walk at a time).
        import resource
        django_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        loom_t, django_t, hand_t = (statistics.median(v) for v in (loom_ms, django_ms, hand_ms))
        import django
        print(f"W1, {books} books ({digest[1]} author links, {digest[2]} reviews), "
              f"medians of {args.rounds} rounds x {args.reps} runs:")
        print(f"  hand-written C++ (sqlite3 C API) {hand_t:10.1f} ms {hand_kb:9d} KB peak")
        print(f"  loom                             {loom_t:10.1f} ms {loom_kb:9d} KB peak   "
              f"loom/hand-written {loom_t / hand_t:.2f}")
        print(f"  Django {django.get_version():<10}              {django_t:10.1f} ms "
              f"{django_kb:9d} KB peak   Django/loom {django_t / loom_t:.1f}x time, "
              f"{django_kb / loom_kb if loom_kb else 0:.1f}x memory, {queries} queries")


if __name__ == "__main__":
    main()
