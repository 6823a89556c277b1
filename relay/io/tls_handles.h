#pragma once
// OpenSSL's TLS handles, owned the one way the tree owns C handles
// (relay/base/handle.h).
#include <openssl/ssl.h>

#include "relay/base/handle.h"

namespace tw::io {

using SslCtxPtr = Handle<SSL_CTX, SSL_CTX_free>;
using SslPtr = Handle<SSL, SSL_free>;

}  // namespace tw::io
