// <loom/profile.hpp> first: a Profile records a query and writes its HTML report.
#include <loom/profile.hpp>
#include <loom/queryset.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "smoke_models.hpp"

int main() {
    using namespace smoke;
    loom::Database db{":memory:"};
    db.create_tables<Shelf, Item>();
    loom::Profile profile(db);
    const auto shelves = db.objects<Shelf>().prefetch_related(&Shelf::items).to_vector();
    profile.stop();
    const std::string path = "smoke_profile.html";
    profile.write_html(path, "smoke");
    std::ifstream in(path);
    const std::string html{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    std::remove(path.c_str());
    return shelves.empty() && html.find("<html") != std::string::npos &&
                   html.find("smoke") != std::string::npos
               ? 0
               : 1;
}
