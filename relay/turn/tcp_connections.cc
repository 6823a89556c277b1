#include "relay/turn/tcp_connections.h"

namespace tw::turn {

TcpConnection& TcpConnectionTable::insert(const TcpConnection& c) {
  return byId_.insert_or_assign(c.id, c).first->second;
}

TcpConnection* TcpConnectionTable::find(uint32_t id) {
  auto it = byId_.find(id);
  return it == byId_.end() ? nullptr : &it->second;
}

void TcpConnectionTable::erase(uint32_t id) {
  byId_.erase(id);
  dir_->release(id);
}

const TcpConnection* TcpConnectionTable::findPeer(std::span<const uint32_t> ids,
                                                  const SocketAddress& peer) const {
  for (uint32_t id : ids) {
    auto it = byId_.find(id);
    if (it != byId_.end() && it->second.peer == peer) return &it->second;
  }
  return nullptr;
}

std::vector<uint32_t> TcpConnectionTable::expired(Instant now) const {
  std::vector<uint32_t> out;
  for (const auto& [id, c] : byId_)
    if (c.state != TcpState::Bound && now >= c.deadline) out.push_back(id);
  return out;
}

}  // namespace tw::turn
