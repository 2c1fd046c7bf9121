// The definitions of session.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of session.hpp only.
#pragma once

namespace loom::detail {

LOOM_DECL void LevelFetch::fetched() {}

LOOM_DECL HeldEvent::HeldEvent(const QueryEvent& e, std::uint64_t batch_)
    : sql(e.sql),
      params(e.params.begin(), e.params.end()),
      duration(e.duration),
      rows(e.rows),
      read_only(e.read_only),
      origin(e.origin),
      error(e.error),
      serial(e.serial),
      scope(e.scope),
      start(e.start),
      connection(e.connection),
      batch(batch_) {}

LOOM_DECL QueryEvent HeldEvent::event() const {
    QueryEvent ev;
    ev.sql = sql;
    ev.params = params;
    ev.duration = duration;
    ev.rows = rows;
    ev.read_only = read_only;
    ev.origin = origin;
    ev.error = error;
    ev.serial = serial;
    ev.start = start;
    return ev;
}

LOOM_DECL Session::Session(std::unique_ptr<engine::Connection> conn, const std::string& path,
                           Options options)
    : options_(options), path_(path), conn_(std::move(conn)) {}

LOOM_DECL Session::Session(std::unique_ptr<engine::Connection> conn, const std::string& path,
                           Options options, Session& root, std::string server)
    : options_(options),
      path_(path),
      conn_(std::move(conn)),
      root_(&root),
      server_(std::move(server)) {}

LOOM_DECL Session::~Session() {
    cache_.clear();
}

// ---- running statements ----------------------------------------------------------------------

LOOM_DECL void Session::set_reopen(std::function<std::unique_ptr<engine::Connection>()> reopen) {
    reopen_ = std::move(reopen);
}

LOOM_DECL void Session::reconnect_if_lost() {
    if (depth_ != 0 || !reopen_ || !conn_->lost()) return;
    for (const auto& [sql, e] : cache_)
        if (e.busy) return;  // a statement of the old connection is still in use
    cache_.clear();
    assigns_keys_.clear();
    auto fresh = reopen_();
    conn_ = std::move(fresh);
}

LOOM_DECL Session::Handle Session::prepare(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        if (cache_.size() >= options_.statement_cache) evict_idle();
        it = cache_.emplace(std::string(sql), Entry{conn_->prepare(sql), false}).first;
    }
    Entry& e = it->second;
    if (e.busy) return Handle(conn_->prepare(sql));
    e.busy = true;
    return Handle(e.stmt.get(), &e);
}

LOOM_DECL Session::Handle Session::start_statement(std::string_view sql) {
    reconnect_if_lost();
    return prepare(sql);
}

LOOM_DECL std::int64_t Session::execute(std::string_view sql, std::string_view origin) {
    return execute(
        sql, [](Binder&) {}, origin);
}

LOOM_DECL bool Session::assigns_keys(const void* model, std::string_view raw_table,
                                     std::string_view key_column) {
    auto it = assigns_keys_.find(model);
    if (it == assigns_keys_.end())
        it = assigns_keys_.emplace(model, conn_->assigns_keys(raw_table, key_column)).first;
    return it->second;
}

// ---- one thread at a time --------------------------------------------------------------------

LOOM_DECL Session::Running::Running(Session& s, std::string_view sql, std::string_view origin)
    : s_(s), use_(s), stmt(s.start_statement(sql)), sql_(sql), origin_(origin) {
    // Reads change nothing; transaction control (read-only to the engine) ends or opens
    // work that stands, so it does not count as a read here.
    reads_ = stmt->read_only() && !is_transaction_control(sql);
    if (!s.control_) s.guard(sql, reads_);
    observed_ = !s.root_->listeners_.empty();
    if (observed_) {
        binder.record(&params_);
        start_ = std::chrono::steady_clock::now();
    }
}

LOOM_DECL Session::Running::~Running() = default;

LOOM_DECL void Session::Running::failed(const std::exception& e) noexcept {
    ++s_.root_->query_count_;
    s_.failed(e, sql_);
    // The statement's own error wins over a listener's.
    if (observed_) (void)s_.notify(*stmt, params_, start_, rows, origin_, e.what());
}

