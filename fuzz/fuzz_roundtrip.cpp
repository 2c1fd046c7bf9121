// fuzz/fuzz_roundtrip.cpp - libFuzzer target: random values of every column type (bool, int8,
// uint16, int, int64, double, text with any bytes, blob, an enum with any underlying value,
// optionals) go through insert, select, filter, update and bulk_insert, and must come back
// exactly as they went in. The only refusal allowed is the documented one: a NaN double is a
// DataError before anything is written (SQLite would store it as NULL).
//
//     clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Itests \
//         fuzz/fuzz_roundtrip.cpp -lsqlite3 -lfmt -o fuzz_roundtrip
//     ./fuzz_roundtrip -max_total_time=60 fuzz/corpus/roundtrip
#include <fuzzer/FuzzedDataProvider.h>

#include <loom/loom.hpp>

#include "models.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using shop::Sample;

Sample make_sample(FuzzedDataProvider& in) {
    Sample s;
    s.flag = in.ConsumeBool();
    s.tiny = in.ConsumeIntegral<std::int8_t>();
    s.small = in.ConsumeIntegral<std::uint16_t>();
    s.normal = in.ConsumeIntegral<int>();
    s.big = in.ConsumeIntegral<std::int64_t>();
    s.real = in.ConsumeFloatingPoint<double>();
    switch (in.ConsumeIntegralInRange<int>(0, 7)) {  // the doubles SQLite treats specially
        case 0: s.real = static_cast<double>(in.ConsumeIntegral<std::int64_t>()); break;
        case 1: s.real = std::nan(""); break;
        case 2: s.real = -0.0; break;
        case 3: s.real = in.ConsumeBool() ? HUGE_VAL : -HUGE_VAL; break;
        default: break;
    }
    s.text = in.ConsumeRandomLengthString(64);
    const auto blob = in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange<std::size_t>(0, 64));
    for (auto b : blob) s.data.push_back(static_cast<std::byte>(b));
    // Any value of the underlying type, enumerator or not: stored and read back as-is.
    s.color = static_cast<shop::Color>(in.ConsumeIntegral<std::int8_t>());
    if (in.ConsumeBool()) s.maybe_int = in.ConsumeIntegral<int>();
    if (in.ConsumeBool()) s.maybe_text = in.ConsumeRandomLengthString(32);
    return s;
}

[[noreturn]] void fail(const char* what, const Sample& s) {
    std::fprintf(stderr, "round trip changed %s (row %lld)\n", what, static_cast<long long>(s.id));
    std::abort();
}

void check_same(const Sample& in, const Sample& out) {
    if (out.id != in.id) fail("id", in);
    if (out.flag != in.flag) fail("flag", in);
    if (out.tiny != in.tiny) fail("tiny", in);
    if (out.small != in.small) fail("small", in);
    if (out.normal != in.normal) fail("normal", in);
    if (out.big != in.big) fail("big", in);
    if (!(out.real == in.real)) fail("real", in);  // -0.0 may come back as 0.0: equal
    if (out.text != in.text) fail("text", in);
    if (out.data != in.data) fail("data", in);
    if (out.color != in.color) fail("color", in);
    if (out.maybe_int != in.maybe_int) fail("maybe_int", in);
    if (out.maybe_text != in.maybe_text) fail("maybe_text", in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static loom::Database db{":memory:"};
    static const bool created = (shop::create_all(db), true);
    (void)created;
    FuzzedDataProvider in(data, size);

    Sample s = make_sample(in);
    if (std::isnan(s.real)) {
        try {
            db.insert(s);
        } catch (const loom::DataError&) {
            if (s.id != 0 || db.objects<Sample>().count() != 0) std::abort();
            return 0;
        }
        std::abort();  // NaN must not be stored silently
    }
    db.insert(s);
    check_same(s, db.objects<Sample>().get(loom::col(&Sample::id) == s.id));
    // Every value is a bound parameter: filtering by the exact text and blob finds the row.
    if (db.objects<Sample>()
            .filter(loom::col(&Sample::text) == s.text && loom::col(&Sample::data) == s.data &&
                    loom::col(&Sample::big) == s.big)
            .count() != 1)
        fail("filter by text, blob and big", s);

    // Update to other values, then bulk_insert a few more, all read back exactly.
    Sample t = make_sample(in);
    t.id = s.id;
    if (!std::isnan(t.real)) {
        db.update(t);
        check_same(t, db.objects<Sample>().get(loom::col(&Sample::id) == s.id));
    }
    std::vector<Sample> more;
    while (in.remaining_bytes() > 0 && more.size() < 8) {
        more.push_back(make_sample(in));
        if (std::isnan(more.back().real)) more.back().real = 0;
    }
    db.bulk_insert(more);
    for (const Sample& m : more) check_same(m, db.objects<Sample>().get(loom::col(&Sample::id) == m.id));

    db.objects<Sample>().remove();
    if (db.objects<Sample>().count() != 0) std::abort();
    return 0;
}
