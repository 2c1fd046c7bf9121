// loom_benchmark --engine postgres: W1..W4 on a PostgreSQL server, loom against hand-written
// libpq code. Included by loom_benchmark.cpp (after its SQLite part, whose models, plain
// structs, walks and measuring helpers it reuses) when the benchmark is built with libpq.
//
// The data are the SQLite run's (the same generator, the same values), copied into a schema of
// their own (loom_bench_<pid>, dropped at the end) in the database the URL names. The
// hand-written variant is what a careful libpq developer writes: statements prepared once per
// SQL text (PQprepare / PQexecPrepared), keys as one `= ANY($1::bigint[])` array parameter,
// results read whole in the same result format loom's connection uses (--pg-hand-format
// changes it), rows stitched into the plain structs through hash maps, and every evaluation in
// one REPEATABLE READ READ ONLY transaction, the snapshot loom reads its levels from.
#pragma once

#include <endian.h>
#include <libpq-fe.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <loom/loom.hpp>
#include <loom/postgres.hpp>

namespace bench::pg {

/// --pg-url, else LOOM_TEST_PG_URL, else LOOM_DATABASE_URL; empty when none is set.
inline std::string find_url(const std::string& given) {
    if (!given.empty()) return given;
    for (const char* var : {"LOOM_TEST_PG_URL", "LOOM_DATABASE_URL"})
        if (const char* v = std::getenv(var); v && *v) return v;
    return {};
}

/// The URI with the session's search_path set to `schema` (a libpq `options` parameter), so that
/// loom's unqualified table names resolve there.
inline std::string in_schema(const std::string& url, const std::string& schema) {
    if (url.rfind("postgresql://", 0) != 0 && url.rfind("postgres://", 0) != 0)
        fail("--engine postgres needs a postgresql:// URI, got '" + url + "'");
    return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-c%20search_path%3D" +
           schema;
}

/// A libpq connection that counts its round trips.
class Conn {
public:
    explicit Conn(const std::string& url) : c_(PQconnectdb(url.c_str())) {
        if (PQstatus(c_) != CONNECTION_OK) {
            const std::string msg = PQerrorMessage(c_);
            PQfinish(c_);
            fail("cannot connect to PostgreSQL: " + msg);
        }
        exec("SET client_min_messages = warning");
        round_trips = 0;
    }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;
    ~Conn() { PQfinish(c_); }
    PGconn* get() const { return c_; }

    void exec(const std::string& sql) {
        ++round_trips;
        PGresult* r = PQexec(c_, sql.c_str());
        check(r, PGRES_COMMAND_OK, sql);
        PQclear(r);
    }
    /// COPY table (columns) FROM STDIN with `data` in COPY's text format.
    void copy(const std::string& into, const std::string& data) {
        const std::string sql = "COPY " + into + " FROM STDIN";
        PGresult* r = PQexec(c_, sql.c_str());
        check(r, PGRES_COPY_IN, sql);
        PQclear(r);
        constexpr std::size_t piece = 1 << 20;
        for (std::size_t at = 0; at < data.size(); at += piece) {
            const std::size_t n = std::min(piece, data.size() - at);
            if (PQputCopyData(c_, data.data() + at, static_cast<int>(n)) != 1)
                fail(std::string("COPY: ") + PQerrorMessage(c_));
        }
        if (PQputCopyEnd(c_, nullptr) != 1) fail(std::string("COPY: ") + PQerrorMessage(c_));
        r = PQgetResult(c_);
        check(r, PGRES_COMMAND_OK, sql);
        PQclear(r);
        while ((r = PQgetResult(c_))) PQclear(r);
    }
    void check(PGresult* r, ExecStatusType want, const std::string& sql) const {
        const auto st = PQresultStatus(r);
        if (st == want || (want == PGRES_COMMAND_OK && st == PGRES_TUPLES_OK)) return;
        const std::string msg = PQresultErrorMessage(r);
        PQclear(r);
        fail("PostgreSQL: " + msg + " while running: " + sql.substr(0, 200));
    }