LOOM_DECL std::int64_t Session::Running::done() {
    ++s_.root_->query_count_;
    if (!stmt->read_only()) {
        ++s_.root_->writes_;
        s_.root_->last_write_ = std::chrono::steady_clock::now();
    }
    // A statement that ended the transaction (a raw COMMIT or ROLLBACK) ended loom's too.
    if (s_.depth_ > 0 && !s_.control_ && s_.aborted_.empty() && !s_.conn_->in_transaction())
        s_.abort_stack("the transaction was ended by a statement run inside it (" +
                           sql_excerpt(sql_, 80) +
                           "), which committed or rolled back what was written before it",
                       0);
    if (observed_) {
        if (auto err = s_.notify(*stmt, params_, start_, rows, origin_, {}))
            s_.listener_threw(sql_, reads_, std::move(err));
    }
    return rows;
}

// ---- calls -----------------------------------------------------------------------------------

LOOM_DECL Session::Call::Call(Session& s) : use_(s), s_(s) {
    if (s.calls_++ == 0) s.call_depth_ = s.depth_;
}

LOOM_DECL Session::Call::~Call() {
    // Ended by its own exception: that one is reported, a held listener error dropped.
    if (!finished_ && --s_.calls_ == 0) s_.held_ = {};
}

LOOM_DECL void Session::Call::finish() {
    finished_ = true;
    if (--s_.calls_ == 0 && s_.held_.error) {
        auto held = std::exchange(s_.held_, {});
        s_.throw_listener_error(held.sql, std::move(held.error));
    }
}

// ---- listeners -------------------------------------------------------------------------------

LOOM_DECL std::uint64_t Session::add_listener(QueryListener l) {
    const auto id = ++next_listener_;
    listeners_.emplace_back(id, std::move(l));
    return id;
}

LOOM_DECL void Session::set_hook(QueryListener hook) {
    remove_listener(0);
    if (hook) listeners_.emplace_back(0, std::move(hook));
}

LOOM_DECL void Session::remove_listener(std::uint64_t id) {
    std::erase_if(listeners_, [id](const auto& l) { return l.first == id; });
}

LOOM_DECL Session::OriginScope::OriginScope(Session& s, std::string_view o)
    : use_(s), s_(s), saved_(s.origin_), saved_scope_(s.scope_) {
    s.origin_ = o;
    s.scope_ = ++s.root_->next_scope_;
}

LOOM_DECL Session::OriginScope::~OriginScope() {
    s_.origin_ = saved_;
    s_.scope_ = saved_scope_;
}

// ---- transactions ----------------------------------------------------------------------------

LOOM_DECL Session::TransactionScope::TransactionScope(Session& s)
    : use_(s), s_(s), depth_(s.depth_ + 1) {
    s.begin();
}

LOOM_DECL Session::TransactionScope::~TransactionScope() {
    if (!done_) s_.rollback_noexcept();
}

LOOM_DECL void Session::TransactionScope::commit() {
    check("commit");
    Call call(s_);
    s_.commit();
    done_ = true;
    call.finish();
}

LOOM_DECL void Session::TransactionScope::rollback() {
    check("rollback");
    Call call(s_);
    done_ = true;
    s_.rollback();
    call.finish();
}

LOOM_DECL void Session::TransactionScope::check(const char* what) const {
    if (done_) throw UsageError(std::string(what) + ": this transaction already ended");
    if (s_.depth_ != depth_)
        throw UsageError(std::string(what) + ": a nested transaction is still open; end it first");
}

LOOM_DECL Session::ReadSnapshot::ReadSnapshot(Session& s, bool wanted, std::size_t siblings)
    : use_(s), s_(s) {
    if (!wanted || s.depth_ != 0) return;
    s.reconnect_if_lost();
    if (s.conn_->in_transaction()) return;
    s.begin_snapshot(siblings > 1 ? siblings - 1 : 0);
    active_ = true;
}

