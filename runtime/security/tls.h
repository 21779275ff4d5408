// TlsContext: the certificate and key HTTPS is served with (--http-tls-cert, --http-tls-key),
// replaceable while the node runs (SIGHUP), as certificates are renewed.
//
// Serves TLS 1.2 and 1.3 only. Each new connection takes the context in force when it is
// accepted; connections already open keep theirs. A reload that fails (a missing file, a
// key that does not match the certificate) keeps the context in force and says why.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "kernel/core/result.h"

namespace boost::asio::ssl {
class context;
}

namespace ckv {

class TlsContext {
 public:
  // Loads the PEM certificate chain and private key; errors name the file and the reason.
  static Result<std::shared_ptr<TlsContext>> load(std::string cert_path, std::string key_path);

  // The context for a new connection.
  std::shared_ptr<boost::asio::ssl::context> current() const {
    return context_.load(std::memory_order_acquire);
  }
  // Re-reads both files; on success returns a description of the certificate.
  Result<std::string> reload();
  // The certificate's subject and expiry, for the log.
  const std::string& describe() const { return described_; }

 private:
  TlsContext(std::string cert_path, std::string key_path)
      : cert_path_(std::move(cert_path)), key_path_(std::move(key_path)) {}

  std::string cert_path_;
  std::string key_path_;
  std::string described_;
  std::atomic<std::shared_ptr<boost::asio::ssl::context>> context_;
};

}  // namespace ckv