    std::int64_t round_trips = 0;

private:
    PGconn* c_;
};

// ---- the data ---------------------------------------------------------------------------------

/// The SQLite run's data (generate() in loom_benchmark.cpp: the same random sequence, the same
/// rows and keys) in schema `schema`, created by loom, filled by COPY, then analysed.
inline void generate(const std::string& url, const std::string& schema, std::int64_t books) {
    const Sizes n(books);
    {
        Conn admin(url);
        admin.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        admin.exec("CREATE SCHEMA " + schema);
    }
    const std::string surl = in_schema(url, schema);
    {
        loom::Database db(surl);
        db.create_tables<Publisher, Author, Book, Review>();
    }
    Rng rng{0x10011001ull + static_cast<std::uint64_t>(books)};
    std::string pubs, authors, book_rows, links, reviews;
    auto num = [](std::string& out, std::int64_t v) { out += std::to_string(v); };
    for (std::int64_t i = 1; i <= n.publishers; ++i) {
        num(pubs, i);
        pubs += '\t';
        pubs += "Publisher " + std::to_string(i) + " " + words(rng, 4, 12);
        pubs += '\n';
    }
    for (std::int64_t i = 1; i <= n.authors; ++i) {
        num(authors, i);
        authors += '\t';
        authors += words(rng, 8, 24);
        authors += '\t';
        if (rng.below(10) == 0)
            authors += "\\N";
        else
            num(authors, 1900 + rng.below(100));
        authors += '\n';
    }
    std::int64_t review_id = 0;
    for (std::int64_t i = 1; i <= n.books; ++i) {
        num(book_rows, i);
        book_rows += '\t';
        book_rows += words(rng, 10, 40);
        book_rows += '\t';
        num(book_rows, 1950 + rng.below(75));
        book_rows += '\t';
        num(book_rows, 1 + rng.below(n.publishers));
        book_rows += '\n';
        std::int64_t chosen[authors_per_book];
        for (int k = 0; k < authors_per_book; ++k) {
            std::int64_t a;
            do a = 1 + rng.below(n.authors);
            while (std::find(chosen, chosen + k, a) != chosen + k);
            chosen[k] = a;
            num(links, i);
            links += '\t';
            num(links, a);
            links += '\n';
        }
        for (int k = 0; k < reviews_per_book; ++k) {
            const std::string body = words(rng, 20, 80);
            num(reviews, ++review_id);
            reviews += '\t';
            num(reviews, i);
            reviews += '\t';
            num(reviews, 1 + rng.below(5));
            reviews += '\t';
            reviews += body;
            reviews += '\n';
        }
    }
    Conn c(surl);
    c.exec("BEGIN");
    c.copy("publisher (id, name)", pubs);
    c.copy("author (id, name, born)", authors);
    c.copy("book (id, title, year, publisher_id)", book_rows);
    c.copy("book_authors (book_id, author_id)", links);
    c.copy("review (id, book_id, rating, body)", reviews);
    c.exec("COMMIT");
    c.exec("VACUUM ANALYZE");
}

inline void drop_schema(const std::string& url, const std::string& schema) {
    Conn admin(url);
    admin.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
}

// ---- the hand-written baseline ----------------------------------------------------------------

/// One row of a result, read in text or binary format.
struct Cells {
    const PGresult* r;
    int row;
    bool binary;