LOOM_DECL Session::ReadSnapshot::~ReadSnapshot() {
    if (active_) s_.end_snapshot();
}

// ---- prefetch levels at the same time --------------------------------------------------------

LOOM_DECL void Session::fetch_together(std::span<LevelFetch* const> levels) {
    const Use use(*this);
    std::vector<LevelFetch*> together;  // on this connection, with statements
    for (LevelFetch* l : levels)
        if ((!l->session || l->session == this) && !l->statements.empty()) together.push_back(l);
    if (together.size() > 1 && conn_->runs_together()) {
        // PostgreSQL: every statement of the batch in one pipeline on this connection.
        run_pipelined(together);
        for (LevelFetch* l : levels)
            if (std::find(together.begin(), together.end(), l) == together.end()) fetch_serial(*l);
        return;
    }
    std::string why;
    bool parallel = false;
    bool own_snapshot = false;
    if (together.size() > 1) {
        if (options_.prefetch_workers == 0) {
            // Serial by choice: nothing to report.
        } else if (armed_ > 0) {
            parallel = true;
        } else if (snapshot_open_) {
            why = serial_why_;
        } else if (depth_ != 0 || conn_->in_transaction()) {
            if (open_readers(1) > 0)
                why = "inside a transaction (worker connections would not see its writes)";
        } else {
            // No evaluation snapshot (prefetch_related_objects): one for this batch.
            begin_snapshot(together.size() - 1);
            own_snapshot = true;
            parallel = armed_ > 0;
            why = serial_why_;
        }
    }
    struct EndOwn {
        Session& s;
        bool on;
        ~EndOwn() {
            if (on) s.end_snapshot();
        }
    } end_own{*this, own_snapshot};
    if (parallel) {
        run_parallel(together);
        for (LevelFetch* l : levels)
            if (std::find(together.begin(), together.end(), l) == together.end()) fetch_serial(*l);
        return;
    }
    serial_note_ = together.size() > 1 ? why : std::string();
    struct ClearNote {
        Session& s;
        ~ClearNote() { s.serial_note_.clear(); }
    } clear_note{*this};
    for (LevelFetch* l : levels) fetch_serial(*l);
}

// ---- chunks loaded ahead (chunks(n, loom::ahead)) --------------------------------------------

LOOM_DECL std::unique_ptr<Session> Session::open_ahead(std::string& why) {
    const Use use(*this);
    std::unique_ptr<engine::Connection> conn;
    try {
        conn = conn_->open_reader(options_.busy_timeout_ms);
    } catch (const std::exception& e) {
        why = std::string("no second connection could be opened: ") + e.what();
        return nullptr;
    }
    if (!conn) {
        why = dialect().name == "sqlite" ? "a \":memory:\" database has no second connection"
                                         : "the " + std::string(dialect().name) +
                                               " engine has one connection per Database";
        return nullptr;
    }
    auto s = std::make_unique<Session>(std::move(conn), path_, options_);
    s->loads_for_ = &root();
    s->add_listener(
        [own = s.get()](const QueryEvent& e) { own->ahead_held_.emplace_back(e, own->batch_); });
    return s;
}

LOOM_DECL void Session::copy_settings_to(Session& ahead) const {
    ahead.options_ = options_;
    ahead.conn_->set_variable_limit(conn_->variable_limit());
}

LOOM_DECL Session::AheadThread::AheadThread(Session& own) noexcept {
    ahead_thread() = &own;
}

LOOM_DECL Session::AheadThread::~AheadThread() {
    ahead_thread() = nullptr;
}

