#pragma once
// A thin RAII layer over the SQLite C API for the history store: a connection (Database) and a
// prepared statement (Statement) that is reset after each use, so statements are prepared once and
// reused. Errors come back as Result with the database path, what was being done and SQLite's own
// message. Thread: each Database and its Statements are used by one thread at a time (connections
// are opened with SQLITE_OPEN_NOMUTEX: no per-call locking inside SQLite).

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace herald::store {

// One prepared statement. Bind parameters (1-based, like SQLite), then step() until it returns
// false; the statement is reset (and its bindings cleared) by reset(), which Scope calls on exit.
class Statement {
 public:
  Statement() = default;
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Resets the statement when it goes out of scope, so an early return never leaves a read
  // transaction open (an open read would pin the WAL and block checkpoints).
  class Scope {
   public:
    explicit Scope(Statement& s) : s_(s) {}
    ~Scope() { s_.reset(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Statement& s_;
  };

  void bind(int index, int64_t value);
  void bind(int index, std::string_view text);  // bound as TEXT, bytes as given (no copy kept)
  void bind_blob(int index, std::string_view bytes);
  void bind_null(int index);
  // true: a row is ready; false: done. An error is returned as Error with SQLite's message.
  Result<bool> step();
  // Runs a statement that returns no rows (INSERT, UPDATE, DELETE) and resets it.
  Result<Ok> run();
  void reset();

  int64_t column_int(int index) const;
  bool column_is_null(int index) const;
  std::string_view column_text(int index) const;  // valid until the next step() or reset()
  std::string_view column_blob(int index) const;

  explicit operator bool() const { return stmt_ != nullptr; }

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, const char* what) : stmt_(stmt), what_(what) {}

  sqlite3_stmt* stmt_ = nullptr;
  const char* what_ = "";  // names the statement in error messages ("insert publication")
};

// "history store PATH: WHAT: SQLite's message" for the last error on db (which may be null when
// sqlite3_open itself could not allocate one).
Error sqlite_error(sqlite3* db, std::string_view path, std::string_view what);

// One SQLite connection.
class Database {
 public:
  Database() = default;
  ~Database();
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // flags: SQLITE_OPEN_* (NOMUTEX is always added).
  static Result<Database> open(const std::string& path, int flags);

  // Runs one or more statements that return no rows (schema, pragmas, BEGIN/COMMIT).
  Result<Ok> exec(const char* sql, const char* what);
  // The single value a pragma returns, as text ("wal" for journal_mode=WAL).
  Result<std::string> pragma_text(const char* sql);
  Result<Statement> prepare(const char* sql, const char* what);

  // "history store PATH: WHAT: SQLite's message"
  Error error(std::string_view what) const;
  int64_t changes() const;
  bool in_transaction() const;
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace herald::store