    std::int64_t i64(int c) const {
        const char* p = PQgetvalue(r, row, c);
        if (binary) {
            switch (PQgetlength(r, row, c)) {
            case 8: {
                std::uint64_t v;
                std::memcpy(&v, p, 8);
                return static_cast<std::int64_t>(be64toh(v));
            }
            case 4: {
                std::uint32_t v;
                std::memcpy(&v, p, 4);
                return static_cast<std::int32_t>(be32toh(v));
            }
            default: {
                std::uint16_t v;
                std::memcpy(&v, p, 2);
                return static_cast<std::int16_t>(be16toh(v));
            }
            }
        }
        std::int64_t v = 0;
        std::from_chars(p, p + PQgetlength(r, row, c), v);
        return v;
    }
    int i32(int c) const { return static_cast<int>(i64(c)); }
    std::string str(int c) const {
        return std::string(PQgetvalue(r, row, c), static_cast<std::size_t>(PQgetlength(r, row, c)));
    }
    std::optional<int> opt_int(int c) const {
        if (PQgetisnull(r, row, c)) return std::nullopt;
        return i32(c);
    }
};

/// Statements prepared once per SQL text, parameters as text, results whole.
class Raw {
public:
    Raw(const std::string& url, bool binary) : conn_(url), binary_(binary) {}
    std::int64_t queries = 0;
    std::int64_t round_trips() const { return conn_.round_trips; }

    template <class OnRow>
    void run(const std::string& sql, std::initializer_list<const char*> params, OnRow&& on_row) {
        auto it = names_.find(sql);
        if (it == names_.end()) {
            std::string name = "hand_" + std::to_string(names_.size());
            ++conn_.round_trips;
            PGresult* p = PQprepare(conn_.get(), name.c_str(), sql.c_str(), 0, nullptr);
            conn_.check(p, PGRES_COMMAND_OK, sql);
            PQclear(p);
            it = names_.emplace(sql, std::move(name)).first;
        }
        ++conn_.round_trips;
        PGresult* r =
            PQexecPrepared(conn_.get(), it->second.c_str(), static_cast<int>(params.size()),
                           params.begin(), nullptr, nullptr, binary_ ? 1 : 0);
        conn_.check(r, PGRES_TUPLES_OK, sql);
        const int rows = PQntuples(r);
        for (int i = 0; i < rows; ++i) on_row(Cells{r, i, binary_});
        PQclear(r);
        ++queries;
    }
    /// The evaluation's snapshot, as loom opens it.
    void begin() { conn_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); }
    void commit() { conn_.exec("COMMIT"); }

private:
    Conn conn_;
    bool binary_;
    std::unordered_map<std::string, std::string> names_;
};

/// `{1,2,3}`: the bigint[] parameter.
inline std::string key_array(const std::vector<std::int64_t>& keys) {
    std::string out;
    out.reserve(keys.size() * 7 + 2);
    out += '{';
    char buf[24];
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (i) out += ',';
        const auto r = std::to_chars(buf, buf + sizeof buf, keys[i]);
        out.append(buf, r.ptr);
    }
    out += '}';
    return out;
}

// The SQL loom writes on PostgreSQL (--show-sql prints it).
const std::string book_sql =
    R"(SELECT t0."id", t0."title", t0."year", t0."publisher_id" FROM "book" AS t0 ORDER BY t0."id" ASC NULLS FIRST)";
const std::string publisher_sql =
    R"(SELECT t0."id", t0."name" FROM "publisher" AS t0 WHERE t0."id" = ANY($1::bigint[]))";
const std::string book_authors_sql =
    R"(SELECT j."book_id", t0."id", t0."name", t0."born" FROM "author" AS t0 JOIN "book_authors" AS j ON j."author_id" = t0."id" WHERE j."book_id" = ANY($1::bigint[]) ORDER BY j."book_id" ASC, t0."id" ASC)";
const std::string review_sql =
    R"(SELECT t0."book_id", t0."id", t0."book_id", t0."rating", t0."body" FROM "review" AS t0 WHERE t0."book_id" = ANY($1::bigint[]) ORDER BY t0."book_id" ASC, t0."id" ASC)";
const std::string author_sql =
    R"(SELECT t0."id", t0."name", t0."born" FROM "author" AS t0 ORDER BY t0."id" ASC NULLS FIRST)";