LOOM_DECL void Session::replay(std::vector<HeldEvent>& held, int connection) {
    const Use use(*this);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> scopes;
    std::exception_ptr thrown;
    std::uint64_t stop_batch = 0;
    for (const HeldEvent& h : held) {
        if (thrown && (h.batch == 0 || h.batch != stop_batch)) break;
        ++root_->query_count_;
        if (root_->listeners_.empty()) continue;
        std::uint64_t scope = 0;
        if (h.scope != 0) {
            auto it = std::find_if(scopes.begin(), scopes.end(),
                                   [&](const auto& p) { return p.first == h.scope; });
            if (it == scopes.end()) {
                scopes.emplace_back(h.scope, ++root_->next_scope_);
                it = scopes.end() - 1;
            }
            scope = it->second;
        }
        QueryEvent ev = h.event();
        ev.scope = scope;
        ev.server = server_;
        ev.connection = connection + h.connection;
        if (auto e = deliver(ev); e && !thrown) {
            thrown = e;
            stop_batch = h.batch;
        }
    }
    held.clear();
    if (thrown) std::rethrow_exception(thrown);
}

LOOM_DECL Session::SerialNote::SerialNote(Session& s, std::string why)
    : s_(s), saved_(std::move(s.serial_note_)) {
    s.serial_note_ = std::move(why);
}

LOOM_DECL Session::SerialNote::~SerialNote() {
    s_.serial_note_ = std::move(saved_);
}

// ---- private ---------------------------------------------------------------------------------

LOOM_DECL void Session::fetch_serial(LevelFetch& l) {
    Session& s = l.session ? *l.session : *this;
    if (!l.statements.empty()) {
        OriginScope scope(s, l.origin);
        for (const auto& q : l.statements) s.run(q, [&](const Statement& st) { l.row(st); });
        // The key lists are not needed past here (a JSON array of 100,000 keys: 700 KB).
        std::vector<SqlText>().swap(l.statements);
    }
    l.fetched();
}

LOOM_DECL Statement& Session::Reader::prepare(std::string_view sql, std::size_t most) {
    auto it = cache.find(sql);
    if (it == cache.end()) {
        if (cache.size() >= most) cache.clear();
        it = cache.emplace(std::string(sql), conn->prepare(sql)).first;
    }
    return *it->second;
}

LOOM_DECL void Session::run_parallel(const std::vector<LevelFetch*>& levels) {
    std::vector<Outcome> out(levels.size());
    // Connection w runs level w first (each connection gets one), then the levels left go
    // to whichever connection is free first.
    const std::size_t workers = pool_->threads.start(std::min(armed_, levels.size() - 1));
    std::atomic<std::size_t> next{workers + 1};
    const std::size_t most = std::max<std::size_t>(options_.statement_cache, 1);
    const std::function<void(std::size_t)> job = [&](std::size_t w) {
        for (std::size_t k = w; k < levels.size();
             k = next.fetch_add(1, std::memory_order_relaxed)) {
            out[k].connection = static_cast<int>(w);
            if (w == 0) {
                fetch_recorded(*levels[k], out[k], [&](std::string_view sql, auto&& fn) {
                    auto h = prepare(sql);
                    fn(*h);
                });
            } else {
                Reader& r = pool_->readers[w - 1];
                fetch_recorded(*levels[k], out[k], [&](std::string_view sql, auto&& fn) {
                    Statement& st = r.prepare(sql, most);
                    struct Reset {
                        Statement& st;
                        ~Reset() { st.reset(); }
                    } reset{st};
                    fn(st);
                });
            }
        }
    };
    pool_->threads.run(workers, job);
    report(levels, out);
}

