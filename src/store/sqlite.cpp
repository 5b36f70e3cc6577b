#include "store/sqlite.h"

#include <sqlite3.h>

#include <utility>

namespace herald::store {

Error sqlite_error(sqlite3* db, std::string_view path, std::string_view what) {
  std::string message = "history store ";
  message.append(path);
  message.append(": ");
  message.append(what);
  message.append(": ");
  if (db == nullptr) {
    message.append("out of memory");
  } else {
    message.append(sqlite3_errmsg(db));
    // The extended code tells a full disk (13) from an I/O error (10, with a sub-code).
    message.append(" (code ");
    message.append(std::to_string(sqlite3_extended_errcode(db)));
    message.append(")");
  }
  return Error{std::move(message)};
}

namespace {

std::string_view path_of(sqlite3* db) {
  const char* name = db == nullptr ? nullptr : sqlite3_db_filename(db, "main");
  return name == nullptr ? std::string_view("?") : std::string_view(name);
}

}  // namespace

// ---- Statement ----

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), what_(other.what_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    what_ = other.what_;
  }
  return *this;
}

void Statement::bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
}

void Statement::bind(int index, std::string_view text) {
  // SQLITE_STATIC: the caller keeps the bytes alive until the statement is reset. A null pointer
  // would bind NULL (an empty string_view often has one): "" keeps it an empty TEXT.
  const char* data = text.data() == nullptr ? "" : text.data();
  sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), SQLITE_STATIC);
}

void Statement::bind_blob(int index, std::string_view bytes) {
  // A zero-length blob with a null pointer would be bound as NULL; "" keeps it a blob.
  const char* data = bytes.empty() ? "" : bytes.data();
  sqlite3_bind_blob(stmt_, index, data, static_cast<int>(bytes.size()), SQLITE_STATIC);
}

void Statement::bind_null(int index) { sqlite3_bind_null(stmt_, index); }

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  sqlite3* db = sqlite3_db_handle(stmt_);
  return sqlite_error(db, path_of(db), what_);
}

Result<Ok> Statement::run() {
  Scope scope(*this);
  Result<bool> r = step();
  if (!r.ok()) {
    return Error{r.error()};
  }
  return Ok{};
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::column_int(int index) const {
  return sqlite3_column_int64(stmt_, index);
}

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

std::string_view Statement::column_text(int index) const {
  const unsigned char* p = sqlite3_column_text(stmt_, index);
  int n = sqlite3_column_bytes(stmt_, index);  // after column_text, as SQLite asks
  return p == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(p), n);
}

std::string_view Statement::column_blob(int index) const {
  const void* p = sqlite3_column_blob(stmt_, index);
  int n = sqlite3_column_bytes(stmt_, index);
  return p == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(p), n);
}

// ---- Database ----

Database::~Database() {
  sqlite3_close_v2(db_);
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Result<Database> Database::open(const std::string& path, int flags) {
  Database db;
  db.path_ = path;
  int rc = sqlite3_open_v2(path.c_str(), &db.db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_error(db.db_, path, "open");
  }
  sqlite3_extended_result_codes(db.db_, 1);
  return db;
}

Result<Ok> Database::exec(const char* sql, const char* what) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return error(what);
  }
  return Ok{};
}

Result<std::string> Database::pragma_text(const char* sql) {
  Result<Statement> s = prepare(sql, sql);
  if (!s.ok()) {
    return Error{s.error()};
  }
  Statement::Scope scope(*s);
  Result<bool> row = s->step();
  if (!row.ok()) {
    return Error{row.error()};
  }
  return *row ? std::string(s->column_text(0)) : std::string();
}

Result<Statement> Database::prepare(const char* sql, const char* what) {
  sqlite3_stmt* stmt = nullptr;
  // PERSISTENT: these statements live as long as the connection; SQLite keeps them out of the
  // lookaside pool meant for short-lived allocations.
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    return error(what);
  }
  return Statement(stmt, what);
}

Error Database::error(std::string_view what) const {
  return sqlite_error(db_, path_, what);
}

int64_t Database::changes() const {
  return sqlite3_changes64(db_);
}

bool Database::in_transaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

}  // namespace herald::store
