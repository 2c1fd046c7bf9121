// fuzz/fuzz_open.cpp - libFuzzer target: random bytes opened as a database file, then the
// bookstore's prefetching queries run on it. Every failure must be a loom::Error; anything
// else (a crash, a sanitizer report, another exception) is a finding.
//
//     clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Itests \
//         fuzz/fuzz_open.cpp -lsqlite3 -lfmt -o fuzz_open
//     ./fuzz_open -max_total_time=60 fuzz/corpus/open
//
// The seed corpus (fuzz/corpus/open) holds real loom databases written with a small page size
// (so that they are a few KB): the bookstore catalogue, the same in WAL mode, rows that do not
// fit their members, a dangling foreign key; see fuzz/make_seeds.cpp.
#include <loom/loom.hpp>

#include "models.hpp"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace {

std::string base_path() {
    const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return std::string(dir) + "/loom_fuzz_open_" + std::to_string(::getpid()) + ".db";
}

void remove_files(const std::string& path) {
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}

void exercise(loom::Database& db) {
    using namespace shop;
    auto books = db.objects<Book>()
                     .order_by(loom::desc(&Book::year))
                     .prefetch_related(&Book::publisher, &Book::authors, &Book::reviews)
                     .prefetch_related(loom::path(&Book::authors, &Author::books));
    std::size_t seen = 0;
    for (const Book& b : books) {
        seen += b.title.size() + b.authors.size() + b.reviews.size();
        if (const Publisher* p = b.publisher.get()) seen += p->name.size();
        for (const Author& a : b.authors) seen += a.books.size();
    }
    auto publishers = db.objects<Publisher>().prefetch_related(&Publisher::books);
    for (const Publisher& p : publishers) seen += p.books.size();
    seen += static_cast<std::size_t>(db.objects<Review>().filter(loom::col(&Review::rating) >= 4).count());
    auto employees = db.objects<Employee>().prefetch_related(&Employee::manager, &Employee::reports);
    for (const Employee& e : employees) seen += e.reports.size();
    auto samples = db.objects<Sample>().to_vector();
    seen += samples.size();
    // A write too: the file must take it or refuse it with a typed error.
    Publisher p;
    p.name = "fuzz";
    db.insert(p);
    if (seen == static_cast<std::size_t>(-1)) std::abort();  // keep the reads
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = base_path();
    remove_files(path);
    if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
        if (size && std::fwrite(data, 1, size, f) != size) std::abort();
        std::fclose(f);
    } else {
        std::abort();
    }
    try {
        loom::Database db{path, loom::Options{.busy_timeout_ms = 0}};
        exercise(db);
    } catch (const loom::Error&) {
        // A typed error is the expected outcome for a damaged file.
    }
    remove_files(path);
    return 0;
}
