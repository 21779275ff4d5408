#include "runtime/security/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/context.hpp>
#include <cstdio>

namespace ckv {
namespace ssl = boost::asio::ssl;
namespace {

// OpenSSL's last error, as one line.
std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

// "CN=node1.example (expires Mar  1 12:00:00 2027 GMT)"
std::string describe_certificate(SSL_CTX* ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (cert == nullptr) return "no certificate";
  char subject[256] = {};
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject - 1);
  std::string out = subject;
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio != nullptr) {
    if (ASN1_TIME_print(bio, X509_get0_notAfter(cert)) == 1) {
      char* data = nullptr;
      long size = BIO_get_mem_data(bio, &data);
      out += " (expires " + std::string(data, static_cast<size_t>(size)) + ")";
    }
    BIO_free(bio);
  }
  return out;
}

Result<std::shared_ptr<ssl::context>> make_context(const std::string& cert_path,
                                                   const std::string& key_path) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  // A key with a passphrase is refused, rather than prompted for on the terminal (which
  // would stall the thread reloading it on SIGHUP).
  SSL_CTX_set_default_passwd_cb(native, [](char*, int, int, void*) { return 0; });
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(native, cert_path.c_str()) != 1) {
    return Error{ErrorCode::kInvalidArgument,
                 "cannot use the certificate " + cert_path + ": " + openssl_error()};
  }
  if (SSL_CTX_use_PrivateKey_file(native, key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_error()) != X509_R_KEY_VALUES_MISMATCH) {
      return Error{ErrorCode::kInvalidArgument,
                   "cannot use the private key " + key_path + ": " + openssl_error()};
    }
    ERR_clear_error();
    return Error{ErrorCode::kInvalidArgument,
                 "the private key " + key_path + " does not match the certificate " + cert_path};
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return Error{ErrorCode::kInvalidArgument,
                 "the private key " + key_path + " does not match the certificate " + cert_path};
  }
  return ctx;
}

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::load(std::string cert_path, std::string key_path) {
  std::shared_ptr<TlsContext> tls(new TlsContext(std::move(cert_path), std::move(key_path)));
  auto described = tls->reload();
  if (!described) return described.error();
  return tls;
}

Result<std::string> TlsContext::reload() {
  auto ctx = make_context(cert_path_, key_path_);
  if (!ctx) return ctx.error();
  described_ = describe_certificate((*ctx)->native_handle());
  context_.store(std::move(*ctx), std::memory_order_release);
  return described_;
}

}  // namespace ckv