LOOM_DECL void Session::run_pipelined(const std::vector<LevelFetch*>& levels) {
    std::size_t total = 0;
    for (const LevelFetch* l : levels) total += l->statements.size();
    std::vector<Handle> handles;
    handles.reserve(total);
    std::vector<Statement*> stmts;
    stmts.reserve(total);
    for (const LevelFetch* l : levels)
        for (const auto& q : l->statements) {
            handles.push_back(prepare(q.sql));
            Binder binder(*handles.back(), nullptr);
            for (const auto& v : q.params) binder.value(v);
            stmts.push_back(&*handles.back());
        }
    using clock = std::chrono::steady_clock;
    std::vector<clock::time_point> ready(total);
    const auto sent = clock::now();
    if (!conn_->run_together(stmts, ready)) {  // the engine could not: one by one
        handles.clear();
        for (LevelFetch* l : levels) fetch_serial(*l);
        return;
    }
    std::vector<Outcome> out(levels.size());
    std::size_t k = 0;
    for (std::size_t i = 0; i < levels.size(); ++i) {
        LevelFetch& l = *levels[i];
        const std::size_t end = k + l.statements.size();
        try {
            for (; k < end; ++k) {
                Ran& r = out[i].ran.emplace_back();
                r.start = k ? ready[k - 1] : sent;
                const auto read_from = clock::now();
                auto finish = [&] {
                    r.duration = (ready[k] - r.start) + (clock::now() - read_from);
                };
                try {
                    while (stmts[k]->step()) {
                        ++r.rows;
                        l.row(static_cast<const Statement&>(*stmts[k]));
                    }
                } catch (const std::exception& e) {
                    finish();
                    r.error = e.what();
                    throw;
                }
                finish();
            }
            l.fetched();
        } catch (...) {
            out[i].error = std::current_exception();
        }
        k = end;
    }
    handles.clear();
    report(levels, out);
}

LOOM_DECL void Session::report(const std::vector<LevelFetch*>& levels,
                               const std::vector<Outcome>& out) {
    std::exception_ptr failed, listener;
    batch_ = ++batches_;  // an ahead session's held events remember their batch
    for (std::size_t k = 0; k < levels.size(); ++k) {
        const LevelFetch& l = *levels[k];
        const std::uint64_t scope = ++root_->next_scope_;
        for (std::size_t i = 0; i < out[k].ran.size(); ++i) {
            const Ran& r = out[k].ran[i];
            ++root_->query_count_;
            if (root_->listeners_.empty()) continue;
            QueryEvent ev;
            ev.sql = l.statements[i].sql;
            ev.params = l.statements[i].params;
            ev.duration = r.duration;
            ev.rows = r.rows;
            ev.read_only = true;
            ev.origin = l.origin;
            ev.error = r.error;
            ev.scope = scope;
            ev.start = r.start;
            ev.connection = out[k].connection;
            ev.server = server_;
            if (auto e = deliver(ev); e && !listener) listener = e;
        }
        if (out[k].error && !failed) failed = out[k].error;
    }
    batch_ = 0;
    for (LevelFetch* l : levels) std::vector<SqlText>().swap(l->statements);
    // A level's own error wins over a listener's.
    if (failed) std::rethrow_exception(failed);
    if (listener) std::rethrow_exception(listener);
}

LOOM_DECL void Session::begin_snapshot(std::size_t readers) {
    serial_why_.clear();
    std::vector<engine::Connection*> rs;
    if (readers > 0) {
        if (options_.prefetch_workers > 0) {
            readers = open_readers(std::min(readers, options_.prefetch_workers));
            for (std::size_t i = 0; i < readers; ++i) rs.push_back(pool_->readers[i].conn.get());
        }
    }
    std::string why;
    armed_ = conn_->begin_shared_snapshot(rs, why);
    if (!why.empty()) serial_why_ = why;
    snapshot_open_ = true;
}

LOOM_DECL std::size_t Session::open_readers(std::size_t n) {
    if (!pool_) pool_ = std::make_unique<Pool>();
    while (!pool_->none && pool_->readers.size() < n) {
        std::unique_ptr<engine::Connection> r;
        try {
            r = conn_->open_reader(0);
        } catch (const std::exception& e) {
            serial_why_ = std::string("a worker connection could not be opened: ") + e.what();
            break;
        }
        if (!r) {
            pool_->none = true;
            break;
        }
        pool_->readers.push_back(Reader{std::move(r), {}});
    }
    return std::min(n, pool_->readers.size());
}

LOOM_DECL void Session::end_snapshot() noexcept {
    for (std::size_t i = 0; i < armed_; ++i) {
        auto& c = *pool_->readers[i].conn;
        if (c.in_transaction() && !c.exec_noexcept("COMMIT")) c.exec_noexcept("ROLLBACK");
    }
    armed_ = 0;
    snapshot_open_ = false;
    auto& c = *conn_;
    if (c.in_transaction() && !c.exec_noexcept("COMMIT")) c.exec_noexcept("ROLLBACK");
}