const std::string author_books_sql =
    R"(SELECT j."author_id", t0."id", t0."title", t0."year", t0."publisher_id" FROM "book" AS t0 JOIN "book_authors" AS j ON j."book_id" = t0."id" WHERE j."author_id" = ANY($1::bigint[]) ORDER BY j."author_id" ASC, t0."id" ASC)";
const std::string top_reviews_sql =
    R"(SELECT * FROM (SELECT t0."book_id", t0."id", t0."book_id", t0."rating", t0."body", ROW_NUMBER() OVER (PARTITION BY t0."book_id" ORDER BY t0."rating" DESC NULLS LAST, t0."id" ASC) AS loom_rn FROM "review" AS t0 WHERE t0."book_id" = ANY($1::bigint[])) AS loom_w WHERE loom_rn > $2 AND loom_rn <= $3 ORDER BY loom_rn)";
const std::string page_sql =
    R"(SELECT t0."id", t0."title", t0."year", t0."publisher_id" FROM "book" AS t0 WHERE ((t0."id") > ($1)) ORDER BY t0."id" ASC NULLS FIRST LIMIT $2)";

inline void read_book(const Cells& s, HBook& b, int at) {
    b.id = s.i64(at);
    b.title = s.str(at + 1);
    b.year = s.i32(at + 2);
    b.publisher_id = s.i64(at + 3);
}

inline std::vector<HPublisher> stitch_publishers(Raw& raw, std::vector<HBook*>& books) {
    Index slot;
    std::vector<std::int64_t> ids;
    slot.reserve(books.size());
    for (HBook* b : books)
        if (slot.emplace(b->publisher_id, 0).second) ids.push_back(b->publisher_id);
    std::vector<HPublisher> pubs;
    pubs.reserve(ids.size());
    const std::string keys = key_array(ids);
    raw.run(publisher_sql, {keys.c_str()}, [&](const Cells& s) {
        const std::int64_t id = s.i64(0);
        slot[id] = static_cast<std::uint32_t>(pubs.size());
        pubs.push_back({id, s.str(1)});
    });
    for (HBook* b : books) b->publisher = &pubs[slot.at(b->publisher_id)];
    return pubs;
}

/// Publisher, authors and reviews of r.books: three array-parameter queries.
inline void prefetch_w1(Raw& raw, HandW1& r) {
    auto& books = r.books;
    Index book_slot;
    book_slot.reserve(books.size());
    std::vector<std::int64_t> ids;
    ids.reserve(books.size());
    std::vector<HBook*> ptrs;
    ptrs.reserve(books.size());
    for (auto& b : books) {
        book_slot.emplace(b.id, static_cast<std::uint32_t>(ptrs.size()));
        ids.push_back(b.id);
        ptrs.push_back(&b);
    }
    r.publishers = stitch_publishers(raw, ptrs);
    const std::string keys = key_array(ids);

    Index author_slot;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> links;  // (book, author)
    links.reserve(books.size() * authors_per_book);
    raw.run(book_authors_sql, {keys.c_str()}, [&](const Cells& s) {
        const std::uint32_t b = book_slot.at(s.i64(0));
        const std::int64_t id = s.i64(1);
        auto [it, fresh] = author_slot.emplace(id, static_cast<std::uint32_t>(r.authors.size()));
        if (fresh) r.authors.push_back({id, s.str(2), s.opt_int(3)});
        links.emplace_back(b, it->second);
    });
    for (auto [b, a] : links) books[b].authors.push_back(&r.authors[a]);

    links.clear();
    raw.run(review_sql, {keys.c_str()}, [&](const Cells& s) {
        const std::uint32_t b = book_slot.at(s.i64(0));
        links.emplace_back(b, static_cast<std::uint32_t>(r.reviews.size()));
        r.reviews.push_back({s.i64(1), s.i64(2), s.i32(3), s.str(4)});
    });
    for (auto [b, v] : links) books[b].reviews.push_back(&r.reviews[v]);
}

