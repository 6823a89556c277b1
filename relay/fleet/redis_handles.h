#pragma once
// hiredis's handles, owned the one way the tree owns C handles
// (relay/base/handle.h). An async context hiredis has connected is the
// exception: hiredis frees it itself when the connection drops, and it may
// only be freed outside hiredis's callbacks, so RedisLink holds it raw once
// it is handed to the event loop (relay/fleet/redis_link.cc).
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "relay/base/handle.h"

namespace tw::fleet {

using RedisContextPtr = Handle<redisContext, redisFree>;
using RedisReplyPtr = Handle<redisReply, freeReplyObject>;
using RedisAsyncPtr = Handle<redisAsyncContext, redisAsyncFree>;

}  // namespace tw::fleet
