// loom_benchmark - loom against hand-written sqlite3 C API code and the naive N+1 loop.
//
// Each workload runs three ways over the same deterministic data in a fresh SQLite file:
//   loom        : one QuerySet with prefetch_related;
//   hand-written: the same SQL (same columns, same joins, same ORDER BY) through the sqlite3
//                 C API with IN (?, ?, ...) lists of at most 32,766 keys, plain structs,
//                 stitched through hash maps: the fair, fast baseline a skilled C++ developer
//                 would write (loom binds key sets past 512 as one json_each array instead);
//   naive       : the N+1 loop, one explicit load() per object and relation.
// Times are medians of interleaved repetitions (loom, hand-written, loom, ...). Every variant
// computes a checksum over everything it walked; the checksums must be equal or the program
// fails. Peak memory is measured per variant in a child process forked from a small parent, so
// one variant's heap never inflates another's figure.
//
//     loom_benchmark [--sizes 1000,10000,100000] [--workloads W1,W2,W3,W4] [--reps 7]
//                    [--chunk 1000] [--naive-max 100000] [--json FILE] [--show-sql] [--quick]
//                    [--profile loom|hand|naive] [--generate FILE] [--workers N]
//                    [--writer-wait SECONDS]
//
// W4 also times the chunked walk with chunks(n, loom::ahead) (the next chunk loaded on another
// thread while the current one is walked), interleaved with the serial chunked walk: the
// "ahead_*" JSON keys and a note line.
//
// --workers N sets loom's Options::prefetch_workers (worker connections on which sibling
// prefetch levels run at the same time; 0: serial, as the hand-written program is); the
// default is loom's default.
#include <loom/loom.hpp>

#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bench {

struct Publisher;
struct Author;
struct Review;

struct Book {
    std::int64_t id = 0;
    std::string title;
    int year = 0;
    loom::ForeignKey<Publisher> publisher;
    loom::ManyToMany<Author> authors;
    loom::Reverse<Review> reviews;
};

struct Author {
    std::int64_t id = 0;
    std::string name;
    std::optional<int> born;
    loom::Reverse<Book> books;
};

struct Publisher {
    std::int64_t id = 0;
    std::string name;
    loom::Reverse<Book> books;
};

struct Review {
    std::int64_t id = 0;
    loom::ForeignKey<Book> book;
    int rating = 0;
    std::string body;
};

}  // namespace bench

namespace bench {
constexpr auto loom_model(loom::model_of<Publisher>) {
    return loom::table("publisher", loom::pk(&bench::Publisher::id),
                    loom::field(&bench::Publisher::name, "name"),
                    loom::reverse(&bench::Publisher::books, &bench::Book::publisher));
}
}  // namespace bench

namespace bench {
constexpr auto loom_model(loom::model_of<Author>) {
    return loom::table("author", loom::pk(&bench::Author::id), loom::field(&bench::Author::name, "name"),
                    loom::field(&bench::Author::born, "born"),
                    loom::reverse(&bench::Author::books, &bench::Book::authors));
}
}  // namespace bench

namespace bench {
constexpr auto loom_model(loom::model_of<Book>) {
    return loom::table(
        "book", loom::pk(&bench::Book::id), loom::field(&bench::Book::title, "title"),
        loom::field(&bench::Book::year, "year"),
        loom::foreign_key(&bench::Book::publisher, "publisher_id", loom::on_delete::cascade),
        loom::many_to_many(&bench::Book::authors, "book_authors"),
        loom::reverse(&bench::Book::reviews, &bench::Review::book));
}
}  // namespace bench

namespace bench {
constexpr auto loom_model(loom::model_of<Review>) {
    return loom::table("review", loom::pk(&bench::Review::id),
                    loom::foreign_key(&bench::Review::book, "book_id", loom::on_delete::cascade),
                    loom::field(&bench::Review::rating, "rating"),
                    loom::field(&bench::Review::body, "body"));
}
}  // namespace bench

namespace bench {

using Clock = std::chrono::steady_clock;

// ---- small utilities --------------------------------------------------------------------------

/// How loom opens the benchmark's database (--workers).
loom::Options loom_options;

[[noreturn]] void fail(const std::string& msg) { throw std::runtime_error(msg); }

/// splitmix64: a tiny deterministic PRNG (the data must be the same on every run).
struct Rng {
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    std::int64_t below(std::int64_t n) { return static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(n)); }
};

/// An order-sensitive checksum over every value a variant walked.
struct Checksum {
    std::uint64_t h = 0xcbf29ce484222325ull;
    void add(std::int64_t v) { h = (h ^ static_cast<std::uint64_t>(v)) * 0x100000001b3ull + 0x9e37; }
    void add(std::string_view s) { add(static_cast<std::int64_t>(std::hash<std::string_view>{}(s))); }
    void add(const std::optional<int>& v) { add(v ? static_cast<std::int64_t>(*v) : std::int64_t{-1}); }
};

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

/// CPU time of this (single-threaded) process: steadier than wall time on a busy machine.
double cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct Timing {
    double wall = 0, cpu = 0;
};

template <class F>
auto timed(F&& f, std::vector<Timing>& out) {
    const auto t0 = Clock::now();
    const double c0 = cpu_ms();
    auto r = f();
    out.push_back({ms_since(t0), cpu_ms() - c0});
    return r;
}

Timing median(const std::vector<Timing>& v) {
    std::vector<double> w, c;
    for (const auto& t : v) {
        w.push_back(t.wall);
        c.push_back(t.cpu);
    }
    return {median(w), median(c)};
}


