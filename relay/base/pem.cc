#include "relay/base/pem.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <climits>

#include "relay/base/handle.h"

namespace tw {

namespace {

using BioPtr = Handle<BIO, BIO_free>;

/// A read-only memory BIO over `text` (null when it is too large for one).
BioPtr memory(std::string_view text) {
  if (text.size() > size_t(INT_MAX)) return nullptr;
  return BioPtr(BIO_new_mem_buf(text.data(), int(text.size())));
}

/// An encrypted key is refused rather than asked for on a terminal.
int noPassphrase(char*, int, int, void*) { return 0; }

bool blank(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

}  // namespace

std::optional<PemProblem> pemPairProblem(std::string_view certPem, std::string_view keyPem) {
  if (blank(certPem)) return PemProblem{PemProblemAt::Cert, "is empty"};
  if (blank(keyPem)) return PemProblem{PemProblemAt::Key, "is empty"};
  BioPtr certBio = memory(certPem);
  BioPtr keyBio = memory(keyPem);
  if (!certBio || !keyBio) return PemProblem{PemProblemAt::Cert, "cannot be read into memory"};
  Handle<X509, X509_free> cert(PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr));
  Handle<EVP_PKEY, EVP_PKEY_free> key(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, &noPassphrase, nullptr));
  ERR_clear_error();
  if (!cert) return PemProblem{PemProblemAt::Cert, "holds no PEM certificate that parses"};
  if (!key) return PemProblem{PemProblemAt::Key, "holds no unencrypted PEM private key that parses"};
  const bool match = X509_check_private_key(cert.get(), key.get()) == 1;
  ERR_clear_error();
  if (!match) return PemProblem{PemProblemAt::Key, "does not match the certificate"};
  return std::nullopt;
}

}  // namespace tw