struct HandRun {
    Run run;
    std::int64_t round_trips = 0;
};

inline Run w1_hand(Raw& raw) {
    const auto before = raw.queries;
    Checksum c;
    {
        HandW1 r;
        raw.begin();
        raw.run(book_sql, {}, [&](const Cells& s) { read_book(s, r.books.emplace_back(), 0); });
        prefetch_w1(raw, r);
        raw.commit();
        for (const HBook& b : r.books) walk_book_w1(c, b);
    }
    return {c.h, raw.queries - before};
}

inline Run w2_hand(Raw& raw) {
    const auto before = raw.queries;
    Checksum c;
    {
        raw.begin();
        std::vector<HAuthorW2> authors;
        raw.run(author_sql, {}, [&](const Cells& s) {
            authors.push_back({s.i64(0), s.str(1), s.opt_int(2), {}});
        });
        Index author_slot;
        author_slot.reserve(authors.size());
        std::vector<std::int64_t> ids;
        ids.reserve(authors.size());
        for (auto& a : authors) {
            author_slot.emplace(a.id, static_cast<std::uint32_t>(ids.size()));
            ids.push_back(a.id);
        }
        std::vector<HBook> books;
        Index book_slot;
        std::vector<std::pair<std::uint32_t, std::uint32_t>> links;  // (author, book)
        const std::string keys = key_array(ids);
        raw.run(author_books_sql, {keys.c_str()}, [&](const Cells& s) {
            const std::uint32_t a = author_slot.at(s.i64(0));
            const std::int64_t id = s.i64(1);
            auto [it, fresh] = book_slot.emplace(id, static_cast<std::uint32_t>(books.size()));
            if (fresh) read_book(s, books.emplace_back(), 1);
            links.emplace_back(a, it->second);
        });
        for (auto [a, b] : links) authors[a].books.push_back(&books[b]);
        std::vector<HBook*> ptrs;
        ptrs.reserve(books.size());
        for (auto& b : books) ptrs.push_back(&b);
        const auto publishers = stitch_publishers(raw, ptrs);
        raw.commit();
        for (const auto& a : authors) walk_author_w2(c, a);
    }
    return {c.h, raw.queries - before};
}

inline Run w3_hand(Raw& raw) {
    const auto before = raw.queries;
    Checksum c;
    {
        raw.begin();
        std::vector<HBook> books;
        raw.run(book_sql, {}, [&](const Cells& s) { read_book(s, books.emplace_back(), 0); });
        Index book_slot;
        book_slot.reserve(books.size());
        std::vector<std::int64_t> ids;
        ids.reserve(books.size());
        for (auto& b : books) {
            book_slot.emplace(b.id, static_cast<std::uint32_t>(ids.size()));
            ids.push_back(b.id);
        }
        std::vector<HReview> reviews;
        std::vector<std::pair<std::uint32_t, std::uint32_t>> links;
        const std::string keys = key_array(ids);
        const std::string lo = "0", hi = std::to_string(top_n);
        raw.run(top_reviews_sql, {keys.c_str(), lo.c_str(), hi.c_str()}, [&](const Cells& s) {
            const std::uint32_t b = book_slot.at(s.i64(0));
            links.emplace_back(b, static_cast<std::uint32_t>(reviews.size()));
            reviews.push_back({s.i64(1), s.i64(2), s.i32(3), s.str(4)});
        });
        raw.commit();
        for (auto [b, v] : links) books[b].reviews.push_back(&reviews[v]);
        for (const HBook& b : books) walk_book_w3(c, b);
    }
    return {c.h, raw.queries - before};
}

