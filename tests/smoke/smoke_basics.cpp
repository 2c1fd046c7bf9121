// The small headers alone: version, fwd, errors, types, options.
#include <loom/errors.hpp>
#include <loom/fwd.hpp>
#include <loom/options.hpp>
#include <loom/types.hpp>
#include <loom/version.hpp>

int main() {
    loom::Options o;
    loom::SqlText q{"SELECT ?", {loom::Value{std::int64_t{1}}}};
    try {
        throw loom::UsageError("x");
    } catch (const loom::Error&) {
    }
    return o.busy_timeout_ms > 0 && q.params.size() == 1 ? 0 : 1;
}
