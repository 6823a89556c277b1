#pragma once
// OpenSSL's libcrypto handles, owned the one way the tree owns C handles
// (relay/base/handle.h). TLS handles (SSL, SSL_CTX) are in
// relay/io/tls_handles.h, beside the code that uses libssl.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include "relay/base/handle.h"

namespace tw {

// I/O and numbers
using BioPtr = Handle<BIO, BIO_free>;
using BioAddrPtr = Handle<BIO_ADDR, BIO_ADDR_free>;
using BignumPtr = Handle<BIGNUM, BN_free>;

// MACs and digests (MacEngine, JWT signatures)
using MacPtr = Handle<EVP_MAC, EVP_MAC_free>;
using MacCtxPtr = Handle<EVP_MAC_CTX, EVP_MAC_CTX_free>;
using MdPtr = Handle<EVP_MD, EVP_MD_free>;
using MdCtxPtr = Handle<EVP_MD_CTX, EVP_MD_CTX_free>;

// Keys (JWKS) and certificates
using EcdsaSigPtr = Handle<ECDSA_SIG, ECDSA_SIG_free>;
using ParamBldPtr = Handle<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = Handle<OSSL_PARAM, OSSL_PARAM_free>;
using PkeyPtr = Handle<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtxPtr = Handle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using X509Ptr = Handle<X509, X509_free>;

}  // namespace tw
