#pragma once
// The whole STUN/TURN codec in one include. relay_stun is pure: no sockets,
// no event loop; OpenSSL only for HMAC, digests and CRC (via relay_base).
#include "relay/stun/address_attr.h"
#include "relay/stun/attribute.h"
#include "relay/stun/builder.h"
#include "relay/stun/channel_data.h"
#include "relay/stun/constants.h"
#include "relay/stun/decode_error.h"
#include "relay/stun/fingerprint.h"
#include "relay/stun/framing.h"
#include "relay/stun/integrity.h"
#include "relay/stun/message.h"
#include "relay/stun/message_type.h"