LOOM_DECL Session*& Session::ahead_thread() noexcept {
    static thread_local Session* own = nullptr;
    return own;
}

LOOM_DECL void Session::begin() {
    const Use use(*this);
    const Control control(*this);
    std::string sql;
    if (depth_ == 0) {
        sql = conn_->begin_sql();
        conn_->check_file_in_place(sql);
    } else {
        sql = "SAVEPOINT loom_" + std::to_string(depth_);
        check_not_aborted(sql);
    }
    try {
        execute(sql);
    } catch (const ListenerError& e) {
        // A listener threw after BEGIN: nothing is written yet, so undo it and report the
        // listener's exception from the constructor, which leaves no scope behind.
        if (depth_ == 0) {
            conn_->exec_noexcept("ROLLBACK");
        } else {
            const std::string name = "loom_" + std::to_string(depth_);
            conn_->exec_noexcept(("ROLLBACK TO " + name).c_str());
            conn_->exec_noexcept(("RELEASE " + name).c_str());
        }
        std::rethrow_exception(e.listener_exception());
    }
    ++depth_;
}

LOOM_DECL void Session::commit() {
    const Control control(*this);
    check_not_aborted(depth_ == 1 ? "COMMIT" : "RELEASE");
    if (depth_ == 1) {
        // In WAL mode a moved file takes the commit and loses it: refuse it, roll back.
        conn_->check_file_in_place("COMMIT");
        execute("COMMIT");
    } else {
        execute("RELEASE loom_" + std::to_string(depth_ - 1));
    }
    --depth_;
}

LOOM_DECL void Session::rollback() {
    const Control control(*this);
    --depth_;
    if (!aborted_.empty() || !conn_->in_transaction()) {
        // The engine rolled everything back already: nothing is left to undo.
        if (depth_ == 0) aborted_.clear();
        return;
    }
    if (depth_ == 0) {
        execute("ROLLBACK");
    } else {
        const std::string name = "loom_" + std::to_string(depth_);
        execute("ROLLBACK TO " + name);
        execute("RELEASE " + name);
    }
}

LOOM_DECL void Session::rollback_noexcept() noexcept {
    const int target = depth_ - 1;
    try {
        Call call(*this);  // a listener error here has nowhere to go: dropped
        rollback();
    } catch (...) {
        // Another thread holds the session, or the rollback failed: leave nothing open.
        if (depth_ > target) depth_ = target;
        if (depth_ == 0) {
            aborted_.clear();
            const auto owner = root_->owner_.load(std::memory_order_acquire);
            if ((owner == std::thread::id{} || owner == std::this_thread::get_id()) &&
                conn_->in_transaction())
                conn_->exec_noexcept("ROLLBACK");
        }
    }
}

LOOM_DECL bool Session::enter() {
    if (Session* own = ahead_thread(); own && own != root_) throw ReadsElsewhere{};
    const auto me = std::this_thread::get_id();
    std::thread::id none{};
    if (root_->owner_.compare_exchange_strong(none, me, std::memory_order_acquire,
                                              std::memory_order_relaxed))
        return true;
    if (none == me) return false;  // re-entered by its own thread
    throw UsageError("this Database ('" + engine::redacted_url(path_) +
                     "') is in use by another thread: use one Database per thread (" +
                     std::string(conn_->dialect().thread_advice) +
                     "). A QuerySet belongs to its Database's thread.");
}

LOOM_DECL void Session::guard(std::string_view sql, bool reads) {
    if (depth_ > 0) {
        if (aborted_.empty() && !conn_->in_transaction())
            abort_stack("the transaction was ended outside loom", 0);
        check_not_aborted(sql);
    } else if (!reads) {
        conn_->check_file_in_place(sql);
    }
}

LOOM_DECL void Session::check_not_aborted(std::string_view sql) const {
    if (aborted_.empty()) return;
    throw TransactionAborted(aborted_ + "; this statement was not run: " + sql_excerpt(sql, 120) +
                                 ". End the transaction (its outermost loom::Transaction or "
                                 "db.transaction) and start the work again",
                             aborted_code_);
}

