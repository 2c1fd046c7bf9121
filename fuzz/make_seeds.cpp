// fuzz/make_seeds.cpp - writes the seed corpora checked in under fuzz/corpus/. Run it again
// (scripts/reliability.sh does not: the seeds are data) after a schema change:
//
//     g++ -std=c++20 -Iinclude -Itests fuzz/make_seeds.cpp -lsqlite3 -lfmt -o make_seeds
//     ./make_seeds fuzz/corpus
#include <loom/loom.hpp>

#include "models.hpp"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

/// A database file with a 512-byte page size (small seeds), the test tables and the catalogue.
void catalogue(const std::string& path, bool wal) {
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(path + suffix);
    loom::Database db{path};
    db.execute("PRAGMA page_size = 512");
    shop::create_all(db);
    shop::seed_catalogue(db);
    shop::Employee boss, worker;
    boss.name = "Boss";
    db.insert(boss);
    worker.name = "Worker";
    worker.manager = boss;
    db.insert(worker);
    shop::Sample s;
    s.flag = true;
    s.tiny = -5;
    s.small = 60000;
    s.big = -1234567890123;
    s.real = 2.5;
    s.text = "text";
    s.data = {std::byte{0}, std::byte{255}};
    s.color = shop::Color::blue;
    s.maybe_int = 7;
    db.insert(s);
    if (wal) db.execute("PRAGMA journal_mode = WAL");
}

void write(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary);
    out << bytes;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seeds <corpus dir>\n");
        return 2;
    }
    const fs::path root = argv[1];
    const fs::path open_dir = root / "open", rt_dir = root / "roundtrip";
    fs::create_directories(open_dir);
    fs::create_directories(rt_dir);

    catalogue((open_dir / "catalogue.db").string(), false);
    catalogue((open_dir / "catalogue_wal.db").string(), true);
    {
        const std::string p = (open_dir / "misfit_rows.db").string();
        catalogue(p, false);
        loom::Database db{p};
        db.execute("PRAGMA foreign_keys = OFF");
        // Values that do not fit their members, as another program could have written them.
        db.execute("UPDATE book SET year = ? WHERE id = ?", "nineteen", 1);
        db.execute("UPDATE book SET year = ? WHERE id = ?", std::int64_t{1} << 40, 2);
        db.execute("UPDATE sample SET color = ?, tiny = ?", 99, 1000);
        db.execute("UPDATE review SET book_id = ? WHERE id = ?", 2.5, 1);
    }
    {
        const std::string p = (open_dir / "dangling_key.db").string();
        catalogue(p, false);
        loom::Database db{p};
        db.execute("PRAGMA foreign_keys = OFF");
        shop::Book orphan;
        orphan.title = "Orphan";
        orphan.year = 2024;
        orphan.publisher = 999;
        db.insert(orphan);
    }
    write(open_dir / "not_a_database.txt", "this is not a database\n");
    write(open_dir / "header_only", std::string("SQLite format 3\0", 16) + std::string(84, '\0'));

    // Round-trip seeds: the fuzzer reads them as a stream of field values (see fuzz_roundtrip).
    write(rt_dir / "zeros", std::string(64, '\0'));
    write(rt_dir / "ones", std::string(64, '\xff'));
    std::string ascending;
    for (int i = 0; i < 256; ++i) ascending += static_cast<char>(i);
    write(rt_dir / "ascending", ascending);
    const char text[] = "Terry Pratchett\0Good Omens\x01\x02\x03 caf\xc3\xa9 %_\\' \"; DROP TABLE book;--";
    write(rt_dir / "text", std::string(text, sizeof text - 1));
    for (const auto& dir : {open_dir, rt_dir})
        for (const auto& e : fs::directory_iterator(dir))
            std::printf("%s: %ju bytes\n", e.path().c_str(), static_cast<std::uintmax_t>(e.file_size()));
    return 0;
}