/// Keyset pages of `chunk` books, each page and its prefetches in one snapshot, one row more
/// than the page telling whether another follows (as loom's chunks(n) reads them).
inline Run w4_hand(Raw& raw, std::size_t chunk) {
    const auto before = raw.queries;
    Checksum c;
    std::int64_t after = 0;
    const std::string limit = std::to_string(chunk + 1);
    bool more = true;
    while (more) {
        HandW1 r;
        const std::string from = std::to_string(after);
        raw.begin();
        raw.run(page_sql, {from.c_str(), limit.c_str()},
                [&](const Cells& s) { read_book(s, r.books.emplace_back(), 0); });
        more = r.books.size() > chunk;
        if (more) r.books.pop_back();
        if (!r.books.empty()) prefetch_w1(raw, r);
        raw.commit();
        if (r.books.empty()) break;
        after = r.books.back().id;
        for (const HBook& b : r.books) walk_book_w1(c, b);
    }
    return {c.h, raw.queries - before};
}

// ---- measuring --------------------------------------------------------------------------------

using PgHandFn = std::function<Run(Raw&)>;

inline PgHandFn hand_workload(const std::string& w, std::size_t chunk) {
    if (w == "W1") return w1_hand;
    if (w == "W2") return w2_hand;
    if (w == "W3") return w3_hand;
    return [chunk](Raw& raw) { return w4_hand(raw, chunk); };
}

/// A Row of the SQLite run plus what only a server has: round trips.
struct PgRow {
    Row row;
    std::int64_t loom_rt = 0, hand_rt = 0;
};

struct Setup {
    std::string url;  // with the schema's search_path
    bool hand_binary = false;
};

inline PgRow measure(const Options& opt, const Setup& setup, const std::string& w,
                     std::int64_t books) {
    PgRow out;
    Row& row = out.row;
    std::snprintf(row.workload, sizeof row.workload, "%s", w.c_str());
    row.books = books;
    if (w == "W4" && !chunks_available) {
        row.skipped = true;
        return out;
    }
    const Workload fns = workload(w, opt.chunk);
    const PgHandFn hand = hand_workload(w, opt.chunk);
    row.loom_mem = measure_memory([&] {
        loom::Database db(setup.url, loom_options);
        return fns.loom(db).checksum;
    });
    row.hand_mem = measure_memory([&] {
        Raw raw(setup.url, setup.hand_binary);
        return hand(raw).checksum;
    });
    if (w == "W4")
        row.unchunked_mem = measure_memory([&] {
            loom::Database db(setup.url, loom_options);
            return fns.naive(db).checksum;
        });
    return in_child<PgRow>([&] {
        PgRow res = out;
        loom::Database db(setup.url, loom_options);
        Raw raw(setup.url, setup.hand_binary);
        const RoundTrips trips = repeat(opt, w, fns, db, raw, hand, res.row, false, [books](int reps) {
            return books >= 10000 ? 1 : std::min(reps, 3);
        });
        res.loom_rt = trips.loom;
        res.hand_rt = trips.hand;
        return res;
    });
}

inline void print_round_trips(const PgRow& r) {
    if (r.row.skipped) return;
    std::printf("     %s %lld books, round trips: loom %lld, hand-written %lld\n", r.row.workload,
                static_cast<long long>(r.row.books), static_cast<long long>(r.loom_rt),
                static_cast<long long>(r.hand_rt));
}

inline std::string json_line(const PgRow& r, std::size_t chunk, bool hand_binary) {
    std::string s = bench::json_line(r.row, chunk);
    s.pop_back();  // the closing brace
    s += ", \"engine\": \"postgres\"";
    if (!r.row.skipped) {
        s += ", \"round_trips\": " + std::to_string(r.loom_rt);
        s += ", \"handwritten_round_trips\": " + std::to_string(r.hand_rt);
        s += std::string(", \"handwritten_result_format\": \"") +
             (hand_binary ? "binary" : "text") + "\"";
    }
    return s + "}";
}

