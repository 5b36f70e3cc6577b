#include "net/tls_session.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cassert>
#include <cstring>

namespace herald::net {
namespace {

// Where small pieces are gathered into one record before encryption, and whose bytes they are:
// a session's encrypt() ... finish_records() never interleaves with another's on one thread.
thread_local char t_record[TlsSession::kMaxRecord];
thread_local const TlsSession* t_record_owner = nullptr;

}  // namespace

// The BIO between OpenSSL and a TlsSession: reads take from the given input, writes append to
// the output buffer. Neither ever blocks, so the only "retry" is a read with no input left.
struct TlsBio {
  static int write(BIO* bio, const char* data, size_t size, size_t* written) {
    static_cast<TlsSession*>(BIO_get_data(bio))->append_output(data, size);
    *written = size;
    return 1;
  }
  static int read(BIO* bio, char* data, size_t size, size_t* read) {
    BIO_clear_retry_flags(bio);
    size_t n = static_cast<TlsSession*>(BIO_get_data(bio))->take_input(data, size);
    *read = n;
    if (n == 0) {
      BIO_set_retry_read(bio);
      return 0;
    }
    return 1;
  }
  static long ctrl(BIO* /*bio*/, int cmd, long /*num*/, void* /*ptr*/) {
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // flushing is the Stream's business
  }
  static BIO_METHOD* method() {
    static BIO_METHOD* const kMethod = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "herald-tls");
      if (m != nullptr) {
        BIO_meth_set_write_ex(m, write);
        BIO_meth_set_read_ex(m, read);
        BIO_meth_set_ctrl(m, ctrl);
      }
      return m;
    }();
    return kMethod;
  }
};

namespace {

// An SSL object reading and writing through a TlsBio of `session` (the SSL object owns the BIO).
bool attach_bio(SSL* ssl, TlsSession* session) {
  BIO* bio = BIO_new(TlsBio::method());
  if (bio == nullptr) {
    return false;
  }
  BIO_set_data(bio, session);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl, bio, bio);  // one BIO both ways; the SSL object frees it
  return true;
}

bool is_ip_literal(const std::string& host) {
  in6_addr a6{};
  in_addr a4{};
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

}  // namespace

std::unique_ptr<TlsSession> TlsSession::create_client(const TlsContext& ctx, EventLoop& loop,
                                                      const std::string& host) {
  SSL* ssl = TlsBio::method() == nullptr ? nullptr : SSL_new(ctx.native());
  if (ssl == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  std::unique_ptr<TlsSession> session(new TlsSession(ssl, loop));  // frees ssl from here on
  bool ok = attach_bio(ssl, session.get());
  SSL_set_connect_state(ssl);
  if (ok && is_ip_literal(host)) {
    // No SNI for an address (RFC 6066 3); the certificate must list it as an IP SAN.
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
  } else if (ok) {
    // SSL_set_tlsext_host_name, without the macro's C cast.
    ok = SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                  const_cast<char*>(host.c_str())) == 1;
    // Wildcards only as the whole leftmost label, never a partial one (f*.example.com).
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = ok && SSL_set1_host(ssl, host.c_str()) == 1;
  }
  if (!ok) {
    ERR_clear_error();
    return nullptr;
  }
  return session;
}

