// A parent with no related rows has no average (SQL gives NULL): annotate_avg writes into a
// std::optional member, and into a plain integer (Post::comment_count) it does not compile.
// expect-error: annotate_avg/min/max: a parent with no related rows has no value
#include "../forum.hpp"

int main() {
    loom::Database db(":memory:");
    auto fine = db.objects<forum::Post>().annotate_avg(
        &forum::Post::comments, &forum::Comment::score, &forum::Post::score_avg);
    auto wrong = db.objects<forum::Post>().annotate_avg(
        &forum::Post::comments, &forum::Comment::score, &forum::Post::comment_count);
    return static_cast<int>(fine.sql().params.size() + wrong.sql().params.size());
}
