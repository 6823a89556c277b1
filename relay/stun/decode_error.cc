#include "relay/stun/decode_error.h"

namespace tw::stun {

std::string_view toString(DecodeError e) {
  switch (e) {
    case DecodeError::TooShort:
      return "too_short";
    case DecodeError::NotStun:
      return "not_stun";
    case DecodeError::BadMagicCookie:
      return "bad_magic_cookie";
    case DecodeError::BadLength:
      return "bad_length";
    case DecodeError::AttributeOverrun:
      return "attribute_overrun";
    case DecodeError::BadAttributeOrder:
      return "bad_attribute_order";
    case DecodeError::BadFingerprint:
      return "bad_fingerprint";
    case DecodeError::TooManyAttributes:
      return "too_many_attributes";
    case DecodeError::BadAttributeLength:
      return "bad_attribute_length";
  }
  return "unknown";
}

}  // namespace tw::stun
