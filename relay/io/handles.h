#pragma once
// libevent's handles, owned the one way the tree owns C handles
// (relay/base/handle.h): nothing in relay/io frees a handle by hand.
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "relay/base/handle.h"

namespace tw::io {

using tw::UniqueFd;
using EventBasePtr = Handle<event_base, event_base_free>;
using EventPtr = Handle<event, event_free>;
using BufferEventPtr = Handle<bufferevent, bufferevent_free>;
using ListenerPtr = Handle<evconnlistener, evconnlistener_free>;
using RateCfgPtr = Handle<ev_token_bucket_cfg, ev_token_bucket_cfg_free>;

}  // namespace tw::io