long current_rss_kb() {
    long pages = 0, resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

long peak_rss_kb() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/// This process's own peak RSS since it started (VmHWM): unlike ru_maxrss, which Linux carries
/// across exec, it does not include the peak of the process that started this one (the Python
/// interpreter of bench/django_w1.py).
long own_peak_rss_kb() {
    long kb = -1;
    if (FILE* f = std::fopen("/proc/self/status", "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, f))
            if (std::sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
        std::fclose(f);
    }
    return kb >= 0 ? kb : peak_rss_kb();
}

/// Runs `fn` in a forked child and copies the trivially copyable result it returns back. The
/// parent stays small: it never opens a database nor holds workload data, so a child's peak RSS
/// is its own workload over the same small baseline.
template <class R, class Fn>
R in_child(Fn&& fn) {
    int fds[2];
    if (pipe(fds) != 0) fail("pipe() failed");
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = fork();
    if (pid < 0) fail("fork() failed");
    if (pid == 0) {
        close(fds[0]);
        int code = 0;
        try {
            R r = fn();
            const char* p = reinterpret_cast<const char*>(&r);
            std::size_t left = sizeof r;
            while (left) {
                const ssize_t w = write(fds[1], p, left);
                if (w <= 0) break;
                p += w;
                left -= static_cast<std::size_t>(w);
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "loom_benchmark: %s\n", e.what());
            code = 2;
        }
        std::fflush(stdout);
        std::fflush(stderr);
        close(fds[1]);
        _exit(code);
    }
    close(fds[1]);
    R r{};
    char* p = reinterpret_cast<char*>(&r);
    std::size_t got = 0;
    while (got < sizeof r) {
        const ssize_t n = read(fds[0], p + got, sizeof r - got);
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != sizeof r)
        fail("a measurement child process failed");
    return r;
}

// ---- the data --------------------------------------------------------------------------------

struct Sizes {
    std::int64_t books, authors, publishers;
    explicit Sizes(std::int64_t b)
        : books(b), authors(std::max<std::int64_t>(b / 5, 3)), publishers(std::max<std::int64_t>(b / 100, 1)) {}
};

constexpr int authors_per_book = 3;
constexpr int reviews_per_book = 5;

std::string words(Rng& rng, int min_len, int max_len) {
    static constexpr std::string_view syllables[] = {"lo", "om", "ra", "ven", "tal", "is", "mor",
                                                     "ka", "dun", "el", "sy", "ne", "qua", "rix"};
    const auto len = static_cast<std::size_t>(min_len + rng.below(max_len - min_len + 1));
    std::string s;
    while (s.size() < len) {
        if (!s.empty() && rng.below(4) == 0) s += ' ';
        s += syllables[rng.below(std::size(syllables))];
    }
    s.resize(len);
    return s;
}

class RawStmt {
public:
    RawStmt(sqlite3* db, const std::string& sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &s_, nullptr) != SQLITE_OK)
            fail(std::string("prepare: ") + sqlite3_errmsg(db) + " in " + sql);
    }
    RawStmt(const RawStmt&) = delete;
    RawStmt& operator=(const RawStmt&) = delete;
    ~RawStmt() { sqlite3_finalize(s_); }
    sqlite3_stmt* get() const { return s_; }
    void exec_reset() {
        if (sqlite3_step(s_) != SQLITE_DONE) fail(std::string("step: ") + sqlite3_errmsg(db_));
        sqlite3_reset(s_);
    }

private:
    sqlite3* db_;
    sqlite3_stmt* s_ = nullptr;
};

/// Creates the schema with loom (FK columns indexed) and fills it with raw inserts.
void generate(const std::string& path, std::int64_t books) {
    const Sizes n(books);
    {
        loom::Database db(path, loom_options);
        db.create_tables<Publisher, Author, Book, Review>();
    }
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) fail("cannot open " + path);
    sqlite3_exec(db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN", nullptr, nullptr, nullptr);
    Rng rng{0x10011001ull + static_cast<std::uint64_t>(books)};
    {
        RawStmt st(db, "INSERT INTO publisher (id, name) VALUES (?, ?)");
        for (std::int64_t i = 1; i <= n.publishers; ++i) {
            const std::string name = "Publisher " + std::to_string(i) + " " + words(rng, 4, 12);
            sqlite3_bind_int64(st.get(), 1, i);
            sqlite3_bind_text(st.get(), 2, name.c_str(), -1, SQLITE_TRANSIENT);
            st.exec_reset();
        }
    }
    {
        RawStmt st(db, "INSERT INTO author (id, name, born) VALUES (?, ?, ?)");
        for (std::int64_t i = 1; i <= n.authors; ++i) {
            const std::string name = words(rng, 8, 24);
            sqlite3_bind_int64(st.get(), 1, i);
            sqlite3_bind_text(st.get(), 2, name.c_str(), -1, SQLITE_TRANSIENT);
            if (rng.below(10) == 0)
                sqlite3_bind_null(st.get(), 3);
            else
                sqlite3_bind_int64(st.get(), 3, 1900 + rng.below(100));
            st.exec_reset();
        }
    }
    {
        RawStmt book(db, "INSERT INTO book (id, title, year, publisher_id) VALUES (?, ?, ?, ?)");
        RawStmt link(db, "INSERT INTO book_authors (book_id, author_id) VALUES (?, ?)");
        RawStmt review(db, "INSERT INTO review (book_id, rating, body) VALUES (?, ?, ?)");
        for (std::int64_t i = 1; i <= n.books; ++i) {
            const std::string title = words(rng, 10, 40);
            sqlite3_bind_int64(book.get(), 1, i);
            sqlite3_bind_text(book.get(), 2, title.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(book.get(), 3, 1950 + rng.below(75));
            sqlite3_bind_int64(book.get(), 4, 1 + rng.below(n.publishers));
            book.exec_reset();
            std::int64_t chosen[authors_per_book];
            for (int k = 0; k < authors_per_book; ++k) {
                std::int64_t a;
                do a = 1 + rng.below(n.authors);
                while (std::find(chosen, chosen + k, a) != chosen + k);
                chosen[k] = a;
                sqlite3_bind_int64(link.get(), 1, i);
                sqlite3_bind_int64(link.get(), 2, a);
                link.exec_reset();
            }
            for (int k = 0; k < reviews_per_book; ++k) {
                const std::string body = words(rng, 20, 80);
                sqlite3_bind_int64(review.get(), 1, i);
                sqlite3_bind_int64(review.get(), 2, 1 + rng.below(5));
                sqlite3_bind_text(review.get(), 3, body.c_str(), -1, SQLITE_TRANSIENT);
                review.exec_reset();
            }
        }
    }
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
        fail(std::string("commit: ") + sqlite3_errmsg(db));
    sqlite3_close(db);
}

// ---- the hand-written baseline ---------------------------------------------------------------

/// What a careful developer writes by hand: a connection, statements prepared once per SQL text,
/// IN lists chunked at 32,766 keys (SQLite's default variable limit). Debian's SQLite allows
/// 250,000, but a single 100,000-key list makes SQLite 3.40 plan the authors query as a scan of
/// "author" probing the join table once per (author, key) pair: billions of lookups, a run that
/// does not finish. Chunking at the default limit is what a developer does after seeing that.
class Raw {
public:
    explicit Raw(const std::string& path) {
        // The flags loom opens with: single-threaded use needs no SQLite mutex.
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                            nullptr) != SQLITE_OK)
            fail("cannot open " + path);
        limit_ = std::min<std::size_t>(
            32766, static_cast<std::size_t>(sqlite3_limit(db_, SQLITE_LIMIT_VARIABLE_NUMBER, -1)));
    }
    Raw(const Raw&) = delete;
    Raw& operator=(const Raw&) = delete;
    ~Raw() {
        for (auto& [sql, s] : cache_) sqlite3_finalize(s);
        sqlite3_close(db_);
    }
    std::size_t variable_limit() const { return limit_; }
    std::int64_t queries = 0;

    sqlite3_stmt* prepare(const std::string& sql) {
        auto it = cache_.find(sql);
        if (it != cache_.end()) return it->second;
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                               SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
            fail(std::string("prepare: ") + sqlite3_errmsg(db_) + " in " + sql);
        cache_.emplace(sql, s);
        return s;
    }
    /// Runs `sql` with `keys` bound in order (then `extra`), calling on_row for each row.
    template <class OnRow>
    void run(const std::string& sql, const std::int64_t* keys, std::size_t n, OnRow&& on_row,
             std::initializer_list<std::int64_t> extra = {}) {
        sqlite3_stmt* s = prepare(sql);
        int i = 0;
        for (std::size_t k = 0; k < n; ++k) sqlite3_bind_int64(s, ++i, keys[k]);
        for (auto v : extra) sqlite3_bind_int64(s, ++i, v);
        int rc;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) on_row(s);
        if (rc != SQLITE_DONE) fail(std::string("step: ") + sqlite3_errmsg(db_));
        sqlite3_reset(s);
        ++queries;
    }
    /// Runs head + "(?, ?, ...)" + tail once per chunk of keys.
    template <class OnRow>
    void run_in(const std::string& head, const std::string& tail,
                const std::vector<std::int64_t>& keys, OnRow&& on_row,
                std::initializer_list<std::int64_t> extra = {}) {
        const std::size_t room = limit_ - extra.size();
        for (std::size_t at = 0; at < keys.size(); at += room) {
            const std::size_t n = std::min(room, keys.size() - at);
            std::string sql = head;
            sql.reserve(head.size() + tail.size() + 3 * n);
            sql += '(';
            for (std::size_t k = 0; k < n; ++k) sql += k ? ", ?" : "?";
            sql += ')';
            sql += tail;
            run(sql, keys.data() + at, n, on_row, extra);
        }
    }

private:
    sqlite3* db_ = nullptr;
    std::size_t limit_ = 999;
    std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