std::unique_ptr<TlsSession> TlsSession::create(const TlsContext& ctx, EventLoop& loop) {
  SSL* ssl = TlsBio::method() == nullptr ? nullptr : SSL_new(ctx.native());
  if (ssl == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  std::unique_ptr<TlsSession> session(new TlsSession(ssl, loop));  // frees ssl from here on
  if (!attach_bio(ssl, session.get())) {
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return session;
}

TlsSession::~TlsSession() {
  SSL_free(ssl_);
  if (out_ != nullptr) {
    loop_->release_bytes(out_);
  }
}

void TlsSession::append_output(const char* data, size_t size) {
  if (out_ == nullptr) {
    out_ = loop_->acquire_bytes();
    out_sent_ = 0;
  }
  out_->append(data, size);
}

size_t TlsSession::take_input(char* data, size_t size) {
  size_t n = std::min(size, in_size_);
  if (n > 0) {
    std::memcpy(data, in_, n);
    in_ += n;
    in_size_ -= n;
  }
  return n;
}

void TlsSession::consume_output(size_t n) {
  out_sent_ += n;
  if (out_ != nullptr && out_sent_ >= out_->size()) {
    loop_->release_bytes(out_);  // an idle connection holds no output buffer
    out_ = nullptr;
    out_sent_ = 0;
  }
}

TlsSession::Status TlsSession::fail() {
  error_ = ERR_peek_last_error();
  ERR_clear_error();  // the queue is per thread: leave nothing for the next connection
  failed_ = true;
  return Status::kError;
}

TlsSession::ReadResult TlsSession::read(uint8_t* out, size_t cap) {
  if (failed_) {
    return {0, Status::kError};
  }
  // SSL_get_error() reads the thread's error queue: an entry left by any other OpenSSL call on
  // this loop would turn a WANT_READ into a failure. Once per read(), i.e. per recv().
  ERR_clear_error();
  if (!handshake_done_) {
    int rc = SSL_do_handshake(ssl_);
    if (rc != 1) {
      if (SSL_get_error(ssl_, rc) == SSL_ERROR_WANT_READ) {
        return {0, Status::kWantRead};
      }
      return {0, fail()};
    }
    handshake_done_ = true;
  }
  size_t got = 0;
  while (got < cap) {
    size_t n = 0;
    int rc = SSL_read_ex(ssl_, out + got, cap - got, &n);
    if (rc == 1) {
      got += n;
      continue;
    }
    switch (SSL_get_error(ssl_, rc)) {
      case SSL_ERROR_WANT_READ:
        return {got, Status::kWantRead};
      case SSL_ERROR_ZERO_RETURN:
        return {got, Status::kClosed};
      default:
        return {got, fail()};
    }
  }
  return {got, Status::kOk};
}

bool TlsSession::write_record(const char* data, size_t size) {
  size_t written = 0;
  if (SSL_write_ex(ssl_, data, size, &written) != 1 || written != size) {
    fail();
    return false;
  }
  return true;
}

size_t TlsSession::encrypt(const iovec* pieces, int count, size_t max_bytes) {
  if (!handshake_done_ || failed_) {
    return 0;
  }
  assert(staged_ == 0 || t_record_owner == this);
  size_t taken = 0;  // plaintext encrypted or staged by this call
  for (int i = 0; i < count && taken < max_bytes; ++i) {
    const char* p = static_cast<const char*>(pieces[i].iov_base);
    size_t rest = pieces[i].iov_len;
    while (rest > 0 && taken < max_bytes) {
      size_t budget = max_bytes - taken;
      if (staged_ == 0 && rest >= kMaxRecord && budget >= kMaxRecord) {
        // Whole records straight from the (shared) buffer: no copy.
        size_t n = std::min(rest, budget) / kMaxRecord * kMaxRecord;
        if (!write_record(p, n)) {
          return taken;
        }
        taken += n;
        p += n;
        rest -= n;
        continue;
      }
      size_t n = std::min({rest, kMaxRecord - staged_, budget});
      std::memcpy(t_record + staged_, p, n);
      t_record_owner = this;
      staged_ = static_cast<uint16_t>(staged_ + n);
      taken += n;
      p += n;
      rest -= n;
      if (staged_ == kMaxRecord) {
        staged_ = 0;
        if (!write_record(t_record, kMaxRecord)) {
          return taken;
        }
      }
    }
  }
  return taken;
}

void TlsSession::finish_records() {
  if (staged_ > 0 && !failed_) {
    assert(t_record_owner == this);
    size_t n = staged_;
    staged_ = 0;
    write_record(t_record, n);
  }
  staged_ = 0;
}

bool TlsSession::close_notify() {
  if (!handshake_done_ || failed_ || close_notify_sent_) {
    return false;
  }
  close_notify_sent_ = true;
  if (SSL_shutdown(ssl_) < 0) {
    ERR_clear_error();
  }
  return output_size() > 0;
}

std::string_view TlsSession::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return data == nullptr ? std::string_view()
                         : std::string_view(reinterpret_cast<const char*>(data), len);
}

const char* TlsSession::error_reason() const {
  const char* reason = error_ != 0 ? ERR_reason_error_string(error_) : nullptr;
  return reason != nullptr ? reason : "connection failed";
}

std::string TlsSession::failure() const {
  std::string line = error_reason();
  long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    line += ": ";
    line += X509_verify_cert_error_string(verify);
  }
  return line;
}

}  // namespace herald::net