/// --profile on PostgreSQL: one variant, in this process, for a profiler.
inline int profile(const Options& opt, const Setup& setup) {
    for (const auto& w : opt.workloads) {
        const Workload fns = workload(w, opt.chunk);
        const PgHandFn hand = hand_workload(w, opt.chunk);
        loom::Database db(setup.url, loom_options);
        Raw raw(setup.url, setup.hand_binary);
        std::vector<Timing> t;
        std::uint64_t sum = 0;
        for (int i = 0; i < opt.reps; ++i) {
            const Run r = timed(
                [&] {
                    return opt.profile == "loom"   ? fns.loom(db)
                           : opt.profile == "hand" ? hand(raw)
                                                   : fns.naive(db);
                },
                t);
            sum = r.checksum;
        }
        std::printf("%s postgres, %s: median %s ms (cpu %s ms) over %d runs, checksum %016llx\n",
                    w.c_str(), opt.profile.c_str(), fmt_ms(median(t).wall).c_str(),
                    fmt_ms(median(t).cpu).c_str(), opt.reps, static_cast<unsigned long long>(sum));
    }
    return 0;
}

/// Exit status 77 (CTest's skip) when no server is named.
inline int main(const Options& opt) {
    const std::string url = find_url(opt.pg_url);
    if (url.empty()) {
        std::printf(
            "loom_benchmark --engine postgres: no server (--pg-url URL, LOOM_TEST_PG_URL "
            "or LOOM_DATABASE_URL): skipped\n");
        return 77;
    }
    const std::string schema = "loom_bench_" + std::to_string(getpid());
    Setup setup{in_schema(url, schema), opt.pg_hand_format == "binary"};
    struct Drop {
        const std::string& url;
        const std::string& schema;
        ~Drop() {
            try {
                drop_schema(url, schema);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "loom_benchmark: %s\n", e.what());
            }
        }
    } drop{url, schema};
    std::FILE* json = nullptr;
    if (!opt.json.empty()) {
        json = std::fopen(opt.json.c_str(), "w");
        if (!json) fail("cannot write " + opt.json);
    }
    if (opt.profile.empty())
        std::printf(
            "loom_benchmark --engine postgres (%s): medians of >= %d interleaved "
            "repetitions; ratio = loom/hand-written libpq wall time, cpu = the same in "
            "this process's CPU time (the server's is not in it); hand-written results "
            "in %s format\n",
            loom::detail::postgres::Connection::redacted(url).c_str(), opt.reps,
            opt.pg_hand_format.c_str());
    bool all_equal = true;
    bool header = false;
    for (const std::int64_t books : opt.sizes) {
        const auto t0 = Clock::now();
        in_child<int>([&] {
            generate(url, schema, books);
            return 0;
        });
        if (!opt.profile.empty()) {
            profile(opt, setup);
            continue;
        }
        const Sizes n(books);
        std::printf(
            "# %lld books, %lld authors, %lld publishers, %lld reviews: generated in %s ms\n",
            static_cast<long long>(books), static_cast<long long>(n.authors),
            static_cast<long long>(n.publishers), static_cast<long long>(books * reviews_per_book),
            fmt_ms(ms_since(t0)).c_str());
        if (opt.show_sql)
            in_child<int>([&] {
                show_sql(setup.url);
                return 0;
            });
        if (!header) {
            print_header();
            header = true;
        }
        std::vector<PgRow> rows;
        for (const auto& w : opt.workloads) {
            const PgRow r = measure(opt, setup, w, books);
            print_row(r.row);
            std::fflush(stdout);
            rows.push_back(r);
            if (!r.row.skipped && !r.row.checksums_equal()) all_equal = false;
            if (json)
                std::fprintf(json, "%s\n", json_line(r, opt.chunk, setup.hand_binary).c_str());
        }
        for (const PgRow& r : rows) {
            print_notes(r.row, opt.chunk);
            print_round_trips(r);
        }
    }
    if (json) std::fclose(json);
    if (!all_equal) {
        std::fprintf(stderr, "loom_benchmark: checksums differ between variants\n");
        return 1;
    }
    return 0;
}

}  // namespace bench::pg