inline std::string text(sqlite3_stmt* s, int c) {
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, c)),
                       static_cast<std::size_t>(sqlite3_column_bytes(s, c)));
}
inline std::optional<int> opt_int(sqlite3_stmt* s, int c) {
    if (sqlite3_column_type(s, c) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int(s, c);
}

struct HPublisher {
    std::int64_t id;
    std::string name;
};
struct HAuthor {
    std::int64_t id;
    std::string name;
    std::optional<int> born;
};
struct HReview {
    std::int64_t id;
    std::int64_t book_id;
    int rating;
    std::string body;
};
struct HBook {
    std::int64_t id;
    std::string title;
    int year;
    std::int64_t publisher_id;
    const HPublisher* publisher = nullptr;
    std::vector<const HAuthor*> authors;
    std::vector<const HReview*> reviews;
};

// The SQL below is the SQL loom issues (run with --show-sql to compare): same columns, same
// joins, same ORDER BY (to-many levels by parent key first, which walks the key's index in
// order). Only the key lists differ: exact-length IN lists here; loom pads short lists to a
// power of two and binds long ones as a JSON array.
const std::string book_sql =
    R"(SELECT t0."id", t0."title", t0."year", t0."publisher_id" FROM "book" AS t0 ORDER BY t0."id" ASC)";
const std::string publisher_head =
    R"(SELECT t0."id", t0."name" FROM "publisher" AS t0 WHERE t0."id" IN )";
const std::string publisher_tail;  // a to-one level: no ORDER BY
const std::string book_authors_head =
    R"(SELECT j."book_id", t0."id", t0."name", t0."born" FROM "author" AS t0 JOIN "book_authors" AS j ON j."author_id" = t0."id" WHERE j."book_id" IN )";
const std::string review_head =
    R"(SELECT t0."book_id", t0."id", t0."book_id", t0."rating", t0."body" FROM "review" AS t0 WHERE t0."book_id" IN )";
const std::string by_book_tail = R"( ORDER BY j."book_id" ASC, t0."id" ASC)";
const std::string reviews_tail = R"( ORDER BY t0."book_id" ASC, t0."id" ASC)";
const std::string by_author_tail = R"( ORDER BY j."author_id" ASC, t0."id" ASC)";
const std::string author_sql =
    R"(SELECT t0."id", t0."name", t0."born" FROM "author" AS t0 ORDER BY t0."id" ASC)";
const std::string author_books_head =
    R"(SELECT j."author_id", t0."id", t0."title", t0."year", t0."publisher_id" FROM "book" AS t0 JOIN "book_authors" AS j ON j."book_id" = t0."id" WHERE j."author_id" IN )";
const std::string top_reviews_head =
    R"(SELECT * FROM (SELECT t0."book_id", t0."id", t0."book_id", t0."rating", t0."body", ROW_NUMBER() OVER (PARTITION BY t0."book_id" ORDER BY t0."rating" DESC, t0."id" ASC) AS loom_rn FROM "review" AS t0 WHERE t0."book_id" IN )";
const std::string top_reviews_tail = R"() WHERE loom_rn > ? AND loom_rn <= ? ORDER BY loom_rn)";

using Index = std::unordered_map<std::int64_t, std::uint32_t>;

std::vector<HBook> read_books(Raw& raw, const std::string& sql, const std::int64_t* after = nullptr,
                              std::size_t chunk = 0) {
    std::vector<HBook> books;
    auto on_row = [&](sqlite3_stmt* s) {
        HBook& b = books.emplace_back();
        b.id = sqlite3_column_int64(s, 0);
        b.title = text(s, 1);
        b.year = sqlite3_column_int(s, 2);
        b.publisher_id = sqlite3_column_int64(s, 3);
    };
    if (after)
        raw.run(sql, nullptr, 0, on_row, {*after, static_cast<std::int64_t>(chunk)});
    else
        raw.run(sql, nullptr, 0, on_row);
    return books;
}

/// Loads the publishers of `books` (one IN query per chunk) and points each book at its own.
std::vector<HPublisher> stitch_publishers(Raw& raw, std::vector<HBook*>& books) {
    Index slot;
    std::vector<std::int64_t> ids;
    slot.reserve(books.size());
    for (HBook* b : books)
        if (slot.emplace(b->publisher_id, 0).second) ids.push_back(b->publisher_id);
    std::vector<HPublisher> pubs;
    pubs.reserve(ids.size());
    raw.run_in(publisher_head, publisher_tail, ids, [&](sqlite3_stmt* s) {
        const std::int64_t id = sqlite3_column_int64(s, 0);
        slot[id] = static_cast<std::uint32_t>(pubs.size());
        pubs.push_back({id, text(s, 1)});
    });
    for (HBook* b : books) b->publisher = &pubs[slot.at(b->publisher_id)];
    return pubs;
}

struct HandW1 {
    std::vector<HBook> books;
    std::vector<HPublisher> publishers;
    std::vector<HAuthor> authors;
    std::vector<HReview> reviews;
};

/// Prefetches publisher, authors and reviews into `books` with three IN-list queries.
void hand_prefetch_w1(Raw& raw, HandW1& r) {
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

    Index author_slot;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> links;  // (book, author)
    links.reserve(books.size() * authors_per_book);
    raw.run_in(book_authors_head, by_book_tail, ids, [&](sqlite3_stmt* s) {
        const std::uint32_t b = book_slot.at(sqlite3_column_int64(s, 0));
        const std::int64_t id = sqlite3_column_int64(s, 1);
        auto [it, fresh] = author_slot.emplace(id, static_cast<std::uint32_t>(r.authors.size()));
        if (fresh) r.authors.push_back({id, text(s, 2), opt_int(s, 3)});
        links.emplace_back(b, it->second);
    });
    for (auto [b, a] : links) books[b].authors.push_back(&r.authors[a]);

    links.clear();
    raw.run_in(review_head, reviews_tail, ids, [&](sqlite3_stmt* s) {
        const std::uint32_t b = book_slot.at(sqlite3_column_int64(s, 0));
        links.emplace_back(b, static_cast<std::uint32_t>(r.reviews.size()));
        r.reviews.push_back({sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
                             sqlite3_column_int(s, 3), text(s, 4)});
    });
    for (auto [b, v] : links) books[b].reviews.push_back(&r.reviews[v]);
}

// ---- the walks (one per workload, over loom objects and over plain structs) -----------------

template <class T> const T& deref(const T& x) { return x; }
template <class T> const T& deref(const T* x) { return *x; }

template <class B>
void walk_book_w1(Checksum& c, const B& b) {
    c.add(b.id);
    c.add(b.title);
    c.add(std::int64_t{b.year});
    c.add(b.publisher->id);
    c.add(b.publisher->name);
    for (const auto& a : b.authors) {
        const auto& x = deref(a);
        c.add(x.id);
        c.add(x.name);
        c.add(x.born);
    }
    for (const auto& v : b.reviews) {
        const auto& x = deref(v);
        c.add(x.id);
        c.add(std::int64_t{x.rating});
        c.add(x.body);
    }
}
template <class A>
void walk_author_w2(Checksum& c, const A& a) {
    c.add(a.id);
    c.add(a.name);
    c.add(a.born);
    for (const auto& bp : a.books) {
        const auto& b = deref(bp);
        c.add(b.id);
        c.add(b.title);
        c.add(std::int64_t{b.year});
        c.add(b.publisher->id);
        c.add(b.publisher->name);
    }
}

template <class B>
void walk_book_w3(Checksum& c, const B& b) {
    c.add(b.id);
    c.add(b.title);
    for (const auto& v : b.reviews) {
        const auto& x = deref(v);
        c.add(x.id);
        c.add(std::int64_t{x.rating});
        c.add(x.body);
    }
}

// ---- the workloads ---------------------------------------------------------------------------

struct Run {
    std::uint64_t checksum = 0;
    std::int64_t queries = 0;
};

// W1: books with publisher, authors and reviews.
Run w1_loom(loom::Database& db) {
    const auto before = db.query_count();
    Checksum c;
    {
        auto books = db.objects<Book>()
                         .order_by(&Book::id)
                         .prefetch_related(&Book::publisher, &Book::authors, &Book::reviews);
        for (const Book& b : books) walk_book_w1(c, b);
    }
    return {c.h, db.query_count() - before};
}

Run w1_hand(Raw& raw) {
    const auto before = raw.queries;
    Checksum c;
    {
        HandW1 r;
        r.books = read_books(raw, book_sql);
        hand_prefetch_w1(raw, r);
        for (const HBook& b : r.books) walk_book_w1(c, b);
    }
    return {c.h, raw.queries - before};
}

// W1 by hand at its leanest, for memory only (issue #20: "a plain struct per row"): the same
// queries, one plain struct per row in one vector per table, no hash map over the books (they
// come in id order: a key is found by binary search), each book's reviews a slice of the reviews (read in
// book order) and its authors a slice of one array of pointers, as loom stores them.
struct LeanBook {
    std::int64_t id;
    std::string title;
    int year;
    std::int64_t publisher_id;
    const HPublisher* publisher = nullptr;
    std::span<const HAuthor* const> authors;
    std::span<const HReview> reviews;
};

Run w1_hand_lean(Raw& raw) {
    const auto before = raw.queries;
    Checksum c;
    {
        std::vector<LeanBook> books;
        raw.run(book_sql, nullptr, 0, [&](sqlite3_stmt* s) {
            books.push_back({sqlite3_column_int64(s, 0), text(s, 1), sqlite3_column_int(s, 2),
                             sqlite3_column_int64(s, 3)});
        });
        std::vector<std::int64_t> ids;
        ids.reserve(books.size());
        for (const auto& b : books) ids.push_back(b.id);
        auto book_at = [&](std::int64_t id) {
            return static_cast<std::uint32_t>(std::lower_bound(ids.begin(), ids.end(), id) -
                                              ids.begin());
        };
        std::vector<std::int64_t> pub_ids;
        pub_ids.reserve(books.size());
        for (const auto& b : books) pub_ids.push_back(b.publisher_id);
        std::sort(pub_ids.begin(), pub_ids.end());
        pub_ids.erase(std::unique(pub_ids.begin(), pub_ids.end()), pub_ids.end());
        std::vector<HPublisher> pubs;
        pubs.reserve(pub_ids.size());
        raw.run_in(publisher_head, publisher_tail, pub_ids, [&](sqlite3_stmt* s) {
            pubs.push_back({sqlite3_column_int64(s, 0), text(s, 1)});
        });
        std::vector<std::int64_t>().swap(pub_ids);
        auto by_id = [](const auto& a, std::int64_t id) { return a.id < id; };
        std::sort(pubs.begin(), pubs.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
        for (auto& b : books) b.publisher = &*std::lower_bound(pubs.begin(), pubs.end(), b.publisher_id, by_id);

        // Authors: (book, author) links; the authors deduplicated through a map of their ids
        // (a few per book share each one: the map is small).
        std::vector<HAuthor> authors;
        std::vector<std::pair<std::uint32_t, std::uint32_t>> links;
        {
            Index author_slot;
            raw.run_in(book_authors_head, by_book_tail, ids, [&](sqlite3_stmt* s) {
                const std::int64_t id = sqlite3_column_int64(s, 1);
                auto [it, fresh] = author_slot.emplace(id, static_cast<std::uint32_t>(authors.size()));
                if (fresh) authors.push_back({id, text(s, 2), opt_int(s, 3)});
                links.emplace_back(book_at(sqlite3_column_int64(s, 0)), it->second);
            });
        }
        std::vector<const HAuthor*> author_items(links.size());
        {
            std::vector<std::uint32_t> at(books.size() + 1, 0);
            for (const auto& l : links) ++at[l.first + 1];
            for (std::size_t i = 0; i < books.size(); ++i) at[i + 1] += at[i];
            for (std::size_t i = 0; i < books.size(); ++i)
                books[i].authors = {author_items.data() + at[i], at[i + 1] - at[i]};
            for (const auto& [b, a] : links) author_items[at[b]++] = &authors[a];
        }
        std::vector<std::pair<std::uint32_t, std::uint32_t>>().swap(links);

        // Reviews in book order: each book's reviews are the next slice.
        std::vector<HReview> reviews;
        raw.run_in(review_head, reviews_tail, ids, [&](sqlite3_stmt* s) {
            reviews.push_back({sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
                               sqlite3_column_int(s, 3), text(s, 4)});
        });
        std::size_t r = 0;
        for (auto& b : books) {
            const std::size_t from = r;
            while (r < reviews.size() && reviews[r].book_id == b.id) ++r;
            b.reviews = {reviews.data() + from, r - from};
        }
        for (const LeanBook& b : books) walk_book_w1(c, b);
    }
    return {c.h, raw.queries - before};
}

Run w1_naive(loom::Database& db) {
    const auto before = db.query_count();
    Checksum c;
    auto books = db.objects<Book>().order_by(&Book::id).to_vector();
    for (Book& b : books) {
        b.publisher.load(db);
        b.authors.load(db);
        b.reviews.load(db);
        walk_book_w1(c, b);
    }
    return {c.h, db.query_count() - before};
}

// W2: authors with their books and each book's publisher.
Run w2_loom(loom::Database& db) {
    const auto before = db.query_count();
    Checksum c;
    {
        auto authors = db.objects<Author>().order_by(&Author::id).prefetch_related(
            loom::path(&Author::books, &Book::publisher));
        for (const Author& a : authors) walk_author_w2(c, a);
    }
    return {c.h, db.query_count() - before};
}

struct HAuthorW2 {
    std::int64_t id;
    std::string name;
    std::optional<int> born;
    std::vector<const HBook*> books;
};

Run w2_hand(Raw& raw) {
    const auto before = raw.queries;
    Checksum c;
    {
        std::vector<HAuthorW2> authors;
        raw.run(author_sql, nullptr, 0, [&](sqlite3_stmt* s) {
            authors.push_back({sqlite3_column_int64(s, 0), text(s, 1), opt_int(s, 2), {}});
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
        raw.run_in(author_books_head, by_author_tail, ids, [&](sqlite3_stmt* s) {
            const std::uint32_t a = author_slot.at(sqlite3_column_int64(s, 0));
            const std::int64_t id = sqlite3_column_int64(s, 1);
            auto [it, fresh] = book_slot.emplace(id, static_cast<std::uint32_t>(books.size()));
            if (fresh) {
                HBook& b = books.emplace_back();
                b.id = id;
                b.title = text(s, 2);
                b.year = sqlite3_column_int(s, 3);
                b.publisher_id = sqlite3_column_int64(s, 4);
            }
            links.emplace_back(a, it->second);
        });
        for (auto [a, b] : links) authors[a].books.push_back(&books[b]);
        std::vector<HBook*> ptrs;
        ptrs.reserve(books.size());
        for (auto& b : books) ptrs.push_back(&b);
        const auto publishers = stitch_publishers(raw, ptrs);
        for (const auto& a : authors) walk_author_w2(c, a);
    }
    return {c.h, raw.queries - before};
}

Run w2_naive(loom::Database& db) {
    const auto before = db.query_count();
    Checksum c;
    auto authors = db.objects<Author>().order_by(&Author::id).to_vector();
    for (Author& a : authors) {
        a.books.load(db);
        c.add(a.id);
        c.add(a.name);
        c.add(a.born);
        for (const Book& b : a.books) {
            // The loaded books are shared and const: the naive loop fetches each publisher by key.
            const Publisher p = db.objects<Publisher>().get(loom::col(&Publisher::id) == *b.publisher.id());
            c.add(b.id);
            c.add(b.title);
            c.add(std::int64_t{b.year});
            c.add(p.id);
            c.add(p.name);
        }
    }
    return {c.h, db.query_count() - before};
}

// W3: books with their top 3 reviews by rating (per-parent limit).
constexpr int top_n = 3;

Run w3_loom(loom::Database& db) {
    const auto before = db.query_count();
    Checksum c;
    {
        auto books = db.objects<Book>().order_by(&Book::id).prefetch_related(loom::Prefetch(
            &Book::reviews,
            db.objects<Review>().order_by(loom::desc(&Review::rating)).limit(top_n)));
        for (const Book& b : books) walk_book_w3(c, b);
    }
    return {c.h, db.query_count() - before};
}

Run w3_hand(Raw& raw) {
    const auto before = raw.queries;
    Checksum c;
    {
        auto books = read_books(raw, book_sql);
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
        raw.run_in(
            top_reviews_head, top_reviews_tail, ids,
            [&](sqlite3_stmt* s) {
                const std::uint32_t b = book_slot.at(sqlite3_column_int64(s, 0));
                links.emplace_back(b, static_cast<std::uint32_t>(reviews.size()));
                reviews.push_back({sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
                                   sqlite3_column_int(s, 3), text(s, 4)});
            },
            {0, top_n});
        for (auto [b, v] : links) books[b].reviews.push_back(&reviews[v]);
        for (const HBook& b : books) walk_book_w3(c, b);
    }
    return {c.h, raw.queries - before};
}

Run w3_naive(loom::Database& db) {
    const auto before = db.query_count();
    Checksum c;
    const auto books = db.objects<Book>().order_by(&Book::id).to_vector();
    for (const Book& b : books) {
        c.add(b.id);
        c.add(b.title);
        const auto top = db.objects<Review>()
                             .filter(loom::col(&Review::book) == b.id)
                             .order_by(loom::desc(&Review::rating))
                             .limit(top_n);
        for (const Review& r : top) {
            c.add(r.id);
            c.add(std::int64_t{r.rating});
            c.add(r.body);
        }
    }
    return {c.h, db.query_count() - before};
}

// W4: chunked iteration with the W1 prefetches (qs.chunks(n), issue #5), against the same walk
// without chunks, and a hand-written keyset-paginated walk.
template <class QS>
constexpr bool has_chunks = requires(const QS& q) { q.chunks(std::size_t{1000}); };

constexpr bool chunks_available = has_chunks<loom::QuerySet<Book>>;

// The same walk with chunks(n, loom::ahead) (issue 20): the next chunk loads on another
// thread while this one is walked.
template <class QS>
constexpr bool has_chunks_ahead =
    requires(const QS& q) { q.chunks(std::int64_t{1000}, loom::ahead); };

constexpr bool chunks_ahead_available = has_chunks_ahead<loom::QuerySet<Book>>;

template <class QS>
Run w4_loom_chunked(loom::Database& db, std::size_t chunk, bool ahead = false) {
    const auto before = db.query_count();
    Checksum c;
    if constexpr (has_chunks<QS>) {
        const QS qs = db.objects<Book>()
                          .order_by(&Book::id)
                          .prefetch_related(&Book::publisher, &Book::authors, &Book::reviews);
        if constexpr (has_chunks_ahead<QS>) {
            if (ahead) {
                for (auto&& part : qs.chunks(static_cast<std::int64_t>(chunk), loom::ahead))
                    for (const Book& b : part) walk_book_w1(c, b);
                return {c.h, db.query_count() - before};
            }
        }
        for (auto&& part : qs.chunks(chunk))
            for (const Book& b : part) walk_book_w1(c, b);
    }
    return {c.h, db.query_count() - before};
}

Run w4_hand(Raw& raw, std::size_t chunk) {
    const auto before = raw.queries;
    Checksum c;
    const std::string page_sql =
        R"(SELECT t0."id", t0."title", t0."year", t0."publisher_id" FROM "book" AS t0 WHERE t0."id" > ? ORDER BY t0."id" ASC LIMIT ?)";
    std::int64_t after = 0;
    while (true) {
        HandW1 r;
        r.books = read_books(raw, page_sql, &after, chunk);
        if (r.books.empty()) break;
        after = r.books.back().id;
        hand_prefetch_w1(raw, r);
        for (const HBook& b : r.books) walk_book_w1(c, b);
        if (r.books.size() < chunk) break;
    }
    return {c.h, raw.queries - before};
}

// ---- measuring -------------------------------------------------------------------------------

struct Options {
    std::vector<std::int64_t> sizes{1000, 10000, 100000};
    std::vector<std::string> workloads{"W1", "W2", "W3", "W4"};
    int reps = 7;
    std::size_t chunk = 1000;
    std::int64_t naive_max = 100000;
    std::string json;
    bool show_sql = false;
    std::string profile;  // run only this variant, in-process, for a profiler
    std::string generate;  // write the data set of the first size to this file and exit
    // --engine postgres (bench/postgres_bench.hpp)
    std::string engine = "sqlite";
    std::string pg_url;
    std::string pg_hand_format = "binary";
    bool naive_max_given = false;
    std::string db;        // --profile: read this file (from --generate) instead of generating
    double writer_wait = 0;  // --writer-wait SECONDS (bench/writer_wait.hpp)
};

struct Memory {
    long peak_kb = 0;      // getrusage ru_maxrss of the measuring child
    long baseline_kb = 0;  // its RSS before the workload ran
    std::uint64_t checksum = 0;
};

struct Row {
    char workload[4] = {};
    std::int64_t books = 0;
    bool skipped = false;
    int reps = 0;
    double loom_ms = 0, hand_ms = 0, naive_ms = -1, hook_ms = -1, unchunked_ms = -1;
    double loom_cpu_ms = 0, hand_cpu_ms = 0;
    std::int64_t loom_q = 0, hand_q = 0, naive_q = -1, unchunked_q = -1;
    std::uint64_t loom_ck = 0, hand_ck = 0, naive_ck = 0, unchunked_ck = 0;
    bool naive_run = false, unchunked_run = false;
    Memory loom_mem, hand_mem, unchunked_mem, lean_mem;  // lean_mem: W1 only (w1_hand_lean)
    // W4 with chunks(n, loom::ahead), interleaved with the others
    double ahead_ms = -1, ahead_cpu_ms = -1;
    std::int64_t ahead_q = -1;
    std::uint64_t ahead_ck = 0;
    bool ahead_run = false;
    Memory ahead_mem;
    bool lean_run = false;
    bool checksums_equal() const {
        return loom_ck == hand_ck && (!naive_run || naive_ck == loom_ck) &&
               (!lean_run || lean_mem.checksum == loom_ck) &&
               (!unchunked_run || unchunked_ck == loom_ck) &&
               (!ahead_run || (ahead_ck == loom_ck && ahead_mem.checksum == loom_ck)) &&
               loom_mem.checksum == loom_ck &&
               hand_mem.checksum == hand_ck;
    }
};

using LoomFn = std::function<Run(loom::Database&)>;
using HandFn = std::function<Run(Raw&)>;

struct Workload {
    LoomFn loom, naive;
    HandFn hand;
    LoomFn ahead;  // W4: the chunked walk with loom::ahead (when the tree has it)
};

Workload workload(const std::string& w, std::size_t chunk) {
    if (w == "W1") return {w1_loom, w1_naive, w1_hand};
    if (w == "W2") return {w2_loom, w2_naive, w2_hand};
    if (w == "W3") return {w3_loom, w3_naive, w3_hand};
    LoomFn ahead;
    if (chunks_ahead_available)
        ahead = [chunk](loom::Database& db) {
            return w4_loom_chunked<loom::QuerySet<Book>>(db, chunk, true);
        };
    return {[chunk](loom::Database& db) { return w4_loom_chunked<loom::QuerySet<Book>>(db, chunk); },
            w1_loom, [chunk](Raw& raw) { return w4_hand(raw, chunk); }, ahead};
}

template <class F>
Memory measure_memory(F&& f) {
    return in_child<Memory>([&] {
        Memory m;
        m.baseline_kb = current_rss_kb();
        m.checksum = f();
        m.peak_kb = peak_rss_kb();
        return m;
    });
}

/// Round trips of the last repetition, when the hand-written connection counts them (libpq's).
struct RoundTrips {
    std::int64_t loom = 0, hand = 0;
};

/// The timed part of measuring workload `w`, for either engine (HandConn: the hand-written
/// variant's connection, which `hand(raw)` runs it on): one untimed warm-up of each variant,
/// then interleaved repetitions (at least opt.reps; more at small sizes, so that each variant
/// runs for a few hundred milliseconds in all), the naive variant in the first
/// `naive_reps(reps)` of them, and W4's walk with loom::ahead when `with_ahead` (the SQLite
/// run, which measures its memory too). Fills r's times, checksums and query counts.
template <class HandConn, class HandRun, class NaiveReps>
RoundTrips repeat(const Options& opt, const std::string& w, const Workload& fns,
                  loom::Database& db, HandConn& raw, const HandRun& hand, Row& r,
                  bool with_ahead, NaiveReps&& naive_reps) {
    constexpr bool counts_trips = requires { raw.round_trips(); };
    RoundTrips trips;
    std::vector<Timing> tl, th, tn, thook, tu, ta;
    std::vector<Timing> warm;
    timed([&] { return fns.loom(db); }, warm);
    timed([&] { return hand(raw); }, warm);
    const double slowest = std::max(warm[0].wall, warm[1].wall);
    const int reps =
        std::max(opt.reps, std::min(51, static_cast<int>(300 / std::max(slowest, 0.1)) | 1));
    r.reps = reps;
    const bool naive = w != "W4" && r.books <= opt.naive_max;
    const int naive_n = naive_reps(reps);
    for (int i = 0; i < reps; ++i) {
        const auto lrt = db.round_trips();
        const Run l = timed([&] { return fns.loom(db); }, tl);
        trips.loom = db.round_trips() - lrt;
        std::int64_t hrt = 0;
        if constexpr (counts_trips) hrt = raw.round_trips();
        const Run h = timed([&] { return hand(raw); }, th);
        if constexpr (counts_trips) trips.hand = raw.round_trips() - hrt;
        r.loom_ck = l.checksum;
        r.loom_q = l.queries;
        r.hand_ck = h.checksum;
        r.hand_q = h.queries;
        if (w == "W1") {
            // The cost of a query listener: the same loom run with a hook set.
            std::int64_t seen = 0;
            db.set_query_hook([&seen](const loom::QueryEvent& e) { seen += e.rows; });
            const Run k = timed([&] { return fns.loom(db); }, thook);
            db.set_query_hook(nullptr);
            if (k.checksum != l.checksum || seen == 0) fail("W1 with a query hook differs");
        }
        if (w == "W4") {
            const Run u = timed([&] { return fns.naive(db); }, tu);
            r.unchunked_ck = u.checksum;
            r.unchunked_q = u.queries;
            r.unchunked_run = true;
            if (with_ahead && fns.ahead) {
                const Run a = timed([&] { return fns.ahead(db); }, ta);
                r.ahead_ck = a.checksum;
                r.ahead_q = a.queries;
                r.ahead_run = true;
            }
        }
        if (naive && i < naive_n) {
            const Run n = timed([&] { return fns.naive(db); }, tn);
            r.naive_ck = n.checksum;
            r.naive_q = n.queries;
            r.naive_run = true;
        }
    }
    r.loom_ms = median(tl).wall;
    r.loom_cpu_ms = median(tl).cpu;
    r.hand_ms = median(th).wall;
    r.hand_cpu_ms = median(th).cpu;
    if (!tn.empty()) r.naive_ms = median(tn).wall;
    if (!thook.empty()) r.hook_ms = median(thook).wall;
    if (!tu.empty()) r.unchunked_ms = median(tu).wall;
    if (!ta.empty()) {
        r.ahead_ms = median(ta).wall;
        r.ahead_cpu_ms = median(ta).cpu;
    }
    return trips;
}

Row measure(const Options& opt, const std::string& path, const std::string& w, std::int64_t books) {
    Row row;
    std::snprintf(row.workload, sizeof row.workload, "%s", w.c_str());
    row.books = books;
    if (w == "W4" && !chunks_available) {
        row.skipped = true;
        return row;
    }
    const Workload fns = workload(w, opt.chunk);
    // Memory first, each variant in its own child forked from the small parent.
    row.loom_mem = measure_memory([&] {
        loom::Database db(path, loom_options);
        return fns.loom(db).checksum;
    });
    row.hand_mem = measure_memory([&] {
        Raw raw(path);
        return fns.hand(raw).checksum;
    });
    if (w == "W1") {
        row.lean_mem = measure_memory([&] {
            Raw raw(path);
            return w1_hand_lean(raw).checksum;
        });
        row.lean_run = true;
    }
    if (w == "W4")
        row.unchunked_mem = measure_memory([&] {
            loom::Database db(path, loom_options);
            return fns.naive(db).checksum;
        });
    if (w == "W4" && fns.ahead)
        row.ahead_mem = measure_memory([&] {
            loom::Database db(path, loom_options);
            return fns.ahead(db).checksum;
        });
    // Times: interleaved repetitions in one child.
    return in_child<Row>([&] {
        Row r = row;
        loom::Database db(path, loom_options);
        Raw raw(path);
        repeat(opt, w, fns, db, raw, fns.hand, r, true, [books](int reps) {
            return books >= 100000 ? 1 : (books >= 10000 ? 3 : std::min(reps, 7));
        });
        return r;
    });
}

// ---- output ----------------------------------------------------------------------------------

std::string fmt_ms(double ms) {
    char buf[32];
    if (ms < 0) return "-";
    std::snprintf(buf, sizeof buf, ms < 10 ? "%.2f" : (ms < 1000 ? "%.1f" : "%.0f"), ms);
    return buf;
}

void print_header() {
    std::printf("%-4s %8s %10s %10s %6s %6s %10s %15s %5s %10s %10s %6s\n", "wl", "books",
                "loom ms", "hand ms", "ratio", "cpu", "naive ms", "queries l/h/n", "sums",
                "loom KB", "hand KB", "mem");
}

void print_row(const Row& r) {
    if (r.skipped) {
        std::printf("%-4s %8lld  skipped: chunks() not available\n", r.workload,
                    static_cast<long long>(r.books));
        return;
    }
    char q[48];
    std::snprintf(q, sizeof q, "%lld/%lld/%s", static_cast<long long>(r.loom_q),
                  static_cast<long long>(r.hand_q),
                  r.naive_run ? std::to_string(r.naive_q).c_str() : "-");
    std::printf("%-4s %8lld %10s %10s %6.2f %6.2f %10s %15s %5s %10ld %10ld %6.2f\n", r.workload,
                static_cast<long long>(r.books), fmt_ms(r.loom_ms).c_str(),
                fmt_ms(r.hand_ms).c_str(), r.loom_ms / r.hand_ms, r.loom_cpu_ms / r.hand_cpu_ms,
                fmt_ms(r.naive_ms).c_str(), q,
                r.checksums_equal() ? "ok" : "DIFF", r.loom_mem.peak_kb, r.hand_mem.peak_kb,
                static_cast<double>(r.loom_mem.peak_kb) / static_cast<double>(r.hand_mem.peak_kb));
}

void print_notes(const Row& r, std::size_t chunk) {
    if (r.skipped) return;
    if (r.hook_ms >= 0)
        std::printf("     W1 %lld books, query listener: no hook %s ms, hook set %s ms (%+.1f%%)\n",
                    static_cast<long long>(r.books), fmt_ms(r.loom_ms).c_str(),
                    fmt_ms(r.hook_ms).c_str(), 100.0 * (r.hook_ms / r.loom_ms - 1));
    if (r.lean_run)
        std::printf("     W1 %lld books, peak RSS: loom %ld KB, hand-written %ld KB (%.2f), leanest "
                    "hand-written (plain structs, slices) %ld KB (%.2f)\n",
                    static_cast<long long>(r.books), r.loom_mem.peak_kb, r.hand_mem.peak_kb,
                    static_cast<double>(r.loom_mem.peak_kb) / static_cast<double>(r.hand_mem.peak_kb),
                    r.lean_mem.peak_kb,
                    static_cast<double>(r.loom_mem.peak_kb) / static_cast<double>(r.lean_mem.peak_kb));
    if (r.unchunked_run)
        std::printf("     W4 %lld books, chunks of %zu: peak %ld KB chunked vs %ld KB unchunked "
                    "(%s ms, %lld queries)\n",
                    static_cast<long long>(r.books), chunk, r.loom_mem.peak_kb,
                    r.unchunked_mem.peak_kb, fmt_ms(r.unchunked_ms).c_str(),
                    static_cast<long long>(r.unchunked_q));
    if (r.ahead_run)
        std::printf("     W4 %lld books, chunks of %zu ahead (loom::ahead): %s ms (%.2f of serial "
                    "chunks), cpu %s ms (%.2f), peak %ld KB (%.2f), %lld queries\n",
                    static_cast<long long>(r.books), chunk, fmt_ms(r.ahead_ms).c_str(),
                    r.ahead_ms / r.loom_ms, fmt_ms(r.ahead_cpu_ms).c_str(),
                    r.ahead_cpu_ms / r.loom_cpu_ms, r.ahead_mem.peak_kb,
                    static_cast<double>(r.ahead_mem.peak_kb) /
                        static_cast<double>(r.loom_mem.peak_kb),
                    static_cast<long long>(r.ahead_q));
}

std::string json_num(double v, bool present = true) {
    if (!present) return "null";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

std::string json_line(const Row& r, std::size_t chunk) {
    std::string s = "{\"workload\": \"" + std::string(r.workload) + "\", \"books\": " +
                    std::to_string(r.books) +
                    ", \"workers\": " + std::to_string(loom_options.prefetch_workers);
    if (r.skipped) return s + ", \"skipped\": \"chunks() not available\"}";
    auto i64 = [](std::int64_t v, bool present = true) {
        return present ? std::to_string(v) : std::string("null");
    };
    s += ", \"loom_ms\": " + json_num(r.loom_ms);
    s += ", \"handwritten_ms\": " + json_num(r.hand_ms);
    s += ", \"ratio\": " + json_num(r.loom_ms / r.hand_ms);
    s += ", \"naive_ms\": " + json_num(r.naive_ms, r.naive_run);
    s += ", \"loom_cpu_ms\": " + json_num(r.loom_cpu_ms);
    s += ", \"handwritten_cpu_ms\": " + json_num(r.hand_cpu_ms);
    s += ", \"cpu_ratio\": " + json_num(r.loom_cpu_ms / r.hand_cpu_ms);
    s += ", \"repetitions\": " + std::to_string(r.reps);
    s += ", \"loom_queries\": " + i64(r.loom_q);
    s += ", \"handwritten_queries\": " + i64(r.hand_q);
    s += ", \"naive_queries\": " + i64(r.naive_q, r.naive_run);
    s += ", \"checksums_equal\": " + std::string(r.checksums_equal() ? "true" : "false");
    s += ", \"loom_peak_kb\": " + i64(r.loom_mem.peak_kb);
    s += ", \"handwritten_peak_kb\": " + i64(r.hand_mem.peak_kb);
    s += ", \"baseline_kb\": " + i64(r.loom_mem.baseline_kb);
    s += ", \"peak_ratio\": " +
         json_num(static_cast<double>(r.loom_mem.peak_kb) / static_cast<double>(r.hand_mem.peak_kb));
    if (r.lean_run) {
        s += ", \"lean_handwritten_peak_kb\": " + i64(r.lean_mem.peak_kb);
        s += ", \"lean_peak_ratio\": " + json_num(static_cast<double>(r.loom_mem.peak_kb) /
                                                     static_cast<double>(r.lean_mem.peak_kb));
    }
    if (r.hook_ms >= 0) s += ", \"loom_hook_ms\": " + json_num(r.hook_ms);
    if (r.unchunked_run) {
        s += ", \"chunk\": " + std::to_string(chunk);
        s += ", \"unchunked_ms\": " + json_num(r.unchunked_ms);
        s += ", \"unchunked_queries\": " + i64(r.unchunked_q);
        s += ", \"unchunked_peak_kb\": " + i64(r.unchunked_mem.peak_kb);
    }
    if (r.ahead_run) {
        s += ", \"ahead_ms\": " + json_num(r.ahead_ms);
        s += ", \"ahead_cpu_ms\": " + json_num(r.ahead_cpu_ms);
        s += ", \"ahead_queries\": " + i64(r.ahead_q);
        s += ", \"ahead_peak_kb\": " + i64(r.ahead_mem.peak_kb);
    }
    return s + "}";
}

void show_sql(const std::string& path) {
    loom::Database db(path, loom_options);
    auto sub = db.on_query([](const loom::QueryEvent& e) {
        // Long IN lists shortened: "(?, ?, ?, ...)".
        std::string sql(e.sql);
        const std::string many = "?, ?, ?, ?";
        if (const auto at = sql.find(many); at != std::string::npos) {
            const auto end = sql.find(')', at);
            sql.replace(at, end - at, "?, ?, ?, ...");
        }
        std::printf("  [%zu params, %lld rows] %s\n", e.params.size(),
                    static_cast<long long>(e.rows), sql.c_str());
    });
    std::printf("W1:\n");
    w1_loom(db);
    std::printf("W2:\n");
    w2_loom(db);
    std::printf("W3:\n");
    w3_loom(db);
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at <= s.size()) {
        const std::size_t comma = std::min(s.find(',', at), s.size());
        if (comma > at) out.push_back(s.substr(at, comma - at));
        at = comma + 1;
    }
    return out;
}

Options parse(int argc, char** argv) {
    Options o;
    auto need = [&](int& i) -> std::string {
        if (i + 1 >= argc) fail(std::string(argv[i]) + " needs a value");
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--sizes") {
            o.sizes.clear();
            for (auto& s : split(need(i))) {
                const long long v = std::atoll(s.c_str());
                if (v < 15) fail("--sizes: each size must be at least 15 books, got '" + s + "'");
                o.sizes.push_back(v);
            }
        } else if (a == "--workloads") {
            o.workloads = split(need(i));
            for (auto& w : o.workloads)
                if (w != "W1" && w != "W2" && w != "W3" && w != "W4")
                    fail("--workloads: unknown workload '" + w + "' (W1, W2, W3, W4)");
        } else if (a == "--reps") {
            o.reps = std::atoi(need(i).c_str());
            if (o.reps < 1) fail("--reps must be at least 1");
        } else if (a == "--chunk") {
            o.chunk = static_cast<std::size_t>(std::atoll(need(i).c_str()));
            if (o.chunk < 1) fail("--chunk must be at least 1");
        } else if (a == "--naive-max") {
            o.naive_max = std::atoll(need(i).c_str());
            o.naive_max_given = true;
        } else if (a == "--engine") {
            o.engine = need(i);
            if (o.engine != "sqlite" && o.engine != "postgres")
                fail("--engine: sqlite or postgres");
        } else if (a == "--pg-url") {
            o.pg_url = need(i);
        } else if (a == "--pg-hand-format") {
            o.pg_hand_format = need(i);
            if (o.pg_hand_format != "text" && o.pg_hand_format != "binary")
                fail("--pg-hand-format: text or binary");
        } else if (a == "--json") {
            o.json = need(i);
        } else if (a == "--profile") {
            o.profile = need(i);
            if (o.profile != "loom" && o.profile != "hand" && o.profile != "naive" &&
                o.profile != "lean")
                fail("--profile: loom, hand, naive or lean (W1 only)");
        } else if (a == "--generate") {
            o.generate = need(i);
        } else if (a == "--db") {
            o.db = need(i);
        } else if (a == "--writer-wait") {
            o.writer_wait = std::atof(need(i).c_str());
            if (!(o.writer_wait > 0)) fail("--writer-wait: seconds per round, more than 0");
        } else if (a == "--show-sql") {
            o.show_sql = true;
        } else if (a == "--workers") {
            loom_options.prefetch_workers = static_cast<std::size_t>(std::stoul(need(i)));
        } else if (a == "--quick") {
            o.sizes = {1000};
            o.chunk = 100;
        } else if (a == "--help" || a == "-h") {
            std::printf(
                "usage: loom_benchmark [--sizes 1000,10000,100000] [--workloads W1,W2,W3,W4]\n"
                "                      [--reps 7] [--chunk 1000] [--naive-max 100000]\n"
                "                      [--json FILE] [--show-sql] [--quick] [--profile loom|hand|naive]\n"
                "                      [--generate FILE]  (writes the first size's data set, exits)\n"
                "                      [--db FILE]  (with --profile: reads a --generate file)\n"
                "                      [--workers N]  (Options::prefetch_workers; 0: serial)\n"
                "                      [--writer-wait SECONDS]  (a writer's commit latency beside\n"
                "                      W1 evaluations, pool off and on; the first size)\n"
                "                      [--engine sqlite|postgres] [--pg-url URL]\n"
                "                      [--pg-hand-format text|binary]\n"
                "  --engine postgres: the server from --pg-url, else LOOM_TEST_PG_URL, else\n"
                "  LOOM_DATABASE_URL (exit status 77 when none is set); the naive loop only up to\n"
                "  10,000 books unless --naive-max says otherwise\n");
            std::exit(0);
        } else {
            fail("unknown argument '" + a + "' (see --help)");
        }
    }
    return o;
}

std::string temp_path() {
    const char* dir = std::getenv("TMPDIR");
    std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/loom_bench_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const int fd = mkstemp(buf.data());
    if (fd < 0) fail("cannot create a temporary file in " + tmpl);
    close(fd);
    return buf.data();
}

/// --profile VARIANT: no child processes, no interleaving: the one variant, reps times, so a
/// profiler (perf record, valgrind --tool=callgrind) sees only it.
int profile(const Options& opt) {
    for (const std::int64_t books : opt.sizes) {
        const std::string path = opt.db.empty() ? temp_path() : opt.db;
        if (opt.db.empty())
            in_child<int>([&] {  // keeps the generation out of the profile
                generate(path, books);
                return 0;
            });
        for (const auto& w : opt.workloads) {
            const Workload fns = workload(w, opt.chunk);
            loom::Database db(path, loom_options);
            Raw raw(path);
            std::vector<Timing> t;
            std::uint64_t sum = 0;
            for (int i = 0; i < opt.reps; ++i) {
                const Run r = timed([&] {
                    if (opt.profile == "lean") {
                        if (w != "W1") fail("--profile lean: W1 only");
                        return w1_hand_lean(raw);
                    }
                    return opt.profile == "loom"   ? fns.loom(db)
                           : opt.profile == "hand" ? fns.hand(raw)
                                                   : fns.naive(db);
                }, t);
                sum = r.checksum;
            }
            std::printf("%s %lld books, %s: median %s ms (cpu %s ms) over %d runs, checksum %016llx, "
                        "peak RSS %ld KB\n",
                        w.c_str(), static_cast<long long>(books), opt.profile.c_str(),
                        fmt_ms(median(t).wall).c_str(), fmt_ms(median(t).cpu).c_str(), opt.reps,
                        static_cast<unsigned long long>(sum), own_peak_rss_kb());
        }
        if (opt.db.empty()) std::remove(path.c_str());
    }
    return 0;
}

}  // namespace bench

#if LOOM_BENCH_POSTGRES
#include "postgres_bench.hpp"
#endif
#include "writer_wait.hpp"

namespace bench {

int main_impl(int argc, char** argv) {
    Options opt = parse(argc, argv);
    if (opt.engine == "postgres") {
#if LOOM_BENCH_POSTGRES
        if (!opt.naive_max_given) opt.naive_max = 10000;
        return pg::main(opt);
#else
        fail("--engine postgres: this loom_benchmark was built without libpq");
#endif
    }
    std::FILE* json = nullptr;
    if (!opt.json.empty()) {
        json = std::fopen(opt.json.c_str(), "w");
        if (!json) fail("cannot write " + opt.json);
    }
    if (!opt.profile.empty()) return profile(opt);
    if (opt.writer_wait > 0) return writer_wait(opt.writer_wait, opt.sizes.front());
    if (!opt.generate.empty()) {
        // For looking at the data and the query plans by hand (sqlite3 FILE).
        std::remove(opt.generate.c_str());
        generate(opt.generate, opt.sizes.front());
        std::printf("wrote %lld books to %s\n", static_cast<long long>(opt.sizes.front()),
                    opt.generate.c_str());
        return 0;
    }
    std::printf("loom_benchmark: medians of >= %d interleaved repetitions (more at small sizes); "
                "ratio = loom/hand-written wall time, cpu = the same in CPU time; KB = peak RSS "
                "of a child running the variant once\n",
                opt.reps);
    bool all_equal = true;
    bool header = false;
    for (const std::int64_t books : opt.sizes) {
        const std::string path = temp_path();
        const auto t0 = Clock::now();
        in_child<int>([&] {
            generate(path, books);
            return 0;
        });
        const Sizes n(books);
        std::printf("# %lld books, %lld authors, %lld publishers, %lld reviews: generated in %s ms\n",
                    static_cast<long long>(books), static_cast<long long>(n.authors),
                    static_cast<long long>(n.publishers),
                    static_cast<long long>(books * reviews_per_book), fmt_ms(ms_since(t0)).c_str());
        if (opt.show_sql) in_child<int>([&] {
            show_sql(path);
            return 0;
        });
        if (!header) {
            print_header();
            header = true;
        }
        std::vector<Row> rows;
        for (const auto& w : opt.workloads) {
            const Row r = measure(opt, path, w, books);
            print_row(r);
            std::fflush(stdout);
            rows.push_back(r);
            if (!r.skipped && !r.checksums_equal()) all_equal = false;
            if (json) std::fprintf(json, "%s\n", json_line(r, opt.chunk).c_str());
        }
        for (const Row& r : rows) print_notes(r, opt.chunk);
        std::remove(path.c_str());
    }
    if (json) std::fclose(json);
    if (!all_equal) {
        std::fprintf(stderr, "loom_benchmark: checksums differ between variants\n");
        return 1;
    }
    return 0;
}

}  // namespace bench

int main(int argc, char** argv) {
    try {
        return bench::main_impl(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "loom_benchmark: %s\n", e.what());
        return 2;
    }
}