LOOM_DECL void Session::abort_stack(std::string why, int code) {
    aborted_ = std::move(why);
    if (aborted_.empty()) aborted_ = "?";
    aborted_code_ = code;
}

LOOM_DECL void Session::failed(const std::exception& e, std::string_view sql) noexcept {
    if (depth_ == 0 || !aborted_.empty() || conn_->in_transaction()) return;
    try {
        const auto* db_error = dynamic_cast<const DatabaseError*>(&e);
        // The engine's words, without the statement and advice the message adds.
        std::string_view what = e.what();
        what = what.substr(0, std::min(what.find(" ("), std::size_t{160}));
        abort_stack("the database rolled the transaction back after an error (" +
                        std::string(what) + ", in " + sql_excerpt(sql, 100) +
                        "): nothing written in it since BEGIN persists",
                    db_error ? db_error->code() : 0);
    } catch (...) {
        aborted_ = "the database rolled the transaction back after an error";
    }
}

LOOM_DECL void Session::listener_threw(std::string_view sql, bool reads, std::exception_ptr err) {
    // A read changed nothing, and a write inside a transaction the current call opened is
    // undone when the exception unwinds the call (bulk_insert rolls back and clears the
    // keys): nothing to misreport, the exception goes through as it is.
    if (reads || (calls_ > 0 && !control_ && depth_ > call_depth_)) std::rethrow_exception(err);
    // Otherwise the work stands (committed, or in a transaction the caller owns): report
    // it once the call is complete, saying so.
    if (calls_ > 0) {
        if (!held_.error) held_ = {sql_excerpt(sql, 120), std::move(err)};
        return;
    }
    throw_listener_error(sql_excerpt(sql, 120), std::move(err));
}

LOOM_DECL void Session::throw_listener_error(const std::string& sql, std::exception_ptr err) {
    std::string what = "(not a std::exception)";
    try {
        std::rethrow_exception(err);
    } catch (const std::exception& e) {
        what = e.what();
    } catch (...) {
    }
    throw ListenerError("a query listener threw after this statement succeeded: " + sql +
                            ". loom finished its work first and undid nothing: it " +
                            (depth_ > 0 ? "is part of the open transaction" : "is committed") +
                            ". The listener's exception: " + what,
                        std::move(err));
}

LOOM_DECL void Session::evict_idle() {
    for (auto it = cache_.begin(); it != cache_.end();) {
        if (!it->second.busy)
            it = cache_.erase(it);
        else
            ++it;
    }
}

LOOM_DECL std::exception_ptr Session::notify(const Statement& stmt,
                                             const std::vector<Value>& params,
                                             std::chrono::steady_clock::time_point start,
                                             std::int64_t rows, std::string_view origin,
                                             std::string_view error) noexcept {
    QueryEvent ev;
    ev.sql = stmt.sql();
    ev.params = params;
    ev.duration = std::chrono::steady_clock::now() - start;
    ev.rows = rows;
    ev.read_only = stmt.read_only();
    ev.changes = error.empty() && !ev.read_only ? conn_->changes() : 0;
    ev.origin = origin.empty() ? origin_ : origin;
    ev.error = error;
    ev.scope = origin.empty() ? scope_ : 0;
    ev.server = server_;
    ev.start = start;
    ev.serial = serial_note_;
    return deliver(ev);
}

LOOM_DECL std::exception_ptr Session::deliver(const QueryEvent& ev) noexcept {
    std::exception_ptr first;
    try {
        // Copy: a listener may subscribe or unsubscribe others while we call it.
        auto listeners = root_->listeners_;
        for (auto& [id, fn] : listeners) {
            try {
                fn(ev);
            } catch (...) {
                if (!first) first = std::current_exception();
            }
        }
    } catch (...) {  // copying the listeners ran out of memory
        if (!first) first = std::current_exception();
    }
    return first;
}

}  // namespace loom::detail
